#!/usr/bin/env bash
# Fuzzes a running GlucoLens API from its own OpenAPI document with schemathesis, as a freshly registered user:
# every response must be free of server errors (5xx) and match the document's schema for its status.
#
#   BASE_URL=http://127.0.0.1:3000 PYTHON=/path/to/venv/bin/python infra/schemathesis.sh
#
# PYTHON is a Python with schemathesis 4 installed. Run the server with a high RATE_LIMIT_PER_MINUTE: every
# request here carries the same user's token, far beyond the production 100 per minute.
# Optional: MAX_EXAMPLES (per operation, default 20), SCHEMATHESIS_SEED (default 1: the test command is
# deterministic; infra/fuzz.sh runs random seeds), REPORT_DIR.
#
# Every operation is really exercised: the Nightscout routes carry the user's api-secret, GET /imports/{id} gets the
# id of a real import, and the two operations that replace or revoke that api-secret run last, on their own.
set -euo pipefail

: "${BASE_URL:?set BASE_URL, e.g. http://127.0.0.1:3000}"
: "${PYTHON:?set PYTHON to a Python with schemathesis installed}"
MAX_EXAMPLES=${MAX_EXAMPLES:-20}
SEED=${SCHEMATHESIS_SEED:-1}
REPORT_DIR=${REPORT_DIR:-$(mktemp -d)}
mkdir -p "$REPORT_DIR" && REPORT_DIR=$(cd "$REPORT_DIR" && pwd)

json_field() { # json_field <python expression on `d`>: reads JSON on stdin
    "$PYTHON" -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

post_json() { # post_json <path> <body> [curl args...]: prints the response body, fails on a non-2xx status
    local path=$1 body=$2
    shift 2
    curl --silent --show-error --fail-with-body -X POST -H 'content-type: application/json' "$@" \
        --data "$body" "$BASE_URL$path"
}

email="schemathesis-$(date +%s)-$RANDOM@example.com"
password="fuzz-$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))')"
credentials=$(EMAIL="$email" PASSWORD="$password" "$PYTHON" -c \
    'import json, os; print(json.dumps({"email": os.environ["EMAIL"], "password": os.environ["PASSWORD"]}))')

post_json /api/v1/auth/register "$credentials" >/dev/null
access_token=$(post_json /api/v1/auth/login "$credentials" | json_field 'd["tokens"]["access_token"]')
bearer="Authorization: Bearer $access_token"
api_secret=$(post_json /api/v1/integrations/nightscout/secret '{}' -H "$bearer" | json_field 'd["api_secret_sha1"]')
import_id=$(post_json "/api/v1/imports?format=nightscout_entries" \
    '[{"type":"sgv","sgv":120,"date":1735689600000,"dateString":"2025-01-01T00:00:00.000Z","device":"fuzz"}]' \
    -H "$bearer" | json_field 'd["id"]')
echo "schemathesis: fuzzing $BASE_URL as a new user (seed $SEED, $MAX_EXAMPLES examples per operation)"

# Schemathesis keeps its crash cache (for `st replay`) in the working directory: keep it with the reports.
cd "$REPORT_DIR"
cat >schemathesis.toml <<TOML
[[operations]]
include-name = "GET /api/v1/imports/{id}"
parameters = { "path.id" = "$import_id" }
TOML

run() { # run <report subdirectory> [schemathesis options...]
    local reports="$REPORT_DIR/$1"
    shift
    "$PYTHON" -m schemathesis.cli --config-file "$REPORT_DIR/schemathesis.toml" run "$BASE_URL/api/v1/openapi.json" \
        --header "$bearer" \
        --header "api-secret: $api_secret" \
        --checks not_a_server_error,response_schema_conformance \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --generation-database none \
        --request-timeout 30 \
        --no-color \
        --report junit --report-dir "$reports" \
        "$@"
}

# Erasing the account would turn every later request into a 401 and end the run's coverage; the handler tests
# cover DELETE /users/me instead. Replacing or revoking the api-secret would do the same to the Nightscout routes,
# and logging out to every bearer route, so those run after everything else, logout last.
secret_routes='^(POST|DELETE) /api/v1/integrations/nightscout/secret$'
run main --exclude-name 'DELETE /api/v1/users/me' --exclude-name 'POST /api/v1/auth/logout' \
    --exclude-name-regex "$secret_routes"
run secret --include-name-regex "$secret_routes"
run logout --include-name 'POST /api/v1/auth/logout'
