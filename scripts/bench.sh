#!/usr/bin/env bash
# Benchmarks (figures for BENCHMARKS.md; never part of the test command).
#   scripts/bench.sh render   template rendering, one core (engine example)
#   scripts/bench.sh e2e      generator → ingest → engine → local HTTP receiver, release build
#   scripts/bench.sh syslog   generator → syslog input (PROTO udp|tcp, RATE events/s, 0: all it
#                             can) → engine → local HTTP receiver: taken, delivered, UDP loss
#   scripts/bench.sh edge     wrk (EDGE_PATH, default /products?id=7) → private nginx + ModSecurity + CRS → origin, with the edge
#                             sending to the server (requests/s; the server must keep up)
#   scripts/bench.sh modsecurity  the ModSecurity collector's answer time: 2,000 real audit
#                             entries (bench-data/modsecurity-sqli.json) one after another
#   scripts/bench.sh cluster  INSTANCES (1 or more, default 3) in cluster mode on the test
#                             PostgreSQL and the test nisshi broker: one generator per instance,
#                             EVENTS in all → the bus → one local HTTP receiver
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
    # TARGET: http (a local counting receiver; http-gzip, http-zstd: compressed), splunk (the same receiver as an HTTP Event
    # Collector: it counts the envelopes, one per line), elasticsearch (the same receiver
    # answering as _bulk), datadog (the same receiver as a logs intake: it unzips and counts
    # the logs), qradar (the same receiver as an HTTP Receiver: a POST per record),
    # azure-monitor and bigquery (the same receiver as their token endpoint and ingestion
    # API), s3 (s3s-fs), kafka (nisshi), firehose (moto, delivering to its S3) or azure-blob
    # (Azurite).
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
      case "$target" in http*|splunk|elasticsearch|datadog|qradar|azure-monitor|bigquery) ;; *) "$ROOT/scripts/services.sh" stop ;; esac
      rm -rf "$work"
    }
    trap cleanup EXIT
    case "$target" in
      http|http-gzip|http-zstd|splunk|elasticsearch|datadog|qradar|azure-monitor|bigquery)
        receiver_port=$(free_port)
        "$bin" receive --bind "127.0.0.1:$receiver_port" --expect "$events" >"$work/receiver.log" 2>&1 &
        receiver_pid=$!; pids+=("$receiver_pid")
        case "$target" in
          http) demo="http://127.0.0.1:$receiver_port/bench" ;;
          http-gzip|http-zstd) demo="${target#http-}+http://127.0.0.1:$receiver_port/bench" ;;
          elasticsearch) demo="elasticsearch://127.0.0.1:$receiver_port/bench" ;;
          bigquery)
            openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/key.pem" 2>/dev/null
            demo="bigquery://127.0.0.1:$receiver_port?key=$work/key.pem" ;;
          *) demo="$target://127.0.0.1:$receiver_port" ;;
        esac ;;
      s3)
        eval "$("$ROOT/scripts/services.sh" start)"
        mkdir -p "${DS_SERVICES_DIR:-/tmp/data-streaming-test-services}/s3/bench"
        demo="s3://$DS_TEST_S3_ACCESS_KEY:$DS_TEST_S3_SECRET_KEY@${DS_TEST_S3_ENDPOINT#http://}/bench" ;;
      kafka)
        eval "$("$ROOT/scripts/services.sh" start)"
        nisshi topic create bench --broker "tcp://$DS_TEST_KAFKA_BOOTSTRAP" --partitions 1 >/dev/null
        demo="kafka://$DS_TEST_KAFKA_BOOTSTRAP/bench" ;;
      firehose)
        eval "$("$ROOT/scripts/services.sh" start)"
        DS_BENCH_ENDPOINT=$DS_TEST_AWS_ENDPOINT "${DS_TOOLS_DIR:-$HOME/.cache/data-streaming/tools}/moto-venv/bin/python" - <<'PY'
import boto3, os
kw = dict(endpoint_url=os.environ["DS_BENCH_ENDPOINT"], region_name="us-east-1",
          aws_access_key_id=os.environ["DS_TEST_AWS_ACCESS_KEY"],
          aws_secret_access_key=os.environ["DS_TEST_AWS_SECRET_KEY"])
boto3.client("s3", **kw).create_bucket(Bucket="bench")
boto3.client("firehose", **kw).create_delivery_stream(
    DeliveryStreamName="bench", DeliveryStreamType="DirectPut",
    ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/bench",
                                        "BucketARN": "arn:aws:s3:::bench"})
PY
        demo="firehose://$DS_TEST_AWS_ACCESS_KEY:$DS_TEST_AWS_SECRET_KEY@${DS_TEST_AWS_ENDPOINT#http://}/bench" ;;
      azure-blob)
        eval "$("$ROOT/scripts/services.sh" start)"
        # An account SAS (create, write; containers too) signed with Azurite's key.
        sas=$(python3 - <<'PY'
import base64, datetime, hashlib, hmac, os, urllib.parse
key = base64.b64decode(os.environ["DS_TEST_AZURITE_KEY"])
se = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
fields = ["devstoreaccount1", "cw", "b", "sco", "", se, "", "https,http", "2022-11-02", ""]
sig = base64.b64encode(hmac.new(key, ("\n".join(fields) + "\n").encode(), hashlib.sha256).digest()).decode()
print(urllib.parse.urlencode([("sv", "2022-11-02"), ("ss", "b"), ("srt", "sco"), ("sp", "cw"),
                              ("se", se), ("spr", "https,http"), ("sig", sig)]))
PY
        )
        curl -sf -X PUT -H 'x-ms-version: 2023-11-03' -H 'Content-Length: 0' \
          "$DS_TEST_AZURITE_URL/bench?restype=container&$sas" >/dev/null
        demo="azure-blob://${DS_TEST_AZURITE_URL#http://}/bench?$sas" ;;
      *) echo "TARGET must be http, http-gzip, http-zstd, splunk, elasticsearch, datadog, qradar, azure-monitor, bigquery, s3, kafka, firehose or azure-blob" >&2; exit 2 ;;
    esac
    "$bin" --bind "127.0.0.1:$server_port" --data-dir "$work" --block-max-age 1s \
      --demo-receiver "$demo" --demo-rate 0 >"$work/server.log" 2>&1 &
    server_pid=$!; pids+=("$server_pid")
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$server_port/healthz" >/dev/null && break; sleep 0.1; done
    started=$(date +%s.%N)
    "$bin" generate --url "http://127.0.0.1:$server_port" --token-file "$work/demo-credentials.txt" \
      --hosts shop.example.com --rate 0 --events "$events" --batch "${BATCH:-2000}" \
      --connections "${CONNECTIONS:-4}" --quiet
    if [ -n "${receiver_pid:-}" ]; then
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
  syslog|edge)
    cargo build --release -p server
    bin="${BIN:-$CARGO_TARGET_DIR/release/data-streaming}"
    work=$(mktemp -d)
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    server_port=$(free_port); udp_port=$(free_port); tcp_port=$(free_port); receiver_port=$(free_port)
    pids=()
    cleanup() { kill "${pids[@]}" 2>/dev/null || true; [ -f "$work/demo-edge/nginx.pid" ] && kill "$(cat "$work/demo-edge/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
    trap cleanup EXIT
    "$bin" receive --bind "127.0.0.1:$receiver_port" >"$work/receiver.log" 2>&1 &
    pids+=("$!")
    edge_args=()
    if [ "$1" = edge ]; then edge_port=$(free_port); edge_args=(--demo-edge "127.0.0.1:$edge_port"); fi
    "$bin" --bind "127.0.0.1:$server_port" --data-dir "$work" --block-max-age 1s \
      --demo-receiver "http://127.0.0.1:$receiver_port/bench" --demo-rate "$([ "$1" = edge ] && echo 1 || echo 0)" \
      --syslog-udp "127.0.0.1:$udp_port" --syslog-tcp "127.0.0.1:$tcp_port" \
      --metrics-token bench-metrics-token "${edge_args[@]}" >"$work/server.log" 2>&1 &
    server_pid=$!; pids+=("$server_pid")
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$server_port/healthz" >/dev/null && break; sleep 0.1; done
    metric() { curl -s -H "Authorization: Bearer bench-metrics-token" "http://127.0.0.1:$server_port/metrics" \
      | awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {print s + 0}'; }
    accepted() { metric 'ds_edge_messages_total{input="nginx",outcome="accepted"}'; }
    # Waits until the edge input's accepted count stops moving (its senders are done).
    settle_accepted() {
      local last=-1 now
      while now=$(accepted); [ "$now" != "$last" ]; do last=$now; sleep 2; done
      echo "$now"
    }
    # Waits until at least $1 records were delivered (120 s at most); prints the count.
    delivered_at_least() {
      local now
      for _ in $(seq 1 1200); do
        now=$(metric ds_stream_records_delivered_total)
        [ "${now%.*}" -ge "$1" ] && break
        sleep 0.1
      done
      echo "$now"
    }
    if [ "$1" = syslog ]; then
      proto="${PROTO:-udp}"; events="${EVENTS:-500000}"
      port=$([ "$proto" = udp ] && echo "$udp_port" || echo "$tcp_port")
      started=$(date +%s.%N)
      "$bin" generate --syslog "$proto://127.0.0.1:$port" --token-file "$work/demo-credentials.txt" \
        --hosts shop.example.com --rate "${RATE:-0}" --events "$events" --batch 500 --connections 1 --quiet
      sent_done=$(date +%s.%N)
      taken=$(settle_accepted)
      delivered=$(delivered_at_least "${taken%.*}")
      delivered_done=$(date +%s.%N)
      python3 - "$proto" "$events" "$started" "$sent_done" "$taken" "$delivered" "$delivered_done" <<'PY'
import sys
proto, sent, start, sent_done, taken, delivered, done = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(float(sys.argv[5])), int(float(sys.argv[6])), float(sys.argv[7])
secs = sent_done - start
# The settle wait polls every 2 s: the delivered time is an upper bound.
print(f"syslog {proto}: sent {sent} in {secs:.2f} s ({sent/secs:,.0f} messages/s); taken {taken}, "
      f"delivered {delivered} within {done-start:.1f} s; lost {sent-taken} ({(sent-taken)/sent:.2%})")
PY
    else
      command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
      for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$edge_port/" && break; sleep 0.1; done
      wrk -t2 -c"${WRK_CONNECTIONS:-16}" -d"${DURATION:-20s}" -H 'Host: shop.example.com' \
        -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0' "http://127.0.0.1:$edge_port${EDGE_PATH:-/products?id=7}" \
        | tee "$work/wrk.txt"
      requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
      delivered=$(delivered_at_least "$requests")
      echo "edge: $requests requests through nginx + ModSecurity; the server took $(accepted) access-log messages and delivered $delivered records"
    fi
    ;;
  modsecurity)
    cargo build --release -p server
    bin="${BIN:-$CARGO_TARGET_DIR/release/data-streaming}"
    work=$(mktemp -d)
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    server_port=$(free_port); receiver_port=$(free_port)
    pids=()
    cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
    trap cleanup EXIT
    "$bin" receive --bind "127.0.0.1:$receiver_port" >"$work/receiver.log" 2>&1 &
    pids+=("$!")
    "$bin" --bind "127.0.0.1:$server_port" --data-dir "$work" \
      --demo-receiver "http://127.0.0.1:$receiver_port/bench" --demo-rate 0 >"$work/server.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$server_port/healthz" >/dev/null && break; sleep 0.1; done
    python3 - "$server_port" "$(sed -n 's/^token=//p' "$work/demo-credentials.txt")" \
      "$ROOT/scripts/bench-data/modsecurity-sqli.json" <<'PY'
import http.client, statistics, sys, time
port, token, entry = int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read()
connection = http.client.HTTPConnection("127.0.0.1", port)
latencies = []
for _ in range(2000):
    started = time.perf_counter()
    connection.request("POST", f"/ingest/modsecurity/{token}", body=entry,
                       headers={"Content-Type": "application/json", "User-Agent": "ModSecurity3"})
    answer = connection.getresponse()
    answer.read()
    latencies.append((time.perf_counter() - started) * 1000)
    assert answer.status == 200, answer.status
latencies.sort()
print(f"modsecurity collector: {len(latencies)} entries, median {statistics.median(latencies):.3f} ms, "
      f"p99 {latencies[int(len(latencies) * 0.99)]:.3f} ms, max {latencies[-1]:.3f} ms")
PY
    ;;
  cluster)
    instances="${INSTANCES:-3}"
    per_instance=$(( ${EVENTS:-1000000} / instances ))
    events=$(( per_instance * instances ))
    if [ -n "${BIN:-}" ]; then
      bin="$BIN"
    else
      cargo build --release -p server
      bin="$CARGO_TARGET_DIR/release/data-streaming"
    fi
    eval "$("$ROOT/scripts/services.sh" start)"
    work=$(mktemp -d)
    free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    run="bench_cluster_$(date +%s)"
    psql "$DS_TEST_POSTGRES_URL" -qc "CREATE DATABASE $run"
    database="${DS_TEST_POSTGRES_URL%/*}/$run"
    pids=()
    cleanup() { kill "${pids[@]}" 2>/dev/null || true; "$ROOT/scripts/services.sh" stop; rm -rf "$work"; }
    trap cleanup EXIT
    receiver_port=$(free_port)
    "$bin" receive --bind "127.0.0.1:$receiver_port" --expect "$events" >"$work/receiver.log" 2>&1 &
    receiver_pid=$!; pids+=("$receiver_pid")
    ports=()
    for i in $(seq 1 "$instances"); do
      port=$(free_port); ports+=("$port"); mkdir -p "$work/$i"
      demo=(); [ "$i" = 1 ] && demo=(--demo-receiver "http://127.0.0.1:$receiver_port/bench" --demo-rate 0)
      "$bin" --bind "127.0.0.1:$port" --data-dir "$work/$i" --database-url "$database" \
        --secret-key-file "$work/secret.key" --bus "kafka://$DS_TEST_KAFKA_BOOTSTRAP" \
        --bus-topic "$run" --bus-group "$run" --bus-partitions 12 --instance-name "instance-$i" \
        --allow-destinations 127.0.0.1/32 --block-max-age 1s "${demo[@]}" >"$work/server-$i.log" 2>&1 &
      pids+=("$!")
      for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    done
    # CPU seconds (user + system) of a process so far.
    cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
    broker_pid=$(cat "${DS_SERVICES_DIR:-/tmp/data-streaming-test-services}/kafka.pid")
    broker_cpu_before=$(cpu "$broker_pid")
    started=$(date +%s.%N)
    generators=()
    for port in "${ports[@]}"; do
      "$bin" generate --url "http://127.0.0.1:$port" --token-file "$work/1/demo-credentials.txt" \
        --hosts shop.example.com --rate 0 --events "$per_instance" --batch "${BATCH:-2000}" \
        --connections "${CONNECTIONS:-2}" --quiet &
      generators+=("$!")
    done
    wait "${generators[@]}"
    wait "$receiver_pid"
    finished=$(date +%s.%N)
    broker_cpu=$(echo "$(cpu "$broker_pid") - $broker_cpu_before" | bc -l)
    server_cpu=0
    for pid in "${pids[@]:1}"; do server_cpu=$(echo "$server_cpu + $(cpu "$pid")" | bc -l); done
    python3 - "$events" "$started" "$finished" "$instances" "$server_cpu" "$broker_cpu" <<'PY'
import sys
events, start, end, instances = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
server_cpu, broker_cpu = float(sys.argv[5]), float(sys.argv[6])
secs = end - start
print(f"cluster of {instances}: {events} events in {secs:.2f} s = {events/secs:,.0f} events/s; "
      f"CPU per event: instances {server_cpu / events * 1e6:.1f} µs (start-up included), "
      f"broker {broker_cpu / events * 1e6:.1f} µs")
PY
    ;;
  *) echo "usage: $0 render|e2e|syslog|edge|modsecurity|cluster" >&2; exit 2 ;;
esac
