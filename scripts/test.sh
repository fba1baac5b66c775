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
cargo test --workspace --locked

step "benchmarks (quick smoke run; full numbers: cargo bench -p eropaf-core --bench store)"
EROPAF_BENCH_QUICK=1 cargo bench -p eropaf-core --bench store --locked
