#!/usr/bin/env bash
# Runs takt's benchmarks with everything they compare against, installed from the package registries:
# SimPy and OR-Tools from PyPI (in a venv under target/), valgrind from Debian's packages.
#   benches/run.sh             engine: speed, instructions/event, memory, SimPy side by side
#   benches/run.sh experiments what-if: replications/s, speed-up, 1,000 bottling shifts
#   benches/run.sh twin        live twin: replay, storage and MQTT ingestion rates
#   benches/run.sh forecast    live twin: 100-replication forecasts to the end of the shift
#   benches/run.sh api         HTTP API: events/s ingested in batches of 1,000, state latency under load
#   benches/run.sh site        servers of a site on PostgreSQL: events/s with one and two servers,
#                              SQLite side by side, time to mirror, bytes stored per event; a
#                              200-variant sweep on one and two workers (speed-up)
#   benches/run.sh plants      cost per event in plants of 10, 100 and 1,000 stations, each dispatch rule
#   benches/run.sh pdm         remaining useful life on C-MAPSS: RMSE, interval coverage, training time
#   benches/run.sh scheduler   schedules: gap to best known at 1 s and 10 s, CP-SAT side by side
#                              (TAKT_BUDGETS=1,10 and TAKT_INSTANCES=ta narrow it)
# Concurrent scenario uploads against a running server (peak memory, state latency meanwhile):
#   python3 benches/scenario_uploads.py target/release/takt [N] [ORDERS]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-engine}"
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
case "$which" in
  engine)
    if ! command -v valgrind >/dev/null; then
      apt-get update -qq && apt-get install -y -qq valgrind
    fi
    "$venv/bin/python" -c "import simpy" 2>/dev/null || "$venv/bin/pip" install -q "simpy==4.1.2"
    ;;
  scheduler)
    "$venv/bin/python" -c "import ortools" 2>/dev/null || "$venv/bin/pip" install -q "ortools==9.15.6755"
    ;;
  experiments) ;;
  twin) scripts/setup.sh && cargo build --release -q -p takt-cli ;;
  forecast) ;;
  api) ;;
  site) scripts/setup.sh && cargo build --release -q -p takt-cli ;;
  pdm) ;;
  plants) ;;
  *) echo "usage: benches/run.sh [engine|experiments|scheduler|twin|forecast|api|site|plants|pdm]" >&2; exit 2 ;;
esac
TAKT_PYTHON="$PWD/$venv/bin/python" cargo bench -p takt-benches --bench "$which"
