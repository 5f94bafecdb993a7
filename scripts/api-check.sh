#!/usr/bin/env bash
# Checks a running server's REST API against its own OpenAPI 3.1 document.
#   scripts/api-check.sh URL TOKEN    e.g. scripts/api-check.sh http://127.0.0.1:8080 "$token"
# 1. Downloads URL/api/v1/openapi.json and validates it as OpenAPI 3.1 (openapi-spec-validator).
# 2. Runs schemathesis against the live server with a bearer token: the examples, coverage,
#    fuzzing and stateful (OpenAPI links) phases, with the response-conformance checks.
# Exits non-zero when the document is invalid, a check fails, or the run shows the token was
# refused everywhere (schemathesis itself only warns about that).
# Tools: scripts/setup.sh --test installs them in $DS_TOOLS_DIR/api-venv.
# Environment (all optional):
#   API_CHECK_EXAMPLES  test cases per operation and phase (15: ~35 operations in under 2 min)
#   API_CHECK_SEED      seed, for a reproducible run (1)
#   API_CHECK_PHASES    phases to run (examples,coverage,fuzzing,stateful)
#   API_CHECK_BASE_URL  base URL of the operations; default: URL + the path of the document's
#                       first servers entry (relative or absolute), so requests always go to URL
#   API_CHECK_WORKERS   concurrent workers (1, which keeps a seeded run reproducible)
#   API_CHECK_FAIL_ON   schemathesis warnings that fail the run
#                       (missing_auth,base_url_mismatch,method_not_allowed)
#   API_CHECK_REPORT_DIR  if set, a JUnit XML report is written there
set -euo pipefail

if [ $# -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
  echo "usage: $0 URL TOKEN   (URL: the server, e.g. http://127.0.0.1:8080; TOKEN: a bearer token)" >&2
  exit 2
fi
url=${1%/}
token=$2
venv="${DS_TOOLS:-${DS_TOOLS_DIR:-$HOME/.cache/data-streaming/tools}}/api-venv"
examples=${API_CHECK_EXAMPLES:-15}
seed=${API_CHECK_SEED:-1}
phases=${API_CHECK_PHASES:-examples,coverage,fuzzing,stateful}
workers=${API_CHECK_WORKERS:-1}
fail_on=${API_CHECK_FAIL_ON:-missing_auth,base_url_mismatch,method_not_allowed}
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks+=,response_headers_conformance,response_schema_conformance

log() { printf '[api-check] %s\n' "$*"; }
die() { printf '[api-check] FAIL: %s\n' "$*" >&2; exit 1; }

for tool in st openapi-spec-validator python; do
  [ -x "$venv/bin/$tool" ] || die "$venv/bin/$tool is missing: run scripts/setup.sh --test"
done

# schemathesis and Hypothesis write .schemathesis/ and .hypothesis/ into the working
# directory (a crash cache that later runs replay, and an example database): keep them out
# of the clone, and out of the next run.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${API_CHECK_REPORT_DIR:-}" ]; then
  mkdir -p "$API_CHECK_REPORT_DIR"
  API_CHECK_REPORT_DIR=$(cd "$API_CHECK_REPORT_DIR" && pwd)
fi
cd "$work"

doc_url="$url/api/v1/openapi.json"
log "GET $doc_url"
curl -fsS --retry 5 --retry-connrefused --retry-delay 1 --max-time 30 \
  -H "Authorization: Bearer $token" -o openapi.json "$doc_url" ||
  die "could not download $doc_url"

log "openapi-spec-validator --schema 3.1 openapi.json"
if ! "$venv/bin/openapi-spec-validator" --schema 3.1 openapi.json; then
  die "$doc_url is not a valid OpenAPI 3.1 document (see above)"
fi

if [ -n "${API_CHECK_BASE_URL:-}" ]; then
  base_url=${API_CHECK_BASE_URL%/}
else
  # URL + the path of servers[0].url (its variables at their defaults); "" without servers.
  base_path=$("$venv/bin/python" - <<'PY'
import json, re, urllib.parse
doc = json.load(open("openapi.json"))
servers = doc.get("servers") or [{}]
server = servers[0]
defaults = {k: str(v.get("default", "")) for k, v in (server.get("variables") or {}).items()}
raw = re.sub(r"\{([^}]+)\}", lambda m: defaults.get(m.group(1), ""), server.get("url", "") or "")
print(urllib.parse.urlsplit(raw).path.rstrip("/"))
PY
  )
  base_url="$url$base_path"
fi

# Warnings that fail the run exist only in a config file: `warnings.fail-on`.
{
  printf '[warnings]\nfail-on = ['
  sep=
  IFS=, read -ra names <<<"$fail_on"
  for name in "${names[@]}"; do printf '%s"%s"' "$sep" "$name"; sep=', '; done
  printf ']\n'
} >schemathesis.toml

args=(--config-file "$work/schemathesis.toml" --no-color run "$doc_url"
  --url "$base_url"
  -H "Authorization: Bearer $token"
  --checks "$checks"
  --phases "$phases"
  --max-examples "$examples"
  --seed "$seed"
  --workers "$workers"
  --generation-database none
  --request-timeout 10)
if [ -n "${API_CHECK_REPORT_DIR:-}" ]; then
  args+=(--report junit --report-junit-path "$API_CHECK_REPORT_DIR/api-check-junit.xml")
fi

shown=("${args[@]/#Authorization: Bearer */Authorization: Bearer ***}")
log "st$(for a in "${shown[@]}"; do case $a in *' '*) printf " '%s'" "$a" ;; *) printf ' %s' "$a" ;; esac; done)"
status=0
NO_COLOR=1 "$venv/bin/st" "${args[@]}" || status=$?
[ "$status" -eq 0 ] ||
  die "schemathesis: failed checks, or warnings in API_CHECK_FAIL_ON ($fail_on), against $base_url (exit $status; see FAILURES / WARNINGS above)"
log "passed"
