#!/usr/bin/env bash
# Starts / stops the real services the tests use, on loopback:
#   PostgreSQL 15 (port 55432), s3s-fs S3 server (18014), and nisshi Kafka-protocol brokers:
#   plain (19092), TLS (19095), and TLS with SASL SCRAM (19094; its users live in the test
#   PostgreSQL, created through a plain broker on the same storage that then stops); moto
#   (18017: Firehose and S3, signatures checked) and Azurite (18018: Azure Blob Storage).
#   scripts/services.sh start   prints the DS_TEST_* environment for the tests
#   scripts/services.sh stop
set -euo pipefail
source "$(dirname "$0")/env.sh"

STATE="${DS_SERVICES_DIR:-/tmp/data-streaming-test-services}"
PG_PORT=55432
KAFKA_PORT=19092
KAFKA_USERS_PORT=19093
KAFKA_SASL_SSL_PORT=19094
KAFKA_SSL_PORT=19095
KAFKA_SCRAM_PASSWORD=ds-test-scram-password
S3_PORT=18014
S3_ACCESS_KEY=ds-test-access
S3_SECRET_KEY=ds-test-secret
PG_BIN=/usr/lib/postgresql/15/bin
TOOLS="${DS_TOOLS_DIR:-$HOME/.cache/data-streaming/tools}"
MOTO_PORT=18017
AZURITE_PORT=18018
# Azurite's account and its documented, public development key.
AZURITE_ACCOUNT=devstoreaccount1
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

wait_port() { # name port
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "[services] $1 did not open port $2; see $STATE/$1.log" >&2
  return 1
}

broker() { # name advertised-url storage [flags]: a nisshi broker in the background
  local name=$1 url=$2 storage=$3
  shift 3
  nisshi broker --listener-url "${url/localhost/127.0.0.1}" --advertised-listener-url "$url" \
    --storage-engine "$storage" "$@" >"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

stop() {
  for name in kafka kafka-ssl kafka-sasl-ssl kafka-users s3s-fs moto azurite; do
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
  mkdir -p "$STATE/s3" "$STATE/azurite"
  chmod 755 "$STATE"

  mkdir -p "$STATE/pg" && touch "$STATE/postgres.log"
  chown postgres:postgres "$STATE/pg" "$STATE/postgres.log"
  su postgres -c "$PG_BIN/initdb -D $STATE/pg --auth=trust -U postgres" >"$STATE/pg-init.log" 2>&1
  su postgres -c "$PG_BIN/pg_ctl -D $STATE/pg -l $STATE/postgres.log -w \
    -o '-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null

  broker kafka "tcp://127.0.0.1:$KAFKA_PORT" memory://nisshi/

  # A CA and a certificate for localhost (the name the TLS brokers advertise).
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=Data Streaming test CA" \
    -keyout "$STATE/ca.key" -out "$STATE/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$STATE/broker.key" -out "$STATE/broker.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$STATE/broker.ext"
  openssl x509 -req -in "$STATE/broker.csr" -CA "$STATE/ca.pem" -CAkey "$STATE/ca.key" \
    -CAcreateserial -days 30 -extfile "$STATE/broker.ext" -out "$STATE/broker.pem" >/dev/null 2>&1
  local tls=(--cert "$STATE/broker.pem" --key "$STATE/broker.key")
  broker kafka-ssl "tcp://localhost:$KAFKA_SSL_PORT" memory://nisshi/ "${tls[@]}"

  # SASL users need a storage engine that keeps them: a database of the test PostgreSQL.
  su postgres -c "$PG_BIN/createdb -h /tmp -p $PG_PORT nisshi"
  local users_storage="postgres://postgres@127.0.0.1:$PG_PORT/nisshi"
  broker kafka-users "tcp://127.0.0.1:$KAFKA_USERS_PORT" "$users_storage"
  wait_port kafka-users "$KAFKA_USERS_PORT"
  for mechanism in scram256 scram512; do
    nisshi user create --broker "tcp://127.0.0.1:$KAFKA_USERS_PORT" --mechanism "$mechanism" \
      "ds-test-$mechanism" "$KAFKA_SCRAM_PASSWORD" >>"$STATE/kafka-users.log" 2>&1
  done
  kill "$(cat "$STATE/kafka-users.pid")" && rm "$STATE/kafka-users.pid"
  broker kafka-sasl-ssl "tcp://localhost:$KAFKA_SASL_SSL_PORT" "$users_storage" "${tls[@]}" \
    --authentication

  s3s-fs --host 127.0.0.1 --port "$S3_PORT" --access-key "$S3_ACCESS_KEY" \
    --secret-key "$S3_SECRET_KEY" "$STATE/s3" >"$STATE/s3s-fs.log" 2>&1 &
  echo $! >"$STATE/s3s-fs.pid"

  # moto checks signatures after its first 3 actions: the ones that make the test's IAM
  # user, its key and its allow-all policy (so a wrong secret key is refused).
  (cd "$STATE" && INITIAL_NO_AUTH_ACTION_COUNT=3 exec "$TOOLS/moto-venv/bin/moto_server" \
    -H 127.0.0.1 -p "$MOTO_PORT") >"$STATE/moto.log" 2>&1 &
  echo $! >"$STATE/moto.pid"
  "$TOOLS/azurite/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
    --location "$STATE/azurite" --silent --disableTelemetry >"$STATE/azurite.log" 2>&1 &
  echo $! >"$STATE/azurite.pid"
  wait_port moto "$MOTO_PORT"
  local aws_keys
  aws_keys=$(MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT" "$TOOLS/moto-venv/bin/python" - <<'PY'
import json, os, boto3
from botocore.config import Config
iam = boto3.client("iam", endpoint_url=os.environ["MOTO_ENDPOINT"], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
                   config=Config(retries={"max_attempts": 1}))  # a retry would use an action
iam.create_user(UserName="ds-test")
key = iam.create_access_key(UserName="ds-test")["AccessKey"]
iam.put_user_policy(UserName="ds-test", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
  )
  local aws_access_key aws_secret_key
  read -r aws_access_key aws_secret_key <<<"$aws_keys"

  wait_port kafka "$KAFKA_PORT"
  wait_port kafka-ssl "$KAFKA_SSL_PORT"
  wait_port kafka-sasl-ssl "$KAFKA_SASL_SSL_PORT"
  wait_port s3s-fs "$S3_PORT"
  wait_port azurite "$AZURITE_PORT"
  cat <<ENV
export DS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres
export DS_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
export DS_TEST_KAFKA_SSL_BOOTSTRAP=localhost:$KAFKA_SSL_PORT
export DS_TEST_KAFKA_SASL_SSL_BOOTSTRAP=localhost:$KAFKA_SASL_SSL_PORT
export DS_TEST_KAFKA_CA=$STATE/ca.pem
export DS_TEST_KAFKA_SCRAM_PASSWORD=$KAFKA_SCRAM_PASSWORD
export DS_TEST_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export DS_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY
export DS_TEST_S3_SECRET_KEY=$S3_SECRET_KEY
export DS_TEST_AWS_ENDPOINT=http://127.0.0.1:$MOTO_PORT
export DS_TEST_AWS_ACCESS_KEY=$aws_access_key
export DS_TEST_AWS_SECRET_KEY=$aws_secret_key
export DS_TEST_AZURITE_URL=http://127.0.0.1:$AZURITE_PORT/$AZURITE_ACCOUNT
export DS_TEST_AZURITE_KEY=$AZURITE_KEY
ENV
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
