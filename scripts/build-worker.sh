#!/usr/bin/env bash
# Builds the Worker (edge/) to edge/build/ with worker-build. wrangler runs this as its
# [build] command, so `wrangler dev` and `wrangler deploy` always serve the current code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# The static app: until app/ exists, an empty assets directory keeps wrangler's [assets] valid.
mkdir -p dist
cd edge
wasm_env worker-build --release
