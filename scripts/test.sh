#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every test of every crate.
# Installs what the build needs from the package registries, so a fresh machine needs nothing by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
# One build serves both the lints and the tests. clippy-driver compiles the workspace's own crates
# (every target, benches included, with every feature, so the MILP code too) and lints them as it
# goes; the dependencies are built once, for the tests, instead of a second time in check mode as
# `cargo clippy` would. Compiler warnings and clippy's warnings fail the build.
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
export RUSTFLAGS="${RUSTFLAGS:-} -D warnings"
# HiGHS (C++) compiled at -O1 for the tests: see the file.
export CMAKE_TOOLCHAIN_FILE="$PWD/scripts/highs-test.cmake"
cargo test --workspace --all-targets --all-features --locked --no-run
# Runs unit, integration and documentation tests (benches are only built above, never run here).
cargo test --workspace --all-features --locked
# The screens: types from the API document, lint, the committed bundle, and browser tests against
# the takt binary built above.
scripts/web.sh
