#!/usr/bin/env bash
# Fuzzes a running GlucoLens API from its own OpenAPI document with schemathesis, as a freshly registered user:
# every response must be free of server errors (5xx) and match the document's schema for its status.
#
#   BASE_URL=http://127.0.0.1:3000 PYTHON=/path/to/venv/bin/python infra/schemathesis.sh
#
# PYTHON is a Python with schemathesis 4 installed. Run the server with a high RATE_LIMIT_PER_MINUTE: every
# request here carries the same user's token, far beyond the production 100 per minute.
# Optional: MAX_EXAMPLES (per operation, default 20), SCHEMATHESIS_SEED (reproduce a run), REPORT_DIR.
set -euo pipefail

: "${BASE_URL:?set BASE_URL, e.g. http://127.0.0.1:3000}"
: "${PYTHON:?set PYTHON to a Python with schemathesis installed}"
MAX_EXAMPLES=${MAX_EXAMPLES:-20}
SEED=${SCHEMATHESIS_SEED:-$RANDOM}
REPORT_DIR=${REPORT_DIR:-$(mktemp -d)}
mkdir -p "$REPORT_DIR" && REPORT_DIR=$(cd "$REPORT_DIR" && pwd)

json_field() { # json_field <python expression on `d`>: reads JSON on stdin
    "$PYTHON" -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

post_json() { # post_json <path> <body>: prints the response body, fails on a non-2xx status
    curl --silent --show-error --fail-with-body -X POST -H 'content-type: application/json' \
        --data "$2" "$BASE_URL$1"
}

email="schemathesis-$(date +%s)-$RANDOM@example.com"
password="fuzz-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))')"
credentials=$(EMAIL="$email" PASSWORD="$password" "$PYTHON" -c \
    'import json, os; print(json.dumps({"email": os.environ["EMAIL"], "password": os.environ["PASSWORD"]}))')

post_json /api/v1/auth/register "$credentials" >/dev/null
access_token=$(post_json /api/v1/auth/login "$credentials" | json_field 'd["tokens"]["access_token"]')
echo "schemathesis: fuzzing $BASE_URL as a new user (seed $SEED, $MAX_EXAMPLES examples per operation)"

# Schemathesis keeps its crash cache (for `st replay`) in the working directory: keep it with the reports.
cd "$REPORT_DIR"
# Erasing the account would turn every later request into a 401 and end the run's coverage; the handler tests
# cover DELETE /users/me instead.
exec "$PYTHON" -m schemathesis.cli run "$BASE_URL/api/v1/openapi.json" \
    --header "Authorization: Bearer $access_token" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-name 'DELETE /api/v1/users/me' \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --request-timeout 30 \
    --no-color \
    --report junit --report-dir "$REPORT_DIR"
