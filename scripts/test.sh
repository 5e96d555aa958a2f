#!/usr/bin/env bash
# The test command: installs what is missing, then runs every check and test of qrgate.
#   format and lint (host and wasm) → unit tests (protocol, edge) → the integration tests
#   against a real `wrangler dev` with short lifetimes → a `wrangler deploy --dry-run`.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh
source scripts/env.sh
source scripts/wrangler-dev.sh

step() { printf '\n\033[1;34m== %s\033[0m\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (host, all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo clippy (the worker, wasm32)"
wasm_cargo clippy -p qrgate-edge --target wasm32-unknown-unknown --locked -- -D warnings

step "unit tests (protocol state machine, edge pure parts)"
cargo test -p qrgate-protocol -p qrgate-edge --locked

step "build the integration tests"
cargo test -p qrgate-tests --locked --no-run

step "integration tests against wrangler dev"
port=${QRGATE_TEST_PORT:-8790}
state=$(mktemp -d)
log=target/wrangler-test.log
mkdir -p target
trap 'stop_wrangler; rm -rf "$state"' EXIT
start_wrangler "$port" "$state" "$log" \
    --var QR_TTL_SECONDS:3 --var LOGIN_FAILURES_PER_ADDRESS:20 --var KV_COUNT_HEADER:1
QRGATE_URL="http://127.0.0.1:$port" cargo test -p qrgate-tests --locked -- --nocapture
stop_wrangler

step "the worker log holds no panic"
if grep -n -i -E "panicked|RuntimeError|unreachable executed" "$log"; then
    echo "the worker panicked during the tests (log: $log)" >&2
    exit 1
fi
echo "no panic in $(wc -l <"$log") log lines"

step "wrangler deploy --dry-run (bundle size)"
out=$(mktemp -d)
wrangler deploy --dry-run --outdir "$out" 2>&1 | grep -E -i "upload|gzip|dry" || true
for file in "$out"/*; do
    printf '%s: %s bytes, %s gzip\n' "$(basename "$file")" "$(wc -c <"$file")" "$(gzip -9 -c "$file" | wc -c)"
done
rm -rf "$out"

echo
echo "all checks passed in $(( $(date +%s) - started )) s"
