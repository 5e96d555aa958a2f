#!/usr/bin/env bash
# Installs what building and testing qrgate needs, skipping whatever is already there, so a
# second run takes seconds. Works on a machine with internet (rustup target add) and on one
# that reaches only the package registries (Debian's rustc-web fallback); see
# ../shared/TOOLCHAIN.md for why each step looks the way it does.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

# Pinned tool versions. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock
# (pinned once in the workspace Cargo.toml); worker-build must match the `worker` crate.
WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
# 0.22 needs rustc >= 1.96.1; 0.21 builds with the stable toolchain.
TRUNK_VERSION=0.21.14
WASM_PACK_VERSION=0.15.1

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "apt-get install ${missing[*]}"
        # A freshly booted machine may be running its daily apt jobs: wait for their lock.
        local wait_for_lock=(-o DPkg::Lock::Timeout=600)
        as_root apt-get "${wait_for_lock[@]}" update -qq
        # Through env: sudo does not pass the caller's environment on.
        as_root env DEBIAN_FRONTEND=noninteractive apt-get "${wait_for_lock[@]}" install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

cargo_install() { # name version [extra args]
    local name=$1 version=$2
    shift 2
    if cargo install --list | grep -q "^$name v$version:"; then return; fi
    log "cargo install $name@$version"
    cargo install "$name" --version "=$version" "$@"
}

# 1. The wasm32 standard library: rustup where it can download, else Debian's rustc-web.
rustup_said="not asked: QRGATE_FORCE_DEBIAN_WASM=1"
if [ "$QRGATE_WASM_FALLBACK" = 0 ]; then
    :
elif [ "${QRGATE_FORCE_DEBIAN_WASM:-0}" != 1 ] &&
    rustup_said=$(rustup target add wasm32-unknown-unknown 2>&1); then
    log "wasm32-unknown-unknown added through rustup"
else
    log "rustup did not add wasm32 (${rustup_said##*$'\n'}): using Debian's rustc-web with build-std"
    apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
    rustup toolchain list | grep -q '^debian-web' || rustup toolchain link debian-web /usr
    # worker-build checks that the target's libdir exists; std itself comes from build-std.
    # Its own line, so that set -e stops here if rustc fails (inside an argument it would not).
    debian_sysroot=$(RUSTUP_TOOLCHAIN=debian-web rustc --print sysroot)
    as_root mkdir -p "$debian_sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
fi

# Which wasm route the builds take depends on what step 1 found.
source scripts/env.sh

# 2. Cargo tools at pinned versions. wasm-bindgen-cli's own lockfile names a crate the
#    registry lacks, hence no --locked.
cargo_install wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
cargo_install worker-build "$WORKER_BUILD_VERSION" --locked
cargo_install trunk "$TRUNK_VERSION" --locked
cargo_install wasm-pack "$WASM_PACK_VERSION" --locked

# 3. npm tools (wrangler, Node 22 for it, esbuild and wasm-opt for worker-build,
#    @asyncapi/parser for the live channel's description).
#    `npm ci` refuses a lockfile that lacks other platforms' optional packages (workerd for
#    macOS and Windows), as one made where the registry lacked them does; `npm install` then
#    installs the same locked versions and adds the missing entries. @asyncapi/parser pulls in
#    @scarf/scarf, whose install script reports the install unless told not to.
if ! npm ls --depth=0 >/dev/null 2>&1; then
    log "npm ci"
    export SCARF_ANALYTICS=false DO_NOT_TRACK=1
    npm ci --no-audit --no-fund --loglevel=error 2>/dev/null ||
        npm install --no-audit --no-fund --loglevel=error
fi

# 3b. The OpenID Provider's local settings: `wrangler dev` reads a signing key set and the local
#     clients (the example web client, the qrgate CLI) from .dev.vars, made here once.
[ -f .dev.vars ] || node scripts/oidc.mjs dev-vars

# 4. For the tests only (`setup.sh --tests`): Debian's Chromium and ChromeDriver (never a
#    downloaded browser), zbarimg to read the QR code off a screenshot, brotli for sizes, and
#    a CJK font so the Chinese pages render in screenshots.
#    The benchmarks (`setup.sh --bench`) add wrk, the load generator.
#    And schemathesis (PyPI), in a virtualenv of the project's own, with authlib beside it for
#    the OpenID Provider's Python client test (tests/oidc/test_authlib.py) and pyte, the
#    terminal screen of the CLI's test (tests/cli/test_cli.py).
SCHEMATHESIS_PINS=tests/schemathesis-requirements.txt
SCHEMATHESIS_VERSION=$(sed -n 's/^schemathesis==//p' "$SCHEMATHESIS_PINS")
AUTHLIB_PINS=tests/oidc/requirements.txt
AUTHLIB_VERSION=$(sed -n 's/^Authlib==//p' "$AUTHLIB_PINS")
PYTE_VERSION=$(sed -n 's/^pyte==//p' "$AUTHLIB_PINS")
if [ "${1:-}" = --tests ] || [ "${1:-}" = --bench ]; then
    if ! .venv/bin/st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
        log "pip install schemathesis==$SCHEMATHESIS_VERSION (its dependencies pinned too)"
        # Debian's own python3 makes virtualenvs only with python3-venv.
        python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
        # --clear: a virtualenv left half-made by a failed run is made again.
        python3 -m venv --clear .venv
        .venv/bin/pip install --quiet -r "$SCHEMATHESIS_PINS"
    fi
    # After schemathesis: a virtualenv just made again (--clear) lacks authlib and pyte too.
    # Their pins share requests and pytest with schemathesis' at the same versions, so nothing
    # moves.
    pinned="import authlib, importlib.metadata as m
assert (authlib.__version__, m.version('pyte')) == ('$AUTHLIB_VERSION', '$PYTE_VERSION')"
    if ! .venv/bin/python -c "$pinned" 2>/dev/null; then
        log "pip install authlib==$AUTHLIB_VERSION pyte==$PYTE_VERSION (their dependencies pinned too)"
        .venv/bin/pip install --quiet -r "$AUTHLIB_PINS"
    fi
fi
case "${1:-}" in
--tests) apt_install chromium chromium-driver zbar-tools brotli fonts-wqy-microhei ;;
--bench) apt_install chromium chromium-driver zbar-tools brotli fonts-wqy-microhei wrk ;;
esac

# 5. Trunk builds offline, so every crate must be in the cargo cache first; build-std also
#    needs std's own dependencies, which only a fetch for the wasm target brings.
cargo fetch --locked >/dev/null 2>&1 || cargo fetch --locked
if [ "$QRGATE_WASM_FALLBACK" = 1 ]; then
    wasm_cargo fetch --locked --target wasm32-unknown-unknown >/dev/null 2>&1 ||
        wasm_cargo fetch --locked --target wasm32-unknown-unknown
fi
log "tools ready"
