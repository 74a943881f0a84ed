#!/usr/bin/env bash
# Measures Cairn's store in the shared storage-peers harness (../shared/bench/storage-peers), side
# by side with the peers, in one run.sh invocation so that the ratios come from the same session.
#
#   tools/peers/run.sh [N] [store...]     default: N=1000000, stores: cairn lmdb sqlite
#
# Copies the harness to $PEERS_WORK (default /tmp/cairn-storage-peers), builds build/cairn.jar,
# compiles tools/peers/CairnStore.java against both and puts them on the harness class path.
# Environment as for the harness's run.sh (RUNS, HARNESS_ARGS, RUN_TIMEOUT); CAIRN_JAR to measure
# another build of Cairn. Results: $PEERS_WORK/results/summary.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
harness="${PEERS_HARNESS:-$root/../shared/bench/storage-peers}"
work="${PEERS_WORK:-/tmp/cairn-storage-peers}"
jdk="${BENCH_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"

N="${1:-1000000}"
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then stores=("$@"); else stores=(cairn lmdb sqlite); fi
for i in "${!stores[@]}"; do [ "${stores[$i]}" = cairn ] && stores[$i]=bench.stores.CairnStore; done

if [ -z "${CAIRN_JAR:-}" ]; then
  "$root/build.sh" jar >/dev/null
  CAIRN_JAR="$root/build/cairn.jar"
fi
mkdir -p "$work"
tar -C "$harness" --exclude ./target --exclude ./results -cf - . | tar -C "$work" -xf -
(cd "$work" && JAVA_HOME="$jdk" mvn -q -B package)
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
"$jdk/bin/javac" --release 25 -d "$classes" -cp "$work/target/storage-peers.jar:$CAIRN_JAR" "$root/tools/peers/CairnStore.java"
cp "$CAIRN_JAR" "$work/target/lib/cairn.jar"
"$jdk/bin/jar" --create --file "$work/target/lib/cairn-peers.jar" -C "$classes" .
cd "$work" && ./run.sh "$N" "${stores[@]}"
