#!/usr/bin/env bash
# Benchmarks (figures for BENCHMARKS.md; never part of the test command).
#   scripts/bench.sh render   template rendering, one core (engine example)
#   scripts/bench.sh e2e      generator → ingest → engine → local HTTP receiver, release build
# EVENTS (default 2,000,000), CONNECTIONS (4) and BATCH (2000) tune the e2e run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

case "${1:-e2e}" in
  render)
    cargo run -p engine --release --example bench_render
    ;;
  e2e)
    events="${EVENTS:-2000000}"
    cargo build --release -p server
    bin="$CARGO_TARGET_DIR/release/data-streaming"
    work=$(mktemp -d)
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    server_port=$(free_port); receiver_port=$(free_port)
    "$bin" receive --bind "127.0.0.1:$receiver_port" --expect "$events" >"$work/receiver.log" 2>&1 &
    receiver_pid=$!
    "$bin" --bind "127.0.0.1:$server_port" --data-dir "$work" --block-max-age 1s \
      --demo-receiver "http://127.0.0.1:$receiver_port/bench" --demo-rate 0 >"$work/server.log" 2>&1 &
    server_pid=$!
    trap 'kill $server_pid $receiver_pid 2>/dev/null || true; rm -rf "$work"' EXIT
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$server_port/healthz" >/dev/null && break; sleep 0.1; done
    started=$(date +%s.%N)
    "$bin" generate --url "http://127.0.0.1:$server_port" --token-file "$work/demo-credentials.txt" \
      --hosts shop.example.com --rate 0 --events "$events" --batch "${BATCH:-2000}" \
      --connections "${CONNECTIONS:-4}" --quiet
    wait "$receiver_pid"
    finished=$(date +%s.%N)
    peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
    tail -1 "$work/receiver.log"
    python3 - "$events" "$started" "$finished" "$peak_kib" <<'PY'
import sys
events, start, end, peak = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
secs = end - start
print(f"end to end: {events} events in {secs:.2f} s = {events/secs:,.0f} events/s; server peak RSS {peak/1024:.0f} MiB")
PY
    ;;
  *) echo "usage: $0 render|e2e" >&2; exit 2 ;;
esac
