#!/usr/bin/env bash
# `make fuzz`: the long schemathesis run the suite only samples. It starts port-emulator with
# the fixtures, creates a run and an entity for the fuzzer to aim at, and runs every phase
# (examples, coverage, fuzzing, stateful) against /openapi.json with the checks
# not_a_server_error and response_schema_conformance. Exits with schemathesis's status.
# MAX_EXAMPLES (default 100) sets the examples per operation; the report is in
# bench-results/fuzz.log.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >&2
BIN=$(swift build --show-bin-path)
WORK=$(mktemp -d)
ENV_FILE="$WORK/emulator.env"
"$BIN/port-emulator" serve --port 0 --env-file "$ENV_FILE" --log-level error &
EMULATOR=$!
trap 'kill $EMULATOR 2>/dev/null; wait $EMULATOR 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 300); do [ -f "$ENV_FILE" ] && break; sleep 0.1; done
[ -f "$ENV_FILE" ] || { echo "fuzz: port-emulator did not become ready" >&2; exit 1; }
set -a; . "$ENV_FILE"; set +a
BASE=$PORT_API_BASE_URL

TOKEN=$(curl -sf -X POST "$BASE/v1/auth/access_token" -H 'Content-Type: application/json' \
    -d "{\"clientId\":\"$PORT_CLIENT_ID\",\"clientSecret\":\"$PORT_CLIENT_SECRET\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])')
RUN_ID=$(curl -sf -X POST "$BASE/v1/actions/create_vm/runs" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"properties":{"name":"fuzz-vm","cpu":2}}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["run"]["id"])')
curl -sf -X POST "$BASE/v1/blueprints/service/entities" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{"identifier":"fuzz-service","title":"Fuzz","properties":{}}' >/dev/null
# What the destructive operations (bulk delete, delete all, renames, action PUT and DELETE) aim at.
curl -sf -X POST "$BASE/v1/blueprints" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"identifier":"fuzz_scratch","title":"Scratch","schema":{"properties":{}}}' >/dev/null
curl -sf -X POST "$BASE/v1/actions" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"identifier":"fuzz_scratch_action","title":"Scratch","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{}}},"invocationMethod":{"type":"KAFKA"}}' >/dev/null
cat >"$WORK/schemathesis.toml" <<TOML
[parameters]
action_identifier = "create_vm"
blueprint_identifier = "service"
entity_identifier = "fuzz-service"
run_id = "$RUN_ID"
identifier = "fuzz_scratch"

[[operations]]
include-path-regex = "/(all-entities|bulk/entities/delete|rename)$"
parameters = { blueprint_identifier = "fuzz_scratch" }

[[operations]]
include-name-regex = '^(PUT|DELETE) /v1/actions/[{]action_identifier[}]$'
parameters = { action_identifier = "fuzz_scratch_action" }
TOML

mkdir -p bench-results
echo "fuzz: schemathesis against $BASE/openapi.json (report: bench-results/fuzz.log)" >&2
status=0
schemathesis --config-file "$WORK/schemathesis.toml" run "$BASE/openapi.json" --url "$BASE" \
    -H "Authorization: Bearer $TOKEN" --checks not_a_server_error,response_schema_conformance \
    --max-examples "${MAX_EXAMPLES:-100}" --no-color >bench-results/fuzz.log 2>&1 || status=$?
sed -n '/SUMMARY/,$p' bench-results/fuzz.log
exit $status
