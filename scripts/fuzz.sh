#!/usr/bin/env bash
# The long fuzz campaign: the five targets of crates/takt-api/tests/fuzz.rs (mutated scenarios,
# events, order books, job-shop files, HTTP requests), each with TAKT_FUZZ_CASES inputs, built
# optimised. The default, 200,000 per target, is a million inputs in all. Each target prints how
# far its inputs got; a failure prints the smallest input that breaks a property and exits non-zero.
#   scripts/fuzz.sh            # 1,000,000 inputs
#   scripts/fuzz.sh 20000      # a shorter run
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-200000}"
export TAKT_FUZZ_CASES="$cases"
# An input that makes takt take memory without bound fails the campaign (an allocation that
# fails aborts the run) instead of taking the machine.
ulimit -v 16000000
started=$(date +%s)
cargo test --release -p takt-api --test fuzz -- --nocapture --test-threads 2 2>&1 | grep -E "^fuzz |^test |test result|panicked|minimal failing|Test failed" 
echo "fuzz: $((cases * 5)) inputs in $(( $(date +%s) - started )) s"
