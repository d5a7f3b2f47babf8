#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test of every crate.
# Installs what the build needs from the package registries, so a fresh machine needs nothing by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
# The test profile for the lints too: the C/C++ builds under it (HiGHS, SQLite) then run once for
# both steps instead of twice.
cargo clippy --workspace --all-targets --all-features --locked --profile test -- -D warnings
cargo test --workspace --all-features --locked
