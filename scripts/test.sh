#!/usr/bin/env bash
# Every suite of the project, in one command: formatting, lints, the Rust tests (units,
# store, crash, scenarios), the CLI end to end, and a quick run of the benchmarks so they
# cannot rot; the Kotlin bindings and presenters on the JVM, the Android shell (Robolectric,
# Compose screens on Compose Desktop), the Swift bindings and view models (on Linux), and the
# browser test of the supervisor's console.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "setup (scripts/setup.sh: installs what is missing)"
./scripts/setup.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The core as the shells get it: without the `testing` feature the scenario tests turn on,
# so code only they reach is caught as dead here.
cargo clippy -p eropaf-core --lib --locked -- -D warnings

step "tests"
log=$(mktemp)
jvm_log=$(mktemp)
shell_log=$(mktemp)
swift_log=$(mktemp)
trap 'rm -f "$log" "$jvm_log" "$shell_log" "$swift_log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

step "Kotlin bindings on the JVM (android/test-jvm.sh)"
android/test-jvm.sh 2>&1 | tee "$jvm_log"

step "Android shell: platform code under Robolectric, Compose screens on Compose Desktop (android/test-shell.sh)"
android/test-shell.sh 2>&1 | tee "$shell_log"

step "Swift: the bindings and the iOS view models compiled and tested on Linux (ios/test-swift.sh; the SwiftUI screens need macOS)"
ios/test-swift.sh 2>&1 | tee "$swift_log" || true

step "benchmarks (quick smoke run; full numbers: cargo bench -p eropaf-core --bench store)"
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-core --bench store --locked
# A long case (100 visits of 1,500 characters): quick sizes, same table.
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-core --bench long_case --locked
# A file kept with a case, sealed and stored, against ring's AES-GCM and a plain copy.
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-core --bench attachments --locked
# Sync: need-to-know's bootstrap and a file through the relay (the other parts are long;
# cargo bench -p eropaf-tests --bench sync).
EROPAF_BENCH_QUICK=1 EROPAF_BENCH_PARTS=scoped,files cargo bench -p eropaf-tests --bench sync --locked
# The relay under load on SQLite and PostgreSQL (1 and 2 relay processes), 10 devices; fails
# on any error or lost envelope. Full size (1,000 devices): cargo bench -p eropaf-tests --bench relay_load.
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-tests --bench relay_load --locked

step "browser (the console on the demo data, headless Chromium; screenshots in target/artefacts/)"
# Its failure is counted in the total below rather than stopping the script here.
./scripts/browser-test.sh 2>&1 | tee -a "$log" || true

# One closing line over every suite above, so the total is not lost among per-binary lines.
# Rust's per-binary "test result:" lines, the JVM suite's "jvm tests:" line (behind Maven's
# colour codes) and the browser's "browser:" line; a suite that printed no total counts as a
# failure.
awk '/^test result:/ { passed += $4; failed += $6; rust += $4 }
     { sub(/^.*jvm tests:/, "jvm tests:") }
     /^jvm tests:/ { passed += $3; failed += $5; jvm += $3; seen_jvm = 1 }
     { sub(/^.*shell tests:/, "shell tests:") }
     /^shell tests:/ { passed += $3; failed += $5; shell += $3; seen_shell = 1 }
     { sub(/^.*compose tests:/, "compose tests:") }
     /^compose tests:/ { passed += $3; failed += $5; compose += $3; seen_compose = 1 }
     { sub(/^.*swift tests:/, "swift tests:") }
     /^swift tests:/ { passed += $3; failed += $5; swift += $3; seen_swift = 1 }
     /^browser: [0-9]+ passed, [0-9]+ failed/ { passed += $2; failed += $4; browser += $2; seen_browser = 1 }
     END { if (!seen_jvm) failed += 1
           if (!seen_shell) failed += 1
           if (!seen_swift) failed += 1
           if (!seen_compose) failed += 1
           if (!seen_browser) failed += 1
           printf "tests: %d passed, %d failed (Rust %d, Kotlin on the JVM %d, Android shell %d, Compose screens %d, Swift %d, browser %d)\n", passed, failed, rust, jvm, shell, compose, swift, browser
           exit failed > 0 }' \
    "$log" "$jvm_log" "$shell_log" "$swift_log"
