#!/usr/bin/env bash
# Builds the web app (app/) into dist/ with Trunk, then moves Trunk's inline boot script into
# a file so the page runs under a CSP without 'unsafe-inline'.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
wasm_env trunk build --release --config Trunk.toml
node scripts/externalize-boot-script.mjs dist
