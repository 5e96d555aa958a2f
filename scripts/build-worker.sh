#!/usr/bin/env bash
# Builds the Worker (edge/) to edge/build/ with worker-build. wrangler runs it (scripts/build.sh)
# as its [build] command, so `wrangler dev` and `wrangler deploy` always serve the current code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cd edge
wasm_env worker-build --release
