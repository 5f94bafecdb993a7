#!/usr/bin/env bash
# Benchmarks (figures for BENCHMARKS.md; never part of the test command).
#   scripts/bench.sh render   template rendering, one core (engine example)
#   scripts/bench.sh e2e      generator → ingest → engine → local HTTP receiver, release build
# EVENTS (default 2,000,000), CONNECTIONS (4), BATCH (2000) and TARGET (http, s3, kafka;
# s3 and kafka start the test services) tune the e2e run; BIN measures a prebuilt server
# binary instead of building this tree (e.g. an earlier commit's, for a before/after).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

case "${1:-e2e}" in
  render)
    cargo run -p engine --release --example bench_render
    ;;
  e2e)
    # TARGET: http (a local counting receiver), s3 (s3s-fs) or kafka (tansu).
    target="${TARGET:-http}"
    events="${EVENTS:-2000000}"
    if [ -n "${BIN:-}" ]; then
      bin="$BIN"
    else
      cargo build --release -p server
      bin="$CARGO_TARGET_DIR/release/data-streaming"
    fi
    work=$(mktemp -d)
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    server_port=$(free_port)
    pids=()
    cleanup() {
      kill "${pids[@]}" 2>/dev/null || true
      [ "$target" = http ] || "$ROOT/scripts/services.sh" stop
      rm -rf "$work"
    }
    trap cleanup EXIT
    case "$target" in
      http)
        receiver_port=$(free_port)
        "$bin" receive --bind "127.0.0.1:$receiver_port" --expect "$events" >"$work/receiver.log" 2>&1 &
        receiver_pid=$!; pids+=("$receiver_pid")
        demo="http://127.0.0.1:$receiver_port/bench" ;;
      s3)
        eval "$("$ROOT/scripts/services.sh" start)"
        mkdir -p "${DS_SERVICES_DIR:-/tmp/data-streaming-test-services}/s3/bench"
        demo="s3://$DS_TEST_S3_ACCESS_KEY:$DS_TEST_S3_SECRET_KEY@${DS_TEST_S3_ENDPOINT#http://}/bench" ;;
      kafka)
        eval "$("$ROOT/scripts/services.sh" start)"
        tansu topic create bench --broker "tcp://$DS_TEST_KAFKA_BOOTSTRAP" --partitions 1 >/dev/null
        demo="kafka://$DS_TEST_KAFKA_BOOTSTRAP/bench" ;;
      *) echo "TARGET must be http, s3 or kafka" >&2; exit 2 ;;
    esac
    "$bin" --bind "127.0.0.1:$server_port" --data-dir "$work" --block-max-age 1s \
      --demo-receiver "$demo" --demo-rate 0 >"$work/server.log" 2>&1 &
    server_pid=$!; pids+=("$server_pid")
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$server_port/healthz" >/dev/null && break; sleep 0.1; done
    started=$(date +%s.%N)
    "$bin" generate --url "http://127.0.0.1:$server_port" --token-file "$work/demo-credentials.txt" \
      --hosts shop.example.com --rate 0 --events "$events" --batch "${BATCH:-2000}" \
      --connections "${CONNECTIONS:-4}" --quiet
    if [ "$target" = http ]; then
      wait "$receiver_pid"
    else
      # Delivered = acknowledged by the endpoint, as the stream's status counts it.
      until [ "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select coalesce(sum(records_delivered),0) from stream_status').fetchone()[0])" "$work/data-streaming.db")" -ge "$events" ]; do
        sleep 0.05
      done
    fi
    finished=$(date +%s.%N)
    peak_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
    python3 - "$events" "$started" "$finished" "$peak_kib" "$target" <<'PY'
import sys
events, start, end, peak, target = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
secs = end - start
print(f"end to end ({target}): {events} events in {secs:.2f} s = {events/secs:,.0f} events/s; server peak RSS {peak/1024:.0f} MiB")
PY
    ;;
  *) echo "usage: $0 render|e2e" >&2; exit 2 ;;
esac
