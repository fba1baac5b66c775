#!/usr/bin/env bash
# The Kotlin bindings, tested on the JVM as the Android app uses them: builds eropaf-ffi for
# this machine, generates the Kotlin bindings with the workspace's own uniffi-bindgen, and
# runs the Maven project in android/jvm-tests (JUnit 5 over JNA) against a real relay
# (`eropaf relay serve`) on loopback. Prints Surefire's summary; the last line is
# `jvm tests: N passed, M failed` for scripts/test.sh to add to its total.
# EROPAF_PROFILE=release runs the tests on an optimised library (for the call cost numbers).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# The whole workspace (the library, `eropaf` for the relay, uniffi-bindgen): one set of unified
# features, as ios/generate-swift.sh builds it, so neither rebuilds what the other built.
cargo build --locked --workspace
target_dir="${CARGO_TARGET_DIR:-$root/target}"
lib_dir="$target_dir/debug"
if [ "${EROPAF_PROFILE:-debug}" = release ]; then
    cargo build --locked --release -p eropaf-ffi
    lib_dir="$target_dir/release"
fi
case "$(uname -s)" in
    Darwin) library="$lib_dir/liberopaf_ffi.dylib" ;;
    *) library="$lib_dir/liberopaf_ffi.so" ;;
esac

bindings="$root/android/jvm-tests/target/generated-sources/uniffi"
rm -rf "$bindings"
"$target_dir/debug/uniffi-bindgen" generate --library "$library" --language kotlin --out-dir "$bindings"

cd android/jvm-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
mvn -B --no-transfer-progress -Dstyle.color=never test \
    -Deropaf.lib.dir="$lib_dir" \
    -Deropaf.bindings.dir="$bindings" \
    -Deropaf.bin="$target_dir/debug/eropaf" 2>&1 | tee "$log" || status=$?

# Surefire's closing summary, e.g. "Tests run: 21, Failures: 0, Errors: 0, Skipped: 0".
summary=$(grep -E '^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -1 || true)
if [ -z "$summary" ]; then
    echo "jvm tests: 0 passed, 1 failed (Maven did not get to run the tests)"
    exit 1
fi
# JUnit silently skips a test function that returns a value (a Kotlin `= runBlocking { ... }`
# whose last expression is not Unit): every @Test written must have run.
written=$(grep -rhE '^\s*@Test$' src/test/kotlin | wc -l)
echo "$summary" | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)/\1 \2 \3 \4/' | {
    read -r run failures errors skipped
    unrun=$((written > run ? written - run : 0))
    if [ "$unrun" -gt 0 ]; then
        echo "jvm: $written tests written but $run ran; JUnit skipped $unrun (a test returning a value?)"
    fi
    echo "jvm tests: $((run - failures - errors - skipped)) passed, $((failures + errors + unrun)) failed"
    [ "$unrun" -eq 0 ]
} || status=1
exit "$status"
