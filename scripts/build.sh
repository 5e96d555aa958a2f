#!/usr/bin/env bash
# wrangler's [build] command: the app's static files into dist/, the Worker into edge/build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-app.sh
bash scripts/build-worker.sh
