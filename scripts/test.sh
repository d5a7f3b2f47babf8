#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test of every crate.
# Installs what the build needs from the package registries, so a fresh machine needs nothing by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
# Compiler warnings fail the build, the MILP code (HiGHS) included.
RUSTFLAGS="${RUSTFLAGS:-} -D warnings" cargo test --workspace --all-features --locked
# Lints without the `milp` feature: clippy rebuilds every C/C++ dependency in its own mode, and HiGHS
# alone costs minutes. Lint the MILP code locally with `cargo clippy --all-targets --all-features`.
cargo clippy --workspace --all-targets --locked -- -D warnings
