#!/usr/bin/env bash
# Runs takt's benchmarks with everything they compare against: SimPy from PyPI (in a venv under
# target/), valgrind from Debian's packages for instruction counts.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  apt-get update -qq && apt-get install -y -qq valgrind
fi
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import simpy" 2>/dev/null || "$venv/bin/pip" install -q "simpy==4.1.2"
TAKT_PYTHON="$PWD/$venv/bin/python" cargo bench -p takt-benches --bench engine
