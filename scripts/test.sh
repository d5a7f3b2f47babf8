#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test of every crate.
# Installs what the build needs from the package registries, so a fresh machine needs nothing by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo test --workspace --all-features --locked
# Lints after the tests and under their profile: the C/C++ builds (HiGHS, SQLite) are then reused
# instead of being built a second time.
cargo clippy --workspace --all-targets --all-features --locked --profile test -- -D warnings
