#!/usr/bin/env bash
# Builds the edge's two Workers from edge/ with worker-build: the front (every route) to
# edge/build/, its Durable Object classes to edge/build-objects/ (edge/Cargo.toml's features say
# why two). wrangler runs it (scripts/build.sh) as its [build] command, so `wrangler dev` and
# `wrangler deploy` always serve the current code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# Optimised for size, without the names section: the bundle is what every cold start fetches
# and what the size budget counts. The features are those workerd runs (the list worker-build
# itself passes), so no newer encoding is emitted.
features=(mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue
    reference-types exception-handling)
build() { # CARGO_FEATURE OUT_DIR
    (cd edge && wasm_env worker-build --release --out-dir "$2" . --no-default-features \
        --features "$1")
    wasm-opt -Oz --strip-debug --strip-producers "${features[@]/#/--enable-}" \
        "edge/$2/index_bg.wasm" -o "edge/$2/index_bg.wasm"
}
build objects build-objects
build front build
