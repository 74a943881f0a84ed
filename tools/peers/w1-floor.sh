#!/usr/bin/env bash
# W1 (bulk load, durable commits of 1,000) of Cairn's store and LMDB beside the floor: the same
# records encoded with the harness's codec and appended to a file, one force per batch, no index
# (tools/peers/W1Floor.java). Each run is a fresh JVM with the harness's flags, the three in turn.
#
#   tools/peers/w1-floor.sh [N] [RUNS]       default: N=1000000, RUNS=5
#
# Needs the harness built by tools/peers/run.sh in $PEERS_WORK (default /tmp/cairn-storage-peers).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${PEERS_WORK:-/tmp/cairn-storage-peers}"
jdk="${BENCH_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
N="${1:-1000000}"
RUNS="${2:-5}"
[ -f "$work/target/lib/cairn-peers.jar" ] || { echo "run tools/peers/run.sh first (no harness in $work)" >&2; exit 1; }
cp="$work/target/storage-peers.jar:$(ls "$work"/target/lib/*.jar | tr '\n' ':')"
flags=(-Xmx4g -XX:+UseG1GC --enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow)
out="$(mktemp)"
classes="$(mktemp -d)"
trap 'rm -rf "$out" "$classes"' EXIT
"$jdk/bin/javac" --release 25 -d "$classes" -cp "$cp" "$root/tools/peers/W1Floor.java"
for run in $(seq "$RUNS"); do
  for store in floor lmdb bench.stores.CairnStore; do
    "$jdk/bin/java" "${flags[@]}" -cp "$cp:$classes" W1Floor "$store" "$N" | tee -a "$out"
  done
done
echo "medians (min-max) over $RUNS runs, records/s:"
for store in floor lmdb bench.stores.CairnStore; do
  grep "^$store " "$out" | awk '{print $2}' | sort -n | awk -v s="$store" '{v[NR]=$1} END {printf "  %-24s %9.0f (%.0f-%.0f)\n", s, v[int((NR+1)/2)], v[1], v[NR]}'
done
