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
start_wrangler "$port" "$state" target/wrangler-bench.log --var KV_COUNT_HEADER:1
export QRGATE_URL="http://127.0.0.1:$port"

# CPU seconds the workerd processes of this wrangler dev have used so far.
workerd_cpu() {
    local ticks=0 pid
    for pid in $(pgrep -g "$WRANGLER_PID" workerd); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$ticks $(getconf CLK_TCK)" | awk '{printf "%.3f", $1 / $2}'
}

# load LABEL PATH [HEADER...]: wrk for $seconds s; prints a row with rps, latency and CPU/request.
load() {
    local label=$1 path=$2
    shift 2
    local args=() header before after out rps requests
    for header in "$@"; do args+=(-H "$header"); done
    before=$(workerd_cpu)
    out=$(wrk -t 2 -c 32 -d "${seconds}s" --latency "${args[@]}" "$QRGATE_URL$path")
    after=$(workerd_cpu)
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    printf '| %s | %.0f req/s | %s | %s | %.0f µs |\n' "$label" "$rps" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(echo "$after $before $requests" | awk '{print ($1 - $2) / $3 * 1e6}')"
    echo "$rps" >"$state/rps-$label"
}

{
    echo "# qrgate benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD), on $(nproc) cores of" \
        "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(free -g | awk '/Mem:/ {print $2}') GiB," \
        "against local \`wrangler dev\` (workerd and its local KV) on the same machine."
    echo
    echo "## Sizes"
    echo
    bash scripts/sizes.sh
    echo
    echo "## Sign-in latency (phone's confirm answer → PC holds its token)"
    echo
    echo "| PC polls | flows | p50 | p95 | p99 |"
    echo "|---|---|---|---|---|"
    "$bench" latency "$flows" 1.0
    "$bench" latency "$flows" 0.25
    echo
    echo "## Throughput: the poll endpoint against a trivial route of the same worker"
    echo
    read -r qr_id poll_secret pc_id pc_type < <("$bench" poll-target)
    pc_headers=("X-Device-Id: $pc_id" "X-Device-Type: $pc_type")
    echo "wrk, 2 threads, 32 connections, ${seconds} s each; CPU is workerd's user + system time."
    echo
    echo "| route | throughput | latency p50 | latency p99 | workerd CPU per request |"
    echo "|---|---|---|---|---|"
    load trivial "/api/trivial-404" "${pc_headers[@]}"
    load poll "/api/qr/$qr_id" "${pc_headers[@]}" "Authorization: Bearer $poll_secret"
    echo
    printf 'Poll throughput is %s of the trivial route'"'"'s.\n' \
        "$(awk -v p="$(cat "$state/rps-poll")" -v t="$(cat "$state/rps-trivial")" 'BEGIN {printf "%.2f×", p / t}')"
    echo
    echo "## KV operations (counted by the store layer, X-Qrgate-Kv)"
    echo
    echo "| what | reads | writes | lists |"
    echo "|---|---|---|---|"
    "$bench" cost
    echo
    echo "## Page: navigation → visible QR in headless Chromium"
    echo
    echo "| what | runs | median | best |"
    echo "|---|---|---|---|"
    node tests/e2e/page-timing.mjs "$QRGATE_URL/" 15
} | tee bench-results/results.md
