#!/usr/bin/env bash
# System packages the build and the tests need, from Debian's registry: cmake and libclang-dev build
# the HiGHS MILP solver (good_lp's `highs` feature); mosquitto is the real MQTT broker the live twin's
# tests start on loopback. Idempotent: does nothing when they are present.
set -euo pipefail
missing=()
command -v cmake >/dev/null || missing+=(cmake)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/setup.sh: needs ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# The OpenAPI validator the HTTP API's tests check /openapi.json with, from PyPI, in a venv.
venv=target/tools-venv
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "openapi-spec-validator==0.7.1"
fi
