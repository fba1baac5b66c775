#!/usr/bin/env bash
# The Android shell, on the JVM, in two Maven modules:
# - shell-tests: the code that needs no Compose (app/src/main/java/nl/eropaf/app/platform: the
#   app's session with the core, the Android Keystore wrapper, the connectivity hook, the
#   provider that hands opened files to a viewer), compiled against Android 14's framework classes from Maven Central (Robolectric's
#   android-all) and tested under Robolectric;
# - ui-tests: the Compose screens (app/src/main/java/nl/eropaf/app/ui), compiled with the
#   Compose compiler against Compose Multiplatform's desktop artifacts (Jetpack Compose itself is
#   served only from Google's Maven repository) and rendered over the real library.
# Needs the library and Kotlin bindings android/test-jvm.sh builds. Prints `shell tests: N
# passed, M failed` and `compose tests: N passed, M failed` for scripts/test.sh's total.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
if [ ! -d android/jvm-tests/target/generated-sources/uniffi ]; then
    echo "shell tests: 0 passed, 1 failed (run android/test-jvm.sh first: no Kotlin bindings)"
    echo "compose tests: 0 passed, 1 failed (run android/test-jvm.sh first: no Kotlin bindings)"
    exit 1
fi

# Runs one module's tests and prints "LABEL: N passed, M failed" from Surefire's summary.
run_module() {
    local module=$1 label=$2 log status=0 summary
    log=$(mktemp)
    (cd "android/$module" && mvn -B --no-transfer-progress -Dstyle.color=never test \
        -Deropaf.lib.dir="$target_dir/debug") 2>&1 | tee "$log" || status=$?
    summary=$(grep -E '^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -1 || true)
    rm -f "$log"
    if [ -z "$summary" ]; then
        echo "$label: 0 passed, 1 failed (Maven did not get to run the tests)"
        return 1
    fi
    echo "$summary" | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)/\1 \2 \3 \4/' | {
        read -r run failures errors skipped
        echo "$label: $((run - failures - errors - skipped)) passed, $((failures + errors)) failed"
    }
    return "$status"
}

status=0
run_module shell-tests "shell tests" || status=1
run_module ui-tests "compose tests" || status=1
exit "$status"
