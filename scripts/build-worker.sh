#!/usr/bin/env bash
# Builds the Worker (edge/) to edge/build/ with worker-build. wrangler runs it (scripts/build.sh)
# as its [build] command, so `wrangler dev` and `wrangler deploy` always serve the current code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
(cd edge && wasm_env worker-build --release)
# Optimised for size, without the names section: the bundle is what every cold start fetches
# and what the 250 KiB budget counts. The features are those workerd runs (the list
# worker-build itself passes), so no newer encoding is emitted.
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue
    reference-types exception-handling)
wasm-opt -Oz --strip-debug --strip-producers "${features[@]/#/--enable-}" \
    edge/build/index_bg.wasm -o edge/build/index_bg.wasm
