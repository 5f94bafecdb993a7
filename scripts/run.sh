#!/usr/bin/env bash
# The run command: installs what is missing, builds (release), and serves the console on
# the embedded SQLite default. Settings: DS_BIND (127.0.0.1:3000), DS_DATA_DIR (./data),
# DATABASE_URL (overrides SQLite); extra arguments go to the server (see --help).
# Demo (on by default, DS_DEMO=0 turns it off): a local receiver on 127.0.0.1:3999 and, on
# an empty database, a demo account whose stream sends it the built-in generator's events:
# real HTTP requests through a private nginx + ModSecurity edge on DS_DEMO_EDGE
# (127.0.0.1:3080), which sends to the syslog (127.0.0.1:5514) and ModSecurity inputs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" --release

bin="$CARGO_TARGET_DIR/release/data-streaming"
bind="${DS_BIND:-127.0.0.1:3000}"
data_dir="${DS_DATA_DIR:-$ROOT/data}"
mkdir -p "$data_dir"
demo_args=()
if [ "${DS_DEMO:-1}" != "0" ]; then
  receiver_bind="${DS_DEMO_RECEIVER_BIND:-127.0.0.1:3999}"
  "$bin" receive --bind "$receiver_bind" --show-sample >"$data_dir/demo-receiver.log" 2>&1 &
  receiver_pid=$!
  trap 'kill "$receiver_pid" 2>/dev/null || true' EXIT
  demo_edge="${DS_DEMO_EDGE:-127.0.0.1:3080}"
  demo_args=(--demo-receiver "http://$receiver_bind/demo" --demo-edge "$demo_edge"
    --syslog-udp "${DS_SYSLOG_UDP:-127.0.0.1:5514}" --syslog-tcp "${DS_SYSLOG_TCP:-127.0.0.1:5515}")
  echo "[run] demo: events flow to a local receiver (see $data_dir/demo-receiver.log)"
  echo "[run] demo: through a real nginx + ModSecurity edge on http://$demo_edge (Host: shop.example.com)"
  echo "[run] demo: sign in with the email and password in $data_dir/demo-credentials.txt"
fi
echo "[run] Data Streaming console: http://$bind"
"$bin" --bind "$bind" --data-dir "$data_dir" --site-root "$SITE_ROOT" "${demo_args[@]}" "$@"
