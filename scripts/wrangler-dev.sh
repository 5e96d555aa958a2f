# Sourced helpers: start `wrangler dev` in the background and stop it again.
# shellcheck shell=bash

# start_wrangler PORT STATE_DIR LOG [--var NAME:VALUE ...]: starts it in its own process group
# and waits until the API answers (its [build] step may compile the worker first).
start_wrangler() {
    local port=$1 state=$2 log=$3
    shift 3
    setsid wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$state" \
        --show-interactive-dev-session=false "$@" >"$log" 2>&1 </dev/null &
    WRANGLER_PID=$!
    local waited=0
    until curl -s -o /dev/null "http://127.0.0.1:$port/api/"; do
        if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then
            echo "wrangler dev exited; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        if [ "$waited" -ge 900 ]; then
            echo "wrangler dev did not answer within 900 s; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

# stop_wrangler: ends the whole process group (wrangler and its workerd).
stop_wrangler() {
    if [ -n "${WRANGLER_PID:-}" ] && kill -0 "$WRANGLER_PID" 2>/dev/null; then
        kill -TERM -- "-$WRANGLER_PID" 2>/dev/null || true
        wait "$WRANGLER_PID" 2>/dev/null || true
    fi
    WRANGLER_PID=
}
