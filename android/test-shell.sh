#!/usr/bin/env bash
# The Android shell's code that needs no Compose (android/app/src/main/java/nl/eropaf/app/
# platform: the Android Keystore wrapper, the connectivity hook), compiled against Android 14's
# framework classes from Maven Central (Robolectric's android-all) and tested under
# Robolectric, on the JVM. Needs the Kotlin bindings android/test-jvm.sh generates. The last
# line is `shell tests: N passed, M failed` for scripts/test.sh to add to its total.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d android/jvm-tests/target/generated-sources/uniffi ]; then
    echo "shell tests: 0 passed, 1 failed (run android/test-jvm.sh first: no Kotlin bindings)"
    exit 1
fi
cd android/shell-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
mvn -B --no-transfer-progress -Dstyle.color=never test 2>&1 | tee "$log" || status=$?
summary=$(grep -E '^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -1 || true)
if [ -z "$summary" ]; then
    echo "shell tests: 0 passed, 1 failed (Maven did not get to run the tests)"
    exit 1
fi
echo "$summary" | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)/\1 \2 \3 \4/' | {
    read -r run failures errors skipped
    echo "shell tests: $((run - failures - errors - skipped)) passed, $((failures + errors)) failed"
}
exit "$status"
