#!/usr/bin/env bash
# System packages the build and the tests need, from Debian's registry: cmake and libclang-dev build
# the HiGHS MILP solver (good_lp's `highs` feature); mosquitto is the real MQTT broker the live twin's
# tests start on loopback; postgresql is the shared store of a site, whose tests start a throwaway
# cluster; chromium is the browser the screens' tests drive. Node.js and npm (for the
# screens' build and tests) are the machine's own. Idempotent: does nothing when they are present.
set -euo pipefail
missing=()
command -v cmake >/dev/null || missing+=(cmake)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
# PostgreSQL, the shared store of a site: its tests start a throwaway cluster on loopback
# (Debian keeps the server's programs in /usr/lib/postgresql/<version>/bin).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
# The real browser the screens' tests drive (no browser is downloaded by the test tools).
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/setup.sh: needs ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# Node.js 20.19 or newer with npm builds and tests the screens (the machine's own; Debian 12's is too old).
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "scripts/setup.sh: the screens' build needs Node.js >= 20.19 with npm (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
# From PyPI, in a venv: the OpenAPI validator the HTTP API's tests check /openapi.json with, and
# asyncua, the independent OPC UA server (scripts/opcua_machine.py) the OPC UA client is tested against.
venv=target/tools-venv
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator==0.7.1"
fi
if ! "$venv/bin/python" -c 'import asyncua' 2>/dev/null; then
  "$venv/bin/pip" install -q "asyncua==1.1.5"
fi
