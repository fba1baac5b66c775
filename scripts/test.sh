#!/usr/bin/env bash
# Every suite of the project, in one command: formatting, lints, the Rust tests (units,
# store, crash, scenarios), the CLI end to end, and a quick run of the benchmarks so they
# cannot rot; the Kotlin bindings on the JVM and the generated Swift bindings. Later suites
# (the browser) are added here.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
log=$(mktemp)
jvm_log=$(mktemp)
trap 'rm -f "$log" "$jvm_log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

step "Kotlin bindings on the JVM (android/test-jvm.sh)"
android/test-jvm.sh 2>&1 | tee "$jvm_log"

step "Swift bindings generate (ios/generate-swift.sh; compiling them needs macOS)"
ios/generate-swift.sh

step "benchmarks (quick smoke run; full numbers: cargo bench -p eropaf-core --bench store)"
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-core --bench store --locked

# One closing line over every suite above, so the total is not lost among per-binary lines.
# Rust's per-binary "test result:" lines plus the JVM suite's "jvm tests:" line.
awk '/^test result:/ { passed += $4; failed += $6; rust += $4 }
     { sub(/^.*jvm tests:/, "jvm tests:") }
     /^jvm tests:/ { passed += $3; failed += $5; jvm += $3 }
     END { printf "tests: %d passed, %d failed (Rust %d, Kotlin on the JVM %d)\n", passed, failed, rust, jvm }' \
    "$log" "$jvm_log"
