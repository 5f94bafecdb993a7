#!/usr/bin/env bash
# The test command: installs what is missing, starts the test services, runs every test
# (format, lints, unit, integration on SQLite and Postgres, Kafka and S3 smoke tests,
# Playwright in Chromium), stops what it started, exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
started=$(date +%s)

"$ROOT/scripts/setup.sh" --test

echo "[test] cargo fmt --check"
cargo fmt --all --check
echo "[test] cargo clippy (server side and the hydrate build)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p frontend -- -D warnings

echo "[test] the data plane and what it builds on depend on neither the console nor leptos"
for crate in dataplane storage model; do
  if cargo tree -p "$crate" -e normal --features "$([ $crate = model ] && echo sink)" --prefix none \
      | grep -E '^(app|leptos[a-z_]*|frontend) v'; then
    echo "[test] $crate depends on the console (above)"; exit 1
  fi
done

"$ROOT/scripts/build.sh"

server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  "$ROOT/scripts/services.sh" stop || true
}
trap cleanup EXIT
eval "$("$ROOT/scripts/services.sh" start)"

echo "[test] cargo test"
cargo test --workspace --exclude frontend

echo "[test] end-to-end (Playwright, Chromium)"
e2e_dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CARGO_TARGET_DIR/debug/data-streaming" --bind "127.0.0.1:$port" --data-dir "$e2e_dir" \
  --site-root "$SITE_ROOT" --block-max-age 1s --allow-destinations 127.0.0.0/8 \
  --syslog-udp 127.0.0.1:0 >"$e2e_dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.2
done
(cd end2end && DS_BASE_URL="http://127.0.0.1:$port" npx playwright test) || {
  echo "[test] end-to-end failed; server log:"; tail -50 "$e2e_dir/server.log"; exit 1; }

echo "[test] all passed in $(( $(date +%s) - started )) s"
