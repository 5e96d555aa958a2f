#!/usr/bin/env bash
# The test command: installs what is missing, then runs every check and test of qrgate:
#   format and lint (host and wasm) → unit and property tests (protocol, edge, app; the OpenAPI
#   and AsyncAPI documents against the wire types) → the AsyncAPI document validated → browser
#   unit tests (wasm-bindgen-test in headless Chromium) → against four real `wrangler dev`s,
#   each behind a recording proxy (two edge locations sharing session objects, one for the
#   flows, one that requires DPoP): integration tests, live-channel tests, races across
#   locations, the request log, 10,000 random requests, the OpenID Provider driven by stock
#   clients (openid-client, authlib), the qrgate CLI in a terminal, 1,000 flows under load,
#   races at scale, end-to-end tests in headless Chromium,
#   schemathesis → no panic in the worker logs, and no secret of the run in any URL, error
#   body, pushed message, log line or KV or object storage → sizes (with a
#   `wrangler deploy --dry-run`).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh --tests
source scripts/env.sh
source scripts/wrangler-dev.sh

# Each step with the seconds since the start, so a slow phase shows in CI's log.
step() { printf '\n\033[1;34m== %s\033[0m (at %d s)\n' "$*" "$(($(date +%s) - started))"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (host, all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo clippy (the worker and the app, wasm32)"
if wasm_cargo clippy --version >/dev/null 2>&1; then
    wasm_cargo clippy -p qrgate-edge -p qrgate-app --target wasm32-unknown-unknown --locked \
        -- -D warnings
else
    # Debian's rustc-web has no clippy; the host run above lints the same code.
    echo "skipped: this wasm toolchain has no clippy"
fi

step "unit tests (protocol state machine, edge and app pure parts)"
cargo test -p qrgate-protocol -p qrgate-edge -p qrgate-app --locked
cargo test -p qrgate-tests --lib --locked

step "asyncapi.yaml: parsed and validated by @asyncapi/parser"
node tests/asyncapi/validate.mjs asyncapi.yaml

step "browser unit tests (wasm-bindgen-test in headless Chromium)"
wasm_env wasm-pack test --headless --chrome --mode no-install \
    --chromedriver "$(command -v chromedriver)" app --locked

step "build the integration tests, the secret audit and the CLI"
cargo test -p qrgate-tests --locked --no-run
cargo build -p qrgate-tests --locked --bin secret-audit
cargo build -p qrgate-cli --locked

step "build the app and both Workers, once: no instance below builds (dev-config.py)"
bash scripts/build.sh

step "start wrangler dev four times, each behind a recording proxy for the secret audit"
# Location A (short lifetimes, KV operation counting) and location B (its own KV, A's session
# objects: tests/location-b/wrangler.jsonc) for the API tests; the defaults for the flows; an
# edge with REQUIRE_DPOP = "1" (tests/strict/wrangler.jsonc). The
# tests speak to the proxies' ports; every exchange is recorded in target/audit/. Each instance
# has its own name, and (except B) its own objects' Worker beside it, NAME-objects
# (start_wrangler, scripts/dev-config.py), because wrangler's dev registry, through which B
# reaches A's objects, finds workers by name machine-wide.
mkdir -p target/audit
rm -f target/audit/*.jsonl
# The OpenID Provider's settings of this run (tests/oidc/config.mjs): a fresh key set and the
# test clients, the same at every instance (location B checks tokens that A signed). The
# clients' secrets stay in target/oidc for the tests and the audit.
export QRGATE_OIDC_DIR="$PWD/target/oidc"
node tests/oidc/config.mjs "$QRGATE_OIDC_DIR"
oidc_vars=(--var "OIDC_SIGNING_KEYS:$(cat "$QRGATE_OIDC_DIR/keys.json")"
    --var "OAUTH_CLIENTS:$(cat "$QRGATE_OIDC_DIR/clients.json")")
states=$(mktemp -d)
trap 'stop_background; rm -rf "$states"' EXIT
short_port=${QRGATE_TEST_PORT:-8790}
flow_port=$((short_port + 1))
short_b_port=$((short_port + 2))
strict_port=$((short_port + 3))
backend_offset=100
# Locations A and B are one issuer, as every Cloudflare location of one deployment is: the same
# origin. Here their ports differ, so ISSUER says it (A's, as the tests reach it).
short_vars=(--var QR_TTL_SECONDS:3 --var DEVICE_CODE_TTL_SECONDS:30
    --var PASSKEY_CHALLENGE_TTL_SECONDS:3 --var FRESH_SIGN_IN_SECONDS:3
    --var LOGIN_FAILURES_PER_ADDRESS:20 --var KV_COUNT_HEADER:1
    --var "ISSUER:http://127.0.0.1:$short_port")
start_wrangler "$((flow_port + backend_offset))" "$states/flow" target/wrangler-flow.log \
    --name qrgate-flow "${oidc_vars[@]}"
start_wrangler "$((short_port + backend_offset))" "$states/short" target/wrangler-short.log \
    --name qrgate-short "${short_vars[@]}" "${oidc_vars[@]}"
start_wrangler "$((short_b_port + backend_offset))" "$states/short-b" target/wrangler-short-b.log \
    -c tests/location-b/wrangler.jsonc "${short_vars[@]}" "${oidc_vars[@]}"
start_wrangler "$((strict_port + backend_offset))" "$states/strict" target/wrangler-strict.log \
    -c tests/strict/wrangler.jsonc "${oidc_vars[@]}"
# Two edges whose provider settings are broken, one way each: they must fail loudly, with a log
# line that says which entry and why (tests/tests/oidc.rs). No secret passes through them.
bad_clients_port=$((short_port + 4))
bad_keys_port=$((short_port + 5))
start_wrangler "$bad_clients_port" "$states/bad-clients" target/wrangler-bad-clients.log \
    -c tests/strict/wrangler.jsonc --name qrgate-bad-clients \
    --var 'OAUTH_CLIENTS:[{"client_id": "broken", "client_name": "Broken"}]' \
    --var "OIDC_SIGNING_KEYS:$(cat "$QRGATE_OIDC_DIR/keys.json")"
start_wrangler "$bad_keys_port" "$states/bad-keys" target/wrangler-bad-keys.log \
    -c tests/strict/wrangler.jsonc --name qrgate-bad-keys \
    --var 'OIDC_SIGNING_KEYS:{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "alg": "ES256"}]}'
export QRGATE_URL_BAD_CLIENTS="http://127.0.0.1:$bad_clients_port"
export QRGATE_LOG_BAD_CLIENTS="$PWD/target/wrangler-bad-clients.log"
export QRGATE_URL_BAD_KEYS="http://127.0.0.1:$bad_keys_port"
export QRGATE_LOG_BAD_KEYS="$PWD/target/wrangler-bad-keys.log"
start_recorder "$flow_port" "$((flow_port + backend_offset))" target/audit/flow.jsonl \
    target/audit/flow-proxy.log
start_recorder "$short_port" "$((short_port + backend_offset))" target/audit/short.jsonl \
    target/audit/short-proxy.log
start_recorder "$short_b_port" "$((short_b_port + backend_offset))" target/audit/short-b.jsonl \
    target/audit/short-b-proxy.log
start_recorder "$strict_port" "$((strict_port + backend_offset))" target/audit/strict.jsonl \
    target/audit/strict-proxy.log
export QRGATE_URL="http://127.0.0.1:$short_port"
export QRGATE_URL_B="http://127.0.0.1:$short_b_port"
export QRGATE_URL_STRICT="http://127.0.0.1:$strict_port"
# Location A's output, where tests/tests/logs.rs reads the request log.
export QRGATE_LOG="$PWD/target/wrangler-short.log"

step "integration tests against wrangler dev (two locations, real Durable Objects, DPoP)"
# Many threads: the tests wait on the network, and the live channel's collection test waits
# two minutes for its session to be collected while the others run.
cargo test -p qrgate-tests --locked --test accounts --test conventions --test qr_login \
    --test live --test races --test limits --test history --test hostile --test dpop \
    --test logs --test first_code --test oidc --test device --test passkeys -- --nocapture \
    --test-threads 16

step "the OpenID Provider driven by stock clients (openid-client, authlib) and the qrgate CLI"
node --test --test-concurrency=1 tests/oidc/*.test.mjs
.venv/bin/python -m pytest -q -p no:cacheprovider tests/oidc tests/cli

step "load and races at scale (1,000 flows, 50 at a time)"
QRGATE_URL="http://127.0.0.1:$flow_port" cargo test -p qrgate-tests --locked --test load \
    -- --nocapture

step "end-to-end tests in headless Chromium"
QRGATE_URL="http://127.0.0.1:$flow_port" QRGATE_SHORT_URL="http://127.0.0.1:$short_port" \
    node --test --test-concurrency=1 --test-timeout=180000 tests/e2e/*.test.mjs

step "schemathesis: generated requests against openapi.yaml (no 5xx, answers match it)"
# Its generated QR ids look like secrets in the log: the secret check reads the log up to here.
checked_lines=$(wc -l <target/wrangler-short.log)
phone_headers=(-H "X-Device-Id: 6f1c2a9e-3b7d-4c2f-9a51-2d8e7b4f0c11" -H "X-Device-Type: ios"
    -H "Content-Type: application/json" -H "CF-Connecting-IP: 10.255.0.1")
credentials='{"username": "schemathesis", "password": "correct horse battery"}'
curl -sf -o /dev/null "${phone_headers[@]}" "$QRGATE_URL/api/accounts" -d "$credentials"
token=$(curl -sf "${phone_headers[@]}" "$QRGATE_URL/api/sessions" -d "$credentials" |
    node -e 'let s = ""; process.stdin.on("data", d => s += d).on("end", () => console.log(JSON.parse(s).token))')
.venv/bin/st run openapi.yaml --url "$QRGATE_URL" -H "Authorization: Bearer $token" \
    --max-examples 25 --phases coverage,fuzzing --seed "${QRGATE_SCHEMATHESIS_SEED:-$RANDOM}" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance,response_headers_conformance

stop_background

step "the worker logs hold no panic"
logs=(target/wrangler-flow.log target/wrangler-short.log target/wrangler-short-b.log
    target/wrangler-strict.log target/wrangler-bad-clients.log target/wrangler-bad-keys.log)
if grep -n -i -E "panicked|RuntimeError|unreachable executed" "${logs[@]}"; then
    echo "the worker panicked during the tests (logs: ${logs[*]})" >&2
    exit 1
fi
echo "no panic in $(cat "${logs[@]}" | wc -l) log lines"

step "nothing shaped like a secret in the worker logs (the URLs they list included)"
# The audit below finds the secrets that were handed out; this finds any other. Login tokens,
# poll secrets and scan tokens end in exactly 43 characters of base64url (QR ids have 32); the
# tests' passwords all contain "correct horse", "sekrit" or " password" (a space before it:
# the PC's password page, /password, is in the request log).
secret='(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}([^A-Za-z0-9_-]|$)'
# A passkey's id is public (each approval's challenge lists the account's), and may be 32 bytes
# (43 characters), as Chromium's virtual authenticator makes them: the request lines that
# rename or remove one carry it in their path, and are left out here.
passkey_paths='(PATCH|DELETE) /api/passkeys/[A-Za-z0-9_-]+ '
if { cat target/wrangler-flow.log target/wrangler-short-b.log target/wrangler-strict.log
    head -n "$checked_lines" target/wrangler-short.log; } | grep -v -E "$passkey_paths" |
    grep -n -E "$secret|correct horse| password|sekrit"; then
    echo "a secret reached a log line" >&2
    exit 1
fi
echo "none found"

step "secret audit: every secret of the run, searched in URLs, answers, logs and KV storage"
target/debug/secret-audit target/audit/*.jsonl -- "${logs[@]}" "$states"
rm -rf "$QRGATE_OIDC_DIR"
rm -f target/audit/*.jsonl

step "sizes: the worker bundle (the pages' were measured against their budgets above)"
bash scripts/sizes.sh

echo
echo "all checks passed in $(( $(date +%s) - started )) s"
