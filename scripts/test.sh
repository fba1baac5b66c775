#!/usr/bin/env bash
# Every suite of the project, in one command: formatting, lints, the Rust tests (units,
# store, crash, scenarios), the CLI end to end, and a quick run of the benchmarks so they
# cannot rot, and the browser test of the supervisor's console. Later suites (Kotlin on the
# JVM) are added here.
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

step "browser (the console on the demo data, headless Chromium; screenshots in target/artefacts/)"
# Its failure is counted in the total below rather than stopping the script here.
./scripts/browser-test.sh 2>&1 | tee -a "$log" || true

# One closing line over every suite above, so the total is not lost among per-binary lines.
awk '/^test result:/ { passed += $4; failed += $6 }
     /^browser: [0-9]+ passed, [0-9]+ failed/ { passed += $2; failed += $4; browser = 1 }
     END { if (!browser) failed += 1
           printf "tests: %d passed, %d failed\n", passed, failed
           exit failed > 0 }' "$log"
