#!/usr/bin/env bash
# Property-based API test: schemathesis (from PyPI, in a virtualenv under the
# tools folder) generates requests from /api/v1/openapi.json against a fresh
# demo server and fails on any 5xx or any answer that breaks the schema.
#   usage: scripts/schemathesis.sh SERVER_BINARY WORK_DIR PORT
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
server_bin=$1
work=$2
port=$3
version=4.32.5
venv="$TESSERA_TOOLS_DIR/schemathesis-$version"
if [ ! -x "$venv/bin/st" ]; then
  echo "==> installing schemathesis $version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

db="sqlite://$work/schemathesis.db"
DATABASE_URL="$db" TESSERA_ADDR="127.0.0.1:$port" TESSERA_SIGNUPS_PER_CLIENT=100000 RUST_LOG=error "$server_bin" serve --demo &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 1
done
key=$(DATABASE_URL="$db" RUST_LOG=error "$server_bin" api-key --owner owner@harbour.example --name schemathesis)

# 150 examples per operation over the documented operations: well over 1,000
# requests; a fixed seed makes a failure repeatable. One worker and a 30 s
# limit per request: this checks answers, not speed (a debug build on a
# loaded 2-core machine once took over 10 s for a write).
"$venv/bin/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --url "http://127.0.0.1:$port/api/v1" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples 150 --seed 20261202 --workers 1 --request-timeout 30 --no-color
