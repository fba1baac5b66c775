#!/usr/bin/env bash
# Every suite of the project, in one command: formatting, lints, the Rust tests (units,
# store, crash, scenarios), the CLI end to end, and a quick run of the benchmarks so they
# cannot rot. Later suites (Kotlin on the JVM, the browser) are added here.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (-D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

step "benchmarks (quick smoke run; full numbers: cargo bench -p eropaf-core --bench store)"
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-core --bench store --locked

# One closing line over every suite above, so the total is not lost among per-binary lines.
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$log"
