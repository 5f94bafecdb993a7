#!/usr/bin/env bash
# The run command: installs what is missing, builds (release), and serves the console on
# the embedded SQLite default. Settings: DS_BIND (127.0.0.1:3000), DS_DATA_DIR (./data),
# DATABASE_URL (overrides SQLite); extra arguments go to the server (see --help).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" --release

bind="${DS_BIND:-127.0.0.1:3000}"
echo "[run] Data Streaming console: http://$bind"
exec "$CARGO_TARGET_DIR/release/data-streaming" --bind "$bind" \
  --data-dir "${DS_DATA_DIR:-$ROOT/data}" --site-root "$SITE_ROOT" "$@"
