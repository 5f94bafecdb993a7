#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian 12 machine of this kind.
#   scripts/setup.sh          tools to build and run the product
#   scripts/setup.sh --test   also the test services and the browser-test tools
# Idempotent: each step is skipped when its tool is already present at the right version.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
S3S_FS_VERSION=0.14.1
NISSHI_VERSION=0.8.1
MOTO_VERSION=5.2.5
AZURITE_VERSION=3.35.0
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
# Test servers from PyPI and npm live here, outside the clone (scripts/services.sh runs them).
TOOLS="${DS_TOOLS_DIR:-$HOME/.cache/data-streaming/tools}"

with_test_tools=false
[ "${1:-}" = "--test" ] && with_test_tools=true

log() { printf '[setup] %s\n' "$*"; }

# nginx + ModSecurity + the OWASP CRS: the run command's demo edge and the edge tests.
apt_packages=(rustc-web cargo-web rust-web-src lld-22 make gcc g++ pkg-config libssl-dev
  nginx libnginx-mod-http-modsecurity modsecurity-crs)
$with_test_tools && apt_packages+=(chromium postgresql)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The wasm32 frontend: rustup's target if it can be added, else Debian's rustc (1.96,
# with std source) building std itself through -Zbuild-std (see scripts/build.sh).
if ! rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
fi
if ! rustup toolchain list | grep -q '^debian'; then
  log "rustup toolchain link debian /usr"
  rustup toolchain link debian /usr
fi

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if ! { [ -x "$cargo_bin/wasm-bindgen" ] && "$cargo_bin/wasm-bindgen" --version | grep -q "$WASM_BINDGEN_VERSION"; }; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: one locked dependency version is missing from the registry here.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! [ -x node_modules/.bin/wasm-opt ]; then
  log "npm install (binaryen: wasm-opt)"
  npm install --no-audit --no-fund --silent
fi

if $with_test_tools; then
  if ! [ -x "$cargo_bin/s3s-fs" ]; then
    log "cargo install s3s-fs $S3S_FS_VERSION (S3-protocol server)"
    cargo install --locked s3s-fs --version "$S3S_FS_VERSION" --features binary
  fi
  # nisshi (tansu's successor): TLS listeners and SASL SCRAM, which tansu 0.6 lacks.
  # It needs rustc 1.96: Debian's, linked above as the `debian` toolchain.
  if ! { [ -x "$cargo_bin/nisshi" ] && "$cargo_bin/nisshi" --version 2>/dev/null | grep -q "$NISSHI_VERSION"; }; then
    log "cargo install nisshi $NISSHI_VERSION (Kafka-protocol broker, ~18 min cold)"
    # postgres: the storage engine that keeps SASL users (the in-memory one cannot).
    # opt-level 1: 18 min 19 s instead of 27 min 15 s to build, and as fast for the tests
    # (BENCHMARKS.md, issue 16).
    RUSTUP_TOOLCHAIN=debian CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      cargo install --locked nisshi --version "$NISSHI_VERSION" \
      --no-default-features --features dynostore,postgres --target-dir "$HOME/.cache/nisshi-build"
  fi
  # moto: AWS's APIs (Firehose, and the S3 it delivers to) for the Firehose tests.
  if ! [ -x "$TOOLS/moto-venv/bin/moto_server" ] ||
    ! grep -q "^Version: $MOTO_VERSION$" <<<"$("$TOOLS/moto-venv/bin/pip" show moto 2>/dev/null)"; then
    log "pip install moto[server] $MOTO_VERSION (AWS API server)"
    mkdir -p "$TOOLS"
    python3 -m venv "$TOOLS/moto-venv"
    "$TOOLS/moto-venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  # schemathesis + openapi-spec-validator: the /api/v1 contract checks (scripts/api-check.sh).
  # (One python call for both versions: `pip show X | grep -q` fails under pipefail, since
  # pip exits 1 when grep -q closes the pipe early.)
  api_versions=$("$TOOLS/api-venv/bin/python" -c 'import importlib.metadata as m
print(m.version("schemathesis"), m.version("openapi-spec-validator"))' 2>/dev/null || true)
  if ! [ -x "$TOOLS/api-venv/bin/st" ] || ! [ -x "$TOOLS/api-venv/bin/openapi-spec-validator" ] ||
    [ "$api_versions" != "$SCHEMATHESIS_VERSION $OPENAPI_SPEC_VALIDATOR_VERSION" ]; then
    log "pip install schemathesis $SCHEMATHESIS_VERSION, openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION (API checks)"
    mkdir -p "$TOOLS"
    python3 -m venv "$TOOLS/api-venv"
    "$TOOLS/api-venv/bin/pip" install -q --disable-pip-version-check \
      "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
  fi
  # Azurite: Azure Blob Storage's emulator, for the Azure Blob tests.
  if ! grep -qs "\"version\": \"$AZURITE_VERSION\"" "$TOOLS/azurite/node_modules/azurite/package.json"; then
    log "npm install azurite $AZURITE_VERSION (Azure Blob Storage emulator)"
    mkdir -p "$TOOLS/azurite"
    (cd "$TOOLS/azurite" && npm install --no-audit --no-fund --silent "azurite@$AZURITE_VERSION")
  fi
  if ! [ -d end2end/node_modules/@playwright/test ]; then
    log "npm install in end2end (@playwright/test)"
    (cd end2end && npm install --no-audit --no-fund --silent)
  fi
fi
log "tools ready"
