#!/usr/bin/env bash
# `make run`: port-emulator (Port's API + embedded Kafka) and port-consumer (with the fixture
# handler scripts) driving every fixture action to completion, then a summary. Exits 0 when
# every run ended as expected (rollback_service fails on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building" >&2
swift build >&2
BIN=$(swift build --show-bin-path)
WORK=$(mktemp -d)
ENV_FILE="$WORK/emulator.env"
PIDS=()
cleanup() {
    # The consumer first: it leaves its group while the emulator's Kafka is still there.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill "${PIDS[$i]}" 2>/dev/null || true
        wait "${PIDS[$i]}" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/port-emulator" serve --port 0 --env-file "$ENV_FILE" --log-level warning &
PIDS+=($!)
for _ in $(seq 300); do [ -f "$ENV_FILE" ] && break; sleep 0.1; done
[ -f "$ENV_FILE" ] || { echo "demo: port-emulator did not become ready" >&2; exit 1; }
set -a; . "$ENV_FILE"; set +a

# port-consumer as in production: SASL_SSL with SCRAM-SHA-512 and the CA, through the
# embedded Kafka's front, under Port's ACLs (its group is ORG_ID.consumer).
echo "== port-consumer connects as to Port's brokers: SASL_SSL $KAFKA_SASL_SSL_BROKERS, user $KAFKA_USERNAME"
KAFKA_SECURITY_PROTOCOL=SASL_SSL KAFKA_BROKERS="$KAFKA_SASL_SSL_BROKERS" \
    "$BIN/port-consumer" --env-file "$ENV_FILE" --log-level notice &
PIDS+=($!)

FAILURES=0
run() {  # expected-exit description trigger-args...
    local expected=$1 description=$2; shift 2
    echo
    echo "== $description"
    local status=0
    "$BIN/port-emulator" trigger "$@" --wait --timeout 60s || status=$?
    if [ "$status" -ne "$expected" ]; then
        echo "demo: expected exit $expected, got $status" >&2
        FAILURES=$((FAILURES + 1))
    fi
}

token() {
    curl -sf -X POST "$PORT_API_URL/auth/access_token" -H 'Content-Type: application/json' \
        -d "{\"clientId\":\"$PORT_CLIENT_ID\",\"clientSecret\":\"$PORT_CLIENT_SECRET\"}" |
        sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}

run 0 "create_microservice: the consumer's script creates the microservice entity" \
    create_microservice --input name=checkout --input region=eu-west-1 --as dev@example.com
run 0 "deploy_microservice (DAY-2 on the entity just created)" \
    deploy_microservice --entity checkout --input environment=production
run 0 "create_vm: provisions and registers the vm entity" \
    create_vm --input name=build-runner --input cpu=4
curl -sf -X POST "$PORT_API_URL/blueprints/service/entities?upsert=true" -H "Authorization: Bearer $(token)" \
    -H 'Content-Type: application/json' -d '{"identifier":"payments","properties":{"version":"2.4.0"}}' >/dev/null
run 0 "deploy_service (the proof of concept's action) on the payments service" \
    deploy_service --entity payments --input version=2.4.1 --input environment=staging
run 1 "rollback_service: its script fails on purpose, the run ends as FAILURE" \
    rollback_service --entity payments --input reason=demo

echo
echo "== resize_vm needs approval: it waits until a lead approves, then the consumer resizes the vm"
RESIZE=$("$BIN/port-emulator" trigger resize_vm --entity build-runner --input cpu=8)
run_status() { python3 -c 'import json, sys; print(json.load(sys.stdin)["run"]["status"])'; }
echo "$RESIZE: $(curl -sf "$PORT_API_BASE_URL/_emulator/runs/$RESIZE" | run_status)"
curl -sf -X PATCH "$PORT_API_URL/actions/runs/$RESIZE/approval" -H "Authorization: Bearer $(token)" \
    -H 'Content-Type: application/json' -d '{"status":"APPROVE","description":"demo"}' >/dev/null
FINAL=$(curl -sf "$PORT_API_BASE_URL/_emulator/runs/$RESIZE/wait?timeout=60s" | run_status)
echo "$RESIZE approved: $FINAL"
[ "$FINAL" = SUCCESS ] || FAILURES=$((FAILURES + 1))

echo
echo "== workflow provision_environment: one KAFKA node, completed by the consumer"
WORKFLOW=$(curl -sf -X POST "$PORT_API_BASE_URL/_emulator/workflows/provision_environment/runs" \
    -d '{"inputs":{"name":"preview-7"}}' | sed -n 's/.*"id":"\(wfr_[^"]*\)".*/\1/p')
for _ in $(seq 300); do
    DETAIL=$(curl -sf "$PORT_API_BASE_URL/_emulator/workflows/runs/$WORKFLOW")
    case "$DETAIL" in *'"status":"COMPLETED"'*) break ;; esac
    sleep 0.1
done
echo "$WORKFLOW: $(echo "$DETAIL" | sed -n 's/.*"status":"\([A-Z_]*\)","result":"\([A-Z_]*\)".*/\1 \2/p')"
case "$DETAIL" in *'"result":"SUCCESS"'*) ;; *) FAILURES=$((FAILURES + 1)) ;; esac

run 0 "deploy_with_secrets: two secret inputs, encrypted on Kafka, decrypted for the script on stdin" \
    deploy_with_secrets --input service=checkout --input apiToken=tok-demo-0123456789 \
    --input 'credentials={"user":"deployer","password":"demo-password"}'
run 0 "sync_agent_deploy: a synchronized action for Port's execution agent (signed), reported by the consumer" \
    sync_agent_deploy --input service=payments

echo
echo "== automations: a TTL timer on the emulator's clock, and what the runs above fired"
TTL=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).isoformat())')
curl -sf -X POST "$PORT_API_URL/blueprints/environment/entities" -H "Authorization: Bearer $(token)" \
    -H 'Content-Type: application/json' -d "{\"identifier\":\"preview-42\",\"properties\":{\"status\":\"active\",\"ttl\":\"$TTL\"}}" >/dev/null
echo "preview-42 expires at $TTL; the clock moves 2 hours: $(curl -sf -X POST "$PORT_API_BASE_URL/_emulator/clock" -d '{"advance":"2h"}')"
for automation in announce_microservice alert_rollback_failure expire_environment; do
    RUN=$(curl -sf "$PORT_API_URL/actions/runs?action=$automation" -H "Authorization: Bearer $(token)" |
        python3 -c 'import json, sys; runs = json.load(sys.stdin)["runs"]; print(runs[0]["id"] if runs else "")')
    if [ -z "$RUN" ]; then
        echo "$automation: did not fire" >&2
        FAILURES=$((FAILURES + 1))
        continue
    fi
    FINAL=$(curl -sf "$PORT_API_BASE_URL/_emulator/runs/$RUN/wait?timeout=60s" | run_status)
    echo "$automation fired $RUN: $FINAL"
    [ "$FINAL" = SUCCESS ] || FAILURES=$((FAILURES + 1))
done

echo
echo "== what Port saw"
curl -sf "$PORT_API_BASE_URL/_emulator/runs" | python3 -c '
import json, sys
for run in json.load(sys.stdin)["runs"]:
    entities = ", ".join(e["blueprint"] + "/" + e["identifier"] for e in run["affectedEntities"]) or "-"
    print("%s  %-20s %-8s links=%d logs=%d entities=%s" % (
        run["id"], run["action"]["identifier"], run["status"], len(run["link"]), len(run["logs"]), entities))
'
VIOLATIONS=$(curl -sf "$PORT_API_BASE_URL/_emulator/violations" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["violations"]))')
echo "requests Port would have refused: $VIOLATIONS"
[ "$VIOLATIONS" = 0 ] || FAILURES=$((FAILURES + 1))
[ "$FAILURES" = 0 ] && echo "demo: every run ended as expected" || { echo "demo: $FAILURES unexpected outcomes" >&2; exit 1; }
