#!/usr/bin/env bash
# Starts / stops the real services the tests use, on loopback:
#   PostgreSQL 15 (port 55432), tansu Kafka-protocol broker (19092), s3s-fs S3 server (18014).
#   scripts/services.sh start   prints the DS_TEST_* environment for the tests
#   scripts/services.sh stop
set -euo pipefail
source "$(dirname "$0")/env.sh"

STATE="${DS_SERVICES_DIR:-/tmp/data-streaming-test-services}"
PG_PORT=55432
KAFKA_PORT=19092
S3_PORT=18014
S3_ACCESS_KEY=ds-test-access
S3_SECRET_KEY=ds-test-secret
PG_BIN=/usr/lib/postgresql/15/bin

wait_port() { # name port
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "[services] $1 did not open port $2; see $STATE/$1.log" >&2
  return 1
}

stop() {
  for name in tansu s3s-fs; do
    if [ -f "$STATE/$name.pid" ]; then
      kill "$(cat "$STATE/$name.pid")" 2>/dev/null || true
      rm -f "$STATE/$name.pid"
    fi
  done
  if [ -f "$STATE/pg/postmaster.pid" ]; then
    su postgres -c "$PG_BIN/pg_ctl -D $STATE/pg -m immediate stop" >/dev/null 2>&1 || true
  fi
}

start() {
  stop
  rm -rf "$STATE"
  mkdir -p "$STATE/s3"
  chmod 755 "$STATE"

  mkdir -p "$STATE/pg" && touch "$STATE/postgres.log"
  chown postgres:postgres "$STATE/pg" "$STATE/postgres.log"
  su postgres -c "$PG_BIN/initdb -D $STATE/pg --auth=trust -U postgres" >"$STATE/pg-init.log" 2>&1
  su postgres -c "$PG_BIN/pg_ctl -D $STATE/pg -l $STATE/postgres.log -w \
    -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null

  tansu broker --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --storage-engine memory://tansu/ >"$STATE/tansu.log" 2>&1 &
  echo $! >"$STATE/tansu.pid"

  s3s-fs --host 127.0.0.1 --port "$S3_PORT" --access-key "$S3_ACCESS_KEY" \
    --secret-key "$S3_SECRET_KEY" "$STATE/s3" >"$STATE/s3s-fs.log" 2>&1 &
  echo $! >"$STATE/s3s-fs.pid"

  wait_port tansu "$KAFKA_PORT"
  wait_port s3s-fs "$S3_PORT"
  cat <<ENV
export DS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
export DS_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
export DS_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export DS_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
export DS_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
ENV
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
