#!/usr/bin/env bash
# The OpenAPI document against the live server:
#   1. openapi-spec-validator and Redocly's linter validate the document the server serves;
#   2. schemathesis fuzzes every operation (every check, stateful links included) and must
#      report no failure of any kind;
#   3. a Python client generated from the document (openapi-python-client) sends a
#      message, reads it back and lists messages.
# The server talks to a fake Graph API / WSAPI on loopback (scripts/fake-upstream.py),
# never to Meta.
# Usage: scripts/api-conformance.sh <path to wa-server-example binary>
# Installs its Python tools into target/py (inside the repo; nothing is cached elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:?usage: $0 <server binary>}"
VENV=target/py
if [ ! -x "$VENV/bin/openapi-python-client" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5" \
        "openapi-spec-validator==0.7.2" "openapi-python-client==0.26.1"
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
FAKE=$(free_port)
BASE="http://127.0.0.1:$PORT"
python3 scripts/fake-upstream.py "$FAKE" &
FAKE_PID=$!
# Limits high enough that fuzzing is not throttled (429 is still documented and allowed).
rm -f target/conformance.db*
"$BIN" --bind "127.0.0.1:$PORT" --rate-limit-json 1000000 --rate-limit-qr 1000000 \
    --database target/conformance.db --meta-app-secret conformance --meta-verify-token conformance \
    --default-business-phone "+14155550000" --plan-limit-multiplier 1000 \
    --graph-base-url "http://127.0.0.1:$FAKE" --wsapi-base-url "http://127.0.0.1:$FAKE" \
    --poll-ms 20 >target/conformance-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER $FAKE_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$BASE/api/v1/openapi.json" -o target/openapi.json
register() {
    curl -fsS -X POST "$BASE/auth/register" -H 'content-type: application/json' \
        -d "{\"name\":\"$1\",\"email\":\"$1@example.com\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["apiKey"])'
}

echo "-- openapi-spec-validator"
"$VENV/bin/openapi-spec-validator" target/openapi.json

echo "-- redocly lint (redocly.yaml)"
if [ ! -x target/redocly/node_modules/.bin/redocly ]; then
    mkdir -p target/redocly
    (cd target/redocly && npm install --no-audit --no-fund --silent "@redocly/cli@2.77.0" >/dev/null)
fi
NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true     target/redocly/node_modules/.bin/redocly lint --config redocly.yaml target/openapi.json

echo "-- schemathesis"
# positive_data_acceptance is left out: the schema cannot express WhatsApp's username rules
# or libphonenumber validity, so schema-valid strings may get a documented 400 with a code.
# Every other check runs: no 5xx, responses match their schemas and documented statuses,
# content types, negative data rejected. Key rotation would revoke the key the other
# operations use, so it is fuzzed last, on its own key.
KEY=$(register conformance)
timeout 600 "$VENV/bin/schemathesis" run "$BASE/api/v1/openapi.json" \
    --checks all --exclude-checks positive_data_acceptance \
    --exclude-path /auth/me/rotate-key \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-100}" --seed 20261123 --no-color \
    -H "Authorization: Bearer $KEY"
ROTATE_KEY=$(register rotation)
timeout 300 "$VENV/bin/schemathesis" run "$BASE/api/v1/openapi.json" \
    --checks all --exclude-checks positive_data_acceptance \
    --include-path /auth/me/rotate-key --phases examples,coverage,fuzzing \
    --max-examples 5 --seed 20261123 --no-color \
    -H "Authorization: Bearer $ROTATE_KEY"

echo "-- a generated client"
rm -rf target/py-client && mkdir -p target/py-client
(cd target/py-client && "../py/bin/openapi-python-client" generate --path ../openapi.json \
    --meta none --output-path wa_kit_client >generate.log 2>&1) || {
    cat target/py-client/generate.log
    exit 1
}
CLIENT_KEY=$(register client)
PYTHONPATH=target/py-client "$VENV/bin/python" scripts/generated-client.py "$BASE" "$CLIENT_KEY"
