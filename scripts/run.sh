#!/usr/bin/env bash
# The run command: installs what is missing, builds, and serves qrgate (the app and the API
# on one origin) with `wrangler dev` and its local KV, persisted under .wrangler/state.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
port=${PORT:-8787}
echo "qrgate: building, then serving http://127.0.0.1:$port (API under /api/, local KV in .wrangler/state)"
exec wrangler dev --ip 127.0.0.1 --port "$port" --persist-to .wrangler/state \
    --show-interactive-dev-session=false
