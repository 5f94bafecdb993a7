#!/usr/bin/env bash
# Builds the server binary and the web assets (wasm, JS, CSS) into target/site.
#   scripts/build.sh            debug server (what the tests use)
#   scripts/build.sh --release  optimised server (what the run command uses)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

profile_flag=()
[ "${1:-}" = "--release" ] && profile_flag=(--release)

echo "[build] server ${profile_flag[*]:-(debug)}"
cargo build -p server "${profile_flag[@]}"

echo "[build] frontend (wasm32)"
if rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
  cargo build -p frontend --profile wasm-release --target wasm32-unknown-unknown
else
  # Debian's rustc builds std for wasm32 from source (rustup cannot download the target here).
  RUSTUP_TOOLCHAIN=debian RUSTC_BOOTSTRAP=1 \
    cargo build -p frontend --profile wasm-release --target wasm32-unknown-unknown \
    -Zbuild-std=std,panic_abort
fi

pkg="$SITE_ROOT/pkg"
mkdir -p "$pkg"
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name data-streaming \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
"$ROOT/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$pkg/data-streaming_bg.wasm" -o "$pkg/data-streaming_bg.wasm"
cp "$ROOT/style/main.css" "$pkg/data-streaming.css"
if [ -d "$ROOT/public" ]; then cp -r "$ROOT/public/." "$SITE_ROOT/"; fi
echo "[build] site in $SITE_ROOT ($(du -h "$pkg/data-streaming_bg.wasm" | cut -f1) wasm)"
