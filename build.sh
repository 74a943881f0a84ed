#!/usr/bin/env bash
# Cairn build: compile, package, test, run, bench. No build tool beyond the JDK;
# Maven is used only to fetch the three test jars once (see fetch_test_jars).
set -euo pipefail
cd "$(dirname "$0")"

BUILD=build
CACHE=.cache/testlib
TEST_JARS=(
  org.junit.platform:junit-platform-console-standalone:1.14.1
  net.jqwik:jqwik-api:1.9.3
  net.jqwik:jqwik-engine:1.9.3
)

java_major() { "$1/bin/java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }

find_jdk() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/javac" ]] && (( $(java_major "$JAVA_HOME") >= 25 )); then
    echo "$JAVA_HOME"; return
  fi
  local d
  for d in /usr/lib/jvm/temurin-25* /usr/lib/jvm/*-25* /usr/lib/jvm/*; do
    if [[ -x "$d/bin/javac" ]] && (( $(java_major "$d" || echo 0) >= 25 )); then echo "$d"; return; fi
  done
  echo "build.sh: no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm)." >&2
  echo "Install Temurin 25 (e.g. apt-get install temurin-25-jdk) or set JAVA_HOME to a JDK >= 25." >&2
  exit 2
}

JDK=$(find_jdk)
JAVA="$JDK/bin/java"
JAVAC="$JDK/bin/javac"
JAR="$JDK/bin/jar"

compile_main() {
  rm -rf "$BUILD/classes"
  mkdir -p "$BUILD/classes"
  find src/main/java -name '*.java' > "$BUILD/main-sources.txt"
  # -XDstringConcat=inline: string concatenation as plain StringBuilder code, as the JDK builds
  # java.base. The default (invokedynamic) links each concatenation site the first time it runs,
  # ~0.5-6 ms per site on a cold path; an open of a database runs several (measured: W6).
  "$JAVAC" --release 25 -XDstringConcat=inline -Xlint:all -Werror -encoding UTF-8 -d "$BUILD/classes" @"$BUILD/main-sources.txt"
  if [[ -d src/main/resources ]]; then cp -r src/main/resources/. "$BUILD/classes/"; fi
  cp tools/inspect.jsh "$BUILD/classes/dev/cairn/tools/"   # InspectLauncher reads it from the jar
  "$JAR" --create --file "$BUILD/cairn.jar" --main-class dev.cairn.tools.Main -C "$BUILD/classes" .
}

fetch_test_jars() {
  mkdir -p "$CACHE"
  local a name
  for a in "${TEST_JARS[@]}"; do
    IFS=: read -r _ name version <<< "$a"
    if [[ ! -f "$CACHE/$name-$version.jar" ]]; then
      command -v mvn >/dev/null || { echo "build.sh: Maven (mvn) is needed once to fetch $a" >&2; exit 2; }
      mvn -q dependency:copy -Dartifact="$a" -DoutputDirectory="$CACHE" >&2
    fi
  done
}

test_classpath() { echo "$BUILD/test-classes:$BUILD/classes:$(ls "$CACHE"/*.jar | grep -v console-standalone | tr '\n' ':')"; }

compile_tests() {
  fetch_test_jars
  rm -rf "$BUILD/test-classes"
  mkdir -p "$BUILD/test-classes"
  find src/test/java -name '*.java' > "$BUILD/test-sources.txt"
  "$JAVAC" --release 25 -Xlint:all,-processing,-serial,-try -Werror -encoding UTF-8 \
    -cp "$(test_classpath):$(ls "$CACHE"/junit-platform-console-standalone-*.jar)" -d "$BUILD/test-classes" @"$BUILD/test-sources.txt"
  if [[ -d src/test/resources ]]; then cp -r src/test/resources/. "$BUILD/test-classes/"; fi
}

# Runs the JUnit console launcher and ends with "tests: N passed, N failed[, N skipped]".
# Extra arguments go to the launcher (e.g. --select-class=dev.cairn.store.BTreeTest).
# CAIRN_LONG=1 runs the suites tagged "long" too; the default excludes them.
run_tests() {
  local log="$BUILD/test-output.txt" tags=()
  if [[ "${CAIRN_LONG:-0}" == 1 ]]; then tags=(); else tags=(--exclude-tag=long); fi
  local selectors=("$@")
  (( ${#selectors[@]} )) || selectors=(--scan-classpath "$BUILD/test-classes")
  set +e
  "$JAVA" -ea -Dcairn.verify=all -Xss4m -XX:+UseParallelGC \
    -Djqwik.failures.after.default=PREVIOUS_SEED -Djqwik.seeds.whenfixed=WARN \
    -Djqwik.database="$BUILD/jqwik-database" \
    -jar "$CACHE"/junit-platform-console-standalone-*.jar execute \
    --class-path "$(test_classpath)" --disable-banner --details=summary \
    --details-theme=ascii --include-classname='^(Test.*|.+[.$]Test.*|.*Tests?|.*Properties)$' "${tags[@]}" "${selectors[@]}" 2>&1 | tee "$log"
  set -e
  local ok failed skipped aborted
  ok=$(sed -nE 's/.*\[ *([0-9]+) tests successful *\].*/\1/p' "$log" | tail -1)
  failed=$(sed -nE 's/.*\[ *([0-9]+) tests failed *\].*/\1/p' "$log" | tail -1)
  skipped=$(sed -nE 's/.*\[ *([0-9]+) tests skipped *\].*/\1/p' "$log" | tail -1)
  aborted=$(sed -nE 's/.*\[ *([0-9]+) tests aborted *\].*/\1/p' "$log" | tail -1)
  ok=${ok:-0}; failed=${failed:-0}; skipped=$(( ${skipped:-0} + ${aborted:-0} ))
  if [[ "$skipped" != 0 ]]; then
    echo "tests: $ok passed, $failed failed, $skipped skipped"
  else
    echo "tests: $ok passed, $failed failed"
  fi
  if [[ "$failed" != 0 || "$ok" == 0 ]]; then return 1; fi
}

usage() {
  cat <<'USAGE'
usage: ./build.sh [jar|test|run|bench|clean] [args]
  jar     compile src/main/java and write build/cairn.jar (default)
  test    compile and run every test; ends with "tests: N passed, N failed"
          (CAIRN_LONG=1 also runs the long soak/crash suites; extra args go to
          the JUnit console launcher, e.g. --select-class=dev.cairn.store.BTreeTest)
  run     build and run the demo (a parts inventory in ./cairn-data)
  bench   build and run the benchmarks: bench [store|typed|codec|sync|all] [N]
          (workloads of ../shared/bench/WORKLOAD.md; N defaults to 1,000,000, and
          to 100,000 for sync, whose second argument is S5's seconds, 30)
  clean   remove build/
USAGE
}

cmd=${1:-jar}
(( $# )) && shift
case "$cmd" in
  jar)   compile_main ;;
  test)  compile_main; compile_tests; run_tests "$@" ;;
  run)   compile_main; exec "$JAVA" -jar "$BUILD/cairn.jar" demo "${@:-./cairn-data}" ;;
  bench) compile_main; compile_tests
         exec "$JAVA" -Xmx4g -XX:+UseG1GC -cp "$(test_classpath):$(ls "$CACHE"/junit-platform-console-standalone-*.jar)" \
           dev.cairn.bench.Bench "$@" ;;
  clean) rm -rf "$BUILD" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
