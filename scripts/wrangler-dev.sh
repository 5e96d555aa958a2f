# Sourced helpers: start `wrangler dev` (and the test run's recording proxy) in the background,
# each in its own process group, and stop them again.
# shellcheck shell=bash

# Process groups started here, for stop_background.
BACKGROUND_PIDS=()

# wait_for_port PID PORT LOG WHAT: waits until http://127.0.0.1:PORT/api/ answers, failing with
# the log if the process exits or 900 s pass (wrangler's [build] step may compile first).
wait_for_port() {
    local pid=$1 port=$2 log=$3 what=$4 waited=0
    until curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$port/api/"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$what exited; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        if [ "$waited" -ge 900 ]; then
            echo "$what did not answer within 900 s; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    # Whatever answered, it was not this process if it has already exited.
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "$what exited; its log:" >&2
        cat "$log" >&2
        return 1
    fi
}

# refuse_taken_port PORT: fails if something already answers on PORT (a server left over from
# an earlier run would otherwise be tested in place of the one about to start).
refuse_taken_port() {
    if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$1/"; then
        echo "port $1 is taken: stop what runs there first" >&2
        return 1
    fi
}

# start_wrangler PORT STATE_DIR LOG [-c CONFIG] [--name NAME] [--var NAME:VALUE ...]: starts
# wrangler dev for one instance of the edge, sets WRANGLER_PID (its process group: wrangler and
# its workerd) and waits until the API answers. CONFIG is the front's (default wrangler.toml);
# scripts/dev-config.py writes the instance's configs under STATE_DIR: its front, named NAME
# (default: CONFIG's name), and its objects' Worker, NAME-objects, which the same wrangler dev
# runs beside it. The --var settings are the front's: the objects read none.
start_wrangler() {
    local port=$1 state=$2 log=$3 config=wrangler.toml name="" configs=() rest=()
    shift 3
    while [ $# -gt 0 ]; do
        case $1 in
            -c | --config) config=$2; shift 2 ;;
            --name) name=$2; shift 2 ;;
            *) rest+=("$1"); shift ;;
        esac
    done
    mapfile -t configs < <(python3 scripts/dev-config.py "$config" "$name" "$state/config")
    refuse_taken_port "$port"
    # Without wrangler's local dashboards (the Local Explorer, which wraps every SQLite-backed
    # Durable Object class, and local observability, which stores a trace of every invocation):
    # a deployed Worker has neither, and they cost each Durable Object call more than a plain
    # request, which the benchmarks would count against the Worker. `scripts/run.sh` keeps them.
    X_LOCAL_EXPLORER=false X_LOCAL_OBSERVABILITY=false \
        setsid wrangler dev --ip 127.0.0.1 --port "$port" --persist-to "$state" \
        --show-interactive-dev-session=false "${configs[@]/#/--config=}" "${rest[@]}" \
        >"$log" 2>&1 </dev/null &
    WRANGLER_PID=$!
    BACKGROUND_PIDS+=("$WRANGLER_PID")
    wait_for_port "$WRANGLER_PID" "$port" "$log" "wrangler dev"
}

# start_recorder PORT BACKEND_PORT RECORD_FILE LOG: the recording proxy of the secret audit
# (tests/audit/record-proxy.mjs) on PORT in front of the wrangler dev on BACKEND_PORT.
start_recorder() {
    local port=$1 backend=$2 records=$3 log=$4 pid
    refuse_taken_port "$port"
    setsid node tests/audit/record-proxy.mjs "$port" "$backend" "$records" >"$log" 2>&1 </dev/null &
    pid=$!
    BACKGROUND_PIDS+=("$pid")
    wait_for_port "$pid" "$port" "$log" "the recording proxy"
}

# stop_background: ends every process group started here.
stop_background() {
    local pid
    for pid in "${BACKGROUND_PIDS[@]}"; do
        # The whole group, even when its leader has exited: wrangler's workerd may outlive it.
        kill -TERM -- "-$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    BACKGROUND_PIDS=()
}
