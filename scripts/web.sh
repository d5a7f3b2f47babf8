#!/usr/bin/env bash
# The screens' part of the test suite (run by scripts/test.sh after the Rust tests):
#   1. installs the front-end's packages exactly as locked (npm ci, from the npm registry);
#   2. regenerates the API types from web/openapi.json and fails if they differ from the committed
#      ones (a Rust test keeps web/openapi.json equal to the server's document);
#   3. type-checks (tsc) and lints (eslint, with type information) the pages;
#   4. rebuilds the bundle and fails if it differs from the committed web/dist, which `takt serve`
#      embeds (so the README's main command needs nothing but cargo);
#   5. runs the browser tests: Debian's chromium against a real `takt serve` (TAKT_BIN, default
#      target/debug/takt, which the Rust tests built).
# `scripts/web.sh build` does 1 to 4 and leaves the new bundle in place instead of failing.
set -euo pipefail
cd "$(dirname "$0")/../web"
mode="${1:-check}"
npm ci --no-audit --no-fund --loglevel=error
npx openapi-typescript openapi.json -o src/api-schema.d.ts >/dev/null
npx tsc --noEmit
npx eslint .
npx vite build --logLevel warn
if [ "$mode" = build ]; then
  exit 0
fi
if ! git diff --quiet --exit-code -- src/api-schema.d.ts dist || [ -n "$(git ls-files --others --exclude-standard -- dist src/api-schema.d.ts)" ]; then
  git status --short -- src/api-schema.d.ts dist >&2
  echo "scripts/web.sh: the committed screens (web/dist or web/src/api-schema.d.ts) are not what the sources build; run scripts/web.sh build and commit the result" >&2
  exit 1
fi
export TAKT_BIN="${TAKT_BIN:-$PWD/../target/debug/takt}"
# Free loopback ports for the servers under test (the shared one, and two the tests start and stop).
read -r TAKT_WEB_PORT TAKT_WEB_PORT_RESTART TAKT_WEB_PORT_AUTH < <(node -e '
const net = require("node:net");
const take = () => new Promise((ok) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => ok(s)); });
Promise.all([take(), take(), take()]).then((ss) => { console.log(ss.map((s) => s.address().port).join(" ")); ss.forEach((s) => s.close()); });
')
export TAKT_WEB_PORT TAKT_WEB_PORT_RESTART TAKT_WEB_PORT_AUTH
npx playwright test
