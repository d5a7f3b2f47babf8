#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test of every crate.
# Installs what the tests need from the package registries, so a fresh machine needs nothing by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
