#!/usr/bin/env bash
# The bench command: prints every performance figure of qrgate and writes them, with the
# machine they ran on, to bench-results/results.md. Nothing here passes or fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --bench
source scripts/env.sh
source scripts/wrangler-dev.sh

flows=${QRGATE_BENCH_FLOWS:-200}
seconds=${QRGATE_BENCH_SECONDS:-10}
port=${QRGATE_BENCH_PORT:-8797}
state=$(mktemp -d)
trap 'stop_background; rm -rf "$state"' EXIT
cargo build --release --locked -p qrgate-tests --bin bench
bench=target/release/bench
mkdir -p bench-results target
# The OpenID Provider's settings (tests/oidc/config.mjs): a key set and the test clients.
export QRGATE_OIDC_DIR="$PWD/target/oidc-bench"
node tests/oidc/config.mjs "$QRGATE_OIDC_DIR"
oidc_vars=(--var "OIDC_SIGNING_KEYS:$(cat "$QRGATE_OIDC_DIR/keys.json")"
    --var "OAUTH_CLIENTS:$(cat "$QRGATE_OIDC_DIR/clients.json")")
# A 10-minute QR lifetime: the sessions made ready for the scan and confirm runs must outlive
# their making and the run (no figure here depends on the lifetime).
start_bench_wrangler() {
    start_wrangler "$port" "$state" target/wrangler-bench.log --name qrgate-bench \
        --var KV_COUNT_HEADER:1 --var QR_TTL_SECONDS:600 "${oidc_vars[@]}"
}
# The floor worker (tests/bench/floor/worker.js): only the work a scan cannot do without, in
# plain JavaScript, beside a trivial route of its own.
start_floor_wrangler() {
    start_wrangler "$port" "$state" target/wrangler-bench.log \
        --config tests/bench/floor/wrangler.jsonc
}
# Built once, here, by the deploy dry run that measures the Workers' sizes (printed below):
# no instance builds (scripts/dev-config.py), and none runs while this rewrites the bundles.
bash scripts/sizes.sh >target/bench-sizes.md
start_bench_wrangler
export QRGATE_URL="http://127.0.0.1:$port"
# The last commit before key-bound tokens and the last of their work, for the size change
# they caused.
before_dpop=02c6874
with_dpop=2c30109

# CPU seconds the workerd processes of this wrangler dev have used so far.
workerd_cpu() {
    local ticks=0 pid
    for pid in $(pgrep -g "$WRANGLER_PID" workerd); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$ticks $(getconf CLK_TCK)" | awk '{printf "%.3f", $1 / $2}'
}

# load STEP POOL_SIZE: wrk for $seconds s against POOL_SIZE ready-made requests of STEP (made
# by `bench pool`, sent by tests/bench/pool.lua); prints a table row with throughput, its ratio
# to the trivial route's, latency, workerd CPU per request and every answer by status.
threads=2
connections=32
declare -A cpu_us # workerd CPU per request of each step run, in µs
declare -A rps_of # requests per second of each step run
# load STEP POOL_SIZE [SECONDS]: STEP's figures, for SECONDS (default: the bench's).
load() {
    local step=$1 size=$2 duration=${3:-$seconds} pool="$state/pool-$1"
    local before after out rps requests
    "$bench" pool "$step" "$size" >"$pool"
    before=$(workerd_cpu)
    out=$(wrk -t "$threads" -c "$connections" -d "${duration}s" --latency -s tests/bench/pool.lua \
        "$QRGATE_URL" -- "$pool" "$threads")
    after=$(workerd_cpu)
    rm -f "$pool"
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    cpu_us[$step]=$(echo "$after $before $requests" | awk '{printf "%.0f", ($1 - $2) / $3 * 1e6}')
    rps_of[$step]=$rps
    if [[ $step == *trivial ]]; then trivial_rps=$rps; fi
    if [ "$step" = poll ]; then
        # Scan and confirm do more per request than a poll, so 1.5 × what the poll step
        # answered in as long is more than they can use up.
        pool_size=${QRGATE_BENCH_POOL:-$(awk -v r="$rps" -v s="$seconds" \
            'BEGIN {printf "%d", r * s * 1.5 + 100}')}
    fi
    printf '| %s | %s | %.0f req/s | %.2f× | %s | %s | %s µs | %s; pool: %s |\n' \
        "$step" "$requests" "$rps" "$(awk -v r="$rps" -v t="$trivial_rps" 'BEGIN {print r / t}')" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "${cpu_us[$step]}" "$(sed -n 's/^answers: //p' <<<"$out")" "$size"
}

# fresh_wrangler STARTER: a wrangler dev of its own (started by the function STARTER), on empty
# local state, for one throughput step, so that no step's figure depends on what ran before it.
# Local Durable Objects are SQLite files of one workerd process: on one wrangler dev the same
# scan step fell from 0.93x of the trivial route to 0.66x when run again after 3,000 more
# objects, and the trivial route drifted by 10-15 % within a run. A deployed object shares no
# process with thousands of others.
fresh_wrangler() {
    local starter=$1
    stop_background
    local waited=0
    while curl -s --max-time 1 -o /dev/null "$QRGATE_URL/" && [ "$waited" -lt 30 ]; do
        sleep 1
        waited=$((waited + 1))
    done
    rm -rf "$state"
    state=$(mktemp -d)
    "$starter"
}

# step_alone STARTER TRIVIAL STEP POOL_SIZE [SECONDS]: STEP on a fresh wrangler dev, after a
# warm-up of its JIT and the worker's trivial route beside it, so that its ratio is to a
# baseline measured on the same worker.
step_alone() {
    local trivial=$2
    fresh_wrangler "$1"
    "$bench" pool "$trivial" 50 >"$state/warm-up"
    wrk -t "$threads" -c "$connections" -d 3s -s tests/bench/pool.lua "$QRGATE_URL" \
        -- "$state/warm-up" "$threads" >/dev/null
    load "$trivial" 50
    load "$3" "$4" "${5:-$seconds}"
}

{
    # This block is a subshell (it feeds tee): it stops the wrangler dev it last started.
    trap 'stop_background; rm -rf "$state"' EXIT
    echo "# qrgate benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), on $(nproc) cores of" \
        "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB," \
        "against local \`wrangler dev\` (workerd and its local KV) on the same machine."
    echo
    echo "## Sizes"
    echo
    echo "Each page's first visit in headless Chromium (fresh context): every file it fetched," \
        "each body gzipped, against the page's budget (the test command fails past it)."
    echo
    node tests/e2e/page-weight.mjs "$QRGATE_URL"
    echo "The Workers' bundles (goal: at most 300 KiB gzip with the OpenID Provider, as wrangler" \
        "counts it, for the front, the Worker that every request starts and that holds every route;" \
        "its Durable Objects run in a Worker of their own, built from the same crate, whose isolate" \
        "only an object's location starts):"
    echo
    cat target/bench-sizes.md
    echo
    echo "## Sign-in latency (phone's confirm answer → PC holds its token)"
    echo
    echo "Goal with the live channel: p50 ≤ 50 ms, p99 ≤ 200 ms, 10 flows at a time. Polling" \
        "every 1 s is the baseline (the phone confirms at a random phase of the PC's poll cycle)." \
        "One flow at a time shows the path's own time; ten at a time add the wait behind the" \
        "other flows' requests on workerd's one thread, which the figure is judged by."
    echo
    echo "| the PC | flows | at a time | p50 | p95 | p99 |"
    echo "|---|---|---|---|---|---|"
    "$bench" latency "$flows" 10 live
    "$bench" latency "$flows" 1 live
    "$bench" latency "$flows" 10 1.0
    echo
    echo "## Detect and remediate: a sign-out told to the signed-out device"
    echo
    echo "Goal: from the phone's sign-out to the PC's socket being told, p50 ≤ 50 ms. The PC" \
        "was signed in by QR and listens on its account's channel; the phone signs it out" \
        "(DELETE /api/devices/{device_id}); timed from the request's sending to signed_out" \
        "arriving on the PC's socket (the account's object pushes it before the request is" \
        "answered). What the authority on revocations costs every authenticated request (the" \
        "account's object asked beside the KV read) is in me's row below, against its row" \
        "before it (bench-results/results.md's history)."
    echo
    echo "| the PC | flows | at a time | p50 | p95 | p99 |"
    echo "|---|---|---|---|---|---|"
    "$bench" latency-sign-out "$flows" 10
    "$bench" latency-sign-out "$flows" 1
    echo
    echo "## Throughput: each QR step against a trivial route of the same worker"
    echo
    echo "Goal: poll, scan and confirm each at least 0.7 × the trivial route's requests per second."
    echo
    echo "wrk, $threads threads, $connections connections, ${seconds} s per step, one run, each" \
        "step on a wrangler dev of its own started on empty local state and warmed up, with" \
        "the trivial route measured on it just before, so that no step's figure depends on" \
        "the objects or the drift of those before it; CPU is" \
        "workerd's user + system time. trivial is an unknown /api/ path (routing and the JSON" \
        "error only) from 50 devices; poll cycles through 50 pending sessions; scan and confirm" \
        "each get 1.5 × as many sessions as the poll step answered, made ready just before" \
        "(pending ones; scanned ones with their scan tokens), so every scan is a first scan and" \
        "every confirm a real confirmation (wraps: how often a thread ran out of its share of" \
        "the pool and began again). floor-trivial and floor-scan are the floor worker" \
        "(tests/bench/floor/worker.js) on a wrangler dev of its own: plain JavaScript doing only" \
        "what a scan or a confirmation cannot do without here (read the phone's token from KV," \
        "then read and durably write the value of the session's own object, made before the" \
        "run), beside a JSON 404 of its own; no implementation of those steps can beat its ratio."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    step_alone start_bench_wrangler trivial poll 50
    step_alone start_bench_wrangler trivial scan "$pool_size"
    step_alone start_bench_wrangler trivial confirm "$pool_size"
    qrgate_trivial_cpu=${cpu_us[trivial]}
    step_alone start_floor_wrangler floor-trivial floor-scan "$pool_size"
    echo
    echo "The floor adds $((${cpu_us[floor-scan]} - ${cpu_us[floor-trivial]})) µs of workerd CPU" \
        "per request to its trivial route's. At 0.7 × the trivial route's throughput, a step" \
        "that is bound by that CPU may add at most 3/7 of the route's own: here" \
        "$((qrgate_trivial_cpu * 3 / 7)) µs of the $qrgate_trivial_cpu µs of qrgate's trivial route" \
        "in the confirm run."
    echo
    echo "## Sign in to another app (OpenID Connect)"
    echo
    echo "Goal: the phone's confirm → the client holds its ID token, p50 ≤ 100 ms; the code" \
        "exchange and a refresh each at least 0.85 × the floor's scan (the most a step that" \
        "reads and durably writes one object can do here); the worker at most 300 KiB gzip."
    echo
    echo "The client listens as the PC page does (the push, then its pick-up poll, which hands" \
        "over the redirect with the code) and exchanges the code at once."
    echo
    echo "| the client | flows | at a time | p50 | p95 | p99 |"
    echo "|---|---|---|---|---|---|"
    fresh_wrangler start_bench_wrangler
    "$bench" latency-app "$flows" 10
    "$bench" latency-app "$flows" 1
    echo
    echo "token-code redeems a code of its own per request (its grant's object decides, then an" \
        "access token and an ID token are signed); token-refresh rotates a refresh token of its" \
        "own (the same, and the new refresh token's hash stored); refresh-narrow is a rotation" \
        "with scope=profile, which signs no ID token. Each on a wrangler dev of its own."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    # Codes live 60 s: a pool of them must be made and used up within a minute, so it is 1,500
    # (about as many as are made here in half a minute) and the run 3 s (about 1,300 codes
    # here). Every step of this table runs on as many objects, for as long: local objects are
    # SQLite files of one process, and the same step slows as they grow (fresh_wrangler).
    step_alone start_bench_wrangler trivial token-code 1500 3
    step_alone start_bench_wrangler trivial token-refresh 1500 3
    step_alone start_bench_wrangler trivial refresh-narrow 1500 3
    step_alone start_floor_wrangler floor-trivial floor-scan 1500 3
    step_alone start_floor_wrangler floor-trivial floor-refresh 1500 3
    echo
    echo "floor-scan is the floor worker's scan again, on this table's footing; floor-refresh is" \
        "its refresh: what a refresh or a code exchange cannot do without (read and durably" \
        "write the grant's object, sign an access token and an ID token), in plain JavaScript."
    echo
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
    echo "Against the floor's scan (${rps_of[floor-scan]} req/s): the code exchange" \
        "$(ratio "${rps_of[token-code]}" "${rps_of[floor-scan]}")×, a refresh" \
        "$(ratio "${rps_of[token-refresh]}" "${rps_of[floor-scan]}")×; the floor's own refresh" \
        "$(ratio "${rps_of[floor-refresh]}" "${rps_of[floor-scan]}")×, which is as near as any" \
        "implementation of the goal's two steps can come to it here. Against the floor's" \
        "refresh: the code exchange $(ratio "${rps_of[token-code]}" "${rps_of[floor-refresh]}")×," \
        "a refresh $(ratio "${rps_of[token-refresh]}" "${rps_of[floor-refresh]}")×."
    echo
    echo "userinfo verifies the access token (ES256, by workerd's WebCrypto) and asks its grant's" \
        "object; userinfo-forged carries a signature that does not verify (refused before the" \
        "object); userinfo-garbage is no JWS at all (refused before any verification)."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    fresh_wrangler start_bench_wrangler
    load trivial 50
    load userinfo 50
    load userinfo-forged 50
    load userinfo-garbage 50
    echo
    echo "One ES256 signature (an ID token: token-refresh less refresh-narrow):" \
        "$((${cpu_us[token-refresh]} - ${cpu_us[refresh-narrow]})) µs of workerd CPU;" \
        "one ES256 verification (userinfo-forged less userinfo-garbage):" \
        "$((${cpu_us[userinfo-forged]} - ${cpu_us[userinfo-garbage]})) µs. Both differences" \
        "are of whole requests' CPU, so this machine's noise (about ±0.5 ms per request between" \
        "runs) can exceed them."
    echo
    echo "## Devices without a browser (RFC 8628)"
    echo
    echo "Goal: the phone's confirm → the device holds its tokens, p50 ≤ 100 ms for the qrgate" \
        "CLI, which listens on the live channel and asks once when told confirmed. A stock" \
        "client polls at the RFC's 5 s interval instead: it waits half an interval on average," \
        "whatever the edge does. The phone confirms at a random phase of that interval."
    echo
    echo "| the device | flows | at a time | p50 | p95 | p99 |"
    echo "|---|---|---|---|---|---|"
    fresh_wrangler start_bench_wrangler
    "$bench" latency-device "$flows" 10 live
    "$bench" latency-device "$flows" 1 live
    "$bench" latency-device 40 10 poll
    echo
    echo "user-code: a phone's look-up of a live device's user code (POST /api/user-codes): both" \
        "attempt counters admit it, the code's object answers its session, both take it back;" \
        "by 40 phones, each from an address of its own."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    fresh_wrangler start_bench_wrangler
    load trivial 50
    load user-code 2000
    # The rest is qrgate's again, on a wrangler dev of its own.
    fresh_wrangler start_bench_wrangler
    echo
    echo "## Password logins and refused attempts"
    echo
    echo "login: the right password for one of 64 accounts, from addresses of their own (PBKDF2" \
        "at 100,000 iterations, both attempt counters admitting and forgiving, the history," \
        "the token in KV). refused: a login for a username past its limit of failures, answered" \
        "429 by its counter before any password is checked. The CPU column is workerd's, per" \
        "request, all of it (miniflare's KV and the objects' storage included)."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    load login 64
    load refused 64
    echo
    echo "## Key-bound tokens (DPoP): what verifying a proof costs"
    echo
    echo "me: GET /api/me with a Bearer token; me-dpop: the same with a token bound to a key and" \
        "a proof of its own per request (parsed, claims checked, thumbprint hashed, signature" \
        "verified by workerd's WebCrypto). Their difference in workerd CPU per request is the" \
        "edge's cost of one proof."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    load me 50
    load me-dpop 2000
    echo
    echo "Verifying one proof: $((${cpu_us[me-dpop]} - ${cpu_us[me]})) µs of workerd CPU per request."
    echo
    echo "What DPoP added to the bundles: the commit before it against its last (each built in" \
        "a worktree):"
    echo
    bash scripts/size-change.sh "$before_dpop" "$with_dpop"
    echo
    echo "## Passkeys"
    echo
    echo "Goal: the verification's CPU per passkey sign-in and per signed approval at most 2 ms" \
        "in the Worker (the free plan allows 10); the worker at most 300 KiB gzip with them (above);" \
        "the phone pages at most 200,000 B (above)."
    echo
    echo "passkey-sign-in answers a sign-in challenge of its own per request (the challenge taken;" \
        "the account's keyring checks the assertion, verifies its ES256 signature by WebCrypto and" \
        "stores the count; the device's token stored in KV); passkey-forged is answered with" \
        "another key's signature (refused by the verification); passkey-unknown by a passkey the" \
        "account does not have (refused before any verification). confirm and confirm-passkey" \
        "confirm a scanned session of their own, without and with the passkey's answer to the" \
        "scan's challenge (an account without and with a passkey). Each group on a wrangler dev" \
        "of its own, warmed up."
    echo
    echo "| step | requests | throughput | × trivial | latency p50 | latency p99 | workerd CPU per request | answers; wraps; pool |"
    echo "|---|---|---|---|---|---|---|---|"
    step_alone start_bench_wrangler trivial passkey-unknown 1500 3
    load passkey-forged 1500 3
    load passkey-sign-in 1500 3
    passkey_trivial_cpu=${cpu_us[trivial]}
    step_alone start_bench_wrangler trivial confirm 1500 3
    load confirm-passkey 1500 3
    echo
    echo "A passkey's verification (passkey-forged less passkey-unknown: the assertion's checks," \
        "the key's import and one ES256 verification): $((${cpu_us[passkey-forged]} - ${cpu_us[passkey-unknown]}))" \
        "µs of workerd CPU; a passkey sign-in's whole work above the trivial route:" \
        "$((${cpu_us[passkey-sign-in]} - passkey_trivial_cpu)) µs; a signed approval above a plain" \
        "confirmation (the keyring asked, the challenge taken, the answer checked and verified):" \
        "$((${cpu_us[confirm-passkey]} - ${cpu_us[confirm]})) µs. Differences of whole requests'" \
        "CPU: this machine's noise (about ±0.5 ms per request between runs) can exceed them."
    echo
    echo "## KV operations (counted by the store layer, X-Qrgate-Kv)"
    echo
    echo "Goal: a complete login ≤ 5 reads and ≤ 3 writes; an idle minute with the live channel open 0."
    echo
    echo "| what | reads | writes | lists |"
    echo "|---|---|---|---|"
    "$bench" cost
    echo
    echo "## Page: navigation → visible QR in headless Chromium"
    echo
    echo "Goal: median at most 150 ms cold, 100 ms warm, on a local wrangler dev."
    echo
    echo "By the page's clock from its navigation's start to the first frame that shows the" \
        "code; the medians of its phases by Resource Timing (the HTML's first bytes: its head," \
        "which names the page's code, and its body with the first code drawn by the edge; the" \
        "page's script, wasm and style received; the HTML's end, which hands the page's code the" \
        "session behind the drawn code); the driver column" \
        "is the same load timed from Node (adds Playwright's round trips to the browser)." \
        "The floor rows are this browser's first paint of a page with no script, style or" \
        "image but the PC page's security headers: what no page here can beat."
    echo
    echo "| navigation → QR visible | runs | median | best | HTML head and drawn code | page code | HTML end: the session | driver |"
    echo "|---|---|---|---|---|---|---|---|"
    # On a wrangler dev of its own, like each throughput step: the one before holds the
    # thousands of objects the steps above made, and a new object is slower to make beside them
    # (at 83b1bd2 the code's creation took 171 ms at the median of cold loads there, 55 ms
    # on a fresh one).
    fresh_wrangler start_bench_wrangler
    node tests/e2e/page-timing.mjs "$QRGATE_URL/" 15
} | tee bench-results/results.md
