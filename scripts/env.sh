# Sourced by every script: the npm tools on PATH, and how to build for wasm32 on this machine.
# shellcheck shell=bash
QRGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$QRGATE_ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# wrangler must only open loopback connections (no telemetry, no request.cf download).
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_HIDE_BANNER=true

# worker-build would download these from GitHub without them.
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$QRGATE_ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$QRGATE_ROOT/node_modules/.bin/esbuild"

# Without a rustup wasm32 target, wasm builds use Debian's rustc-web and rebuild std. Only the
# wasm builds get these variables (through wasm_cargo / wasm_env), never host builds.
# QRGATE_FORCE_DEBIAN_WASM=1 takes the fallback even where rustup has the target (to test it).
if [ "${QRGATE_FORCE_DEBIAN_WASM:-0}" != 1 ] &&
    rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
    QRGATE_WASM_FALLBACK=0
else
    QRGATE_WASM_FALLBACK=1
fi
export QRGATE_WASM_FALLBACK

wasm_env() {
    if [ "$QRGATE_WASM_FALLBACK" = 1 ]; then
        env RUSTUP_TOOLCHAIN=debian-web RUSTC_BOOTSTRAP=1 \
            CARGO_UNSTABLE_BUILD_STD=std,panic_abort "$@"
    else
        "$@"
    fi
}

wasm_cargo() { wasm_env cargo "$@"; }
