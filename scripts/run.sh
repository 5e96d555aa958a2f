#!/usr/bin/env bash
# The run command: installs what is missing, builds, and serves qrgate (the app and the API
# on one origin) with `wrangler dev` and its local KV, persisted under .wrangler/state.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
port=${PORT:-8787}
example_port=${EXAMPLE_PORT:-3000}
# The example web client (examples/web-client/), registered in .dev.vars as `example-web`: it
# signs its users in with qrgate through openid-client, as any app would.
QRGATE_ISSUER="http://127.0.0.1:$port" PORT="$example_port" node examples/web-client/server.mjs &
example=$!
trap 'kill "$example" 2>/dev/null' EXIT
echo "qrgate: building, then serving http://127.0.0.1:$port (API under /api/, local KV in .wrangler/state)"
echo "        passkeys and the phone pages want a secure context: open http://localhost:$port on this machine"
echo "example web client (signs in with qrgate): http://127.0.0.1:$example_port"
# The front (wrangler.toml: every route, the app's files) and its Durable Objects' Worker
# (wrangler.objects.toml) in one wrangler dev, as they are deployed: two Workers.
wrangler dev -c wrangler.toml -c wrangler.objects.toml --ip 127.0.0.1 --port "$port" \
    --persist-to .wrangler/state --show-interactive-dev-session=false
