#!/usr/bin/env bash
# Port Ocean, unmodified (PyPI port-ocean, the venv of `make ocean-venv`), resyncing the demo
# integration of Tests/Ocean against port-emulator (release build): N entities (default
# 10,000) of one blueprint, in Ocean's ONCE mode (resync, then exit).
#  - first resync: every entity is new (bulk upserts of 20, 50 in flight);
#  - second resync: every entity exists (Ocean searches for them first, then upserts);
#  - third resync with N-1000 items: the 1,000 left out are found through
#    datasource-entities and deleted in bulk.
# Each figure: Ocean's own resync span (resyncState.lastResyncStart to lastResyncEnd, as Ocean
# reports it to the emulator) and the wall time from Ocean's start to its exit. Three runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
VENV=${PORT_OCEAN_VENV:-$PWD/.build/ocean-venv}
N=${BENCH_OCEAN_ENTITIES:-10000}
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    swift build -c release --product port-emulator >&2
fi
if [ ! -x "$VENV/bin/ocean" ]; then
    make --no-print-directory ocean-venv >&2
fi
echo "## 15. Port Ocean resyncing $N entities through port-emulator (ONCE mode, 3 runs)"
if [ ! -x "$VENV/bin/ocean" ]; then
    echo "skipped: no Python 3.12 for Port Ocean (make ocean-venv)"
    exit 0
fi
WORK=$(mktemp -d)
EMULATOR=
trap '[ -n "$EMULATOR" ] && kill $EMULATOR 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
"$BIN/port-emulator" serve --port 0 --env-file "$WORK/env" --log-level error --fixtures "$WORK/none" \
    >/dev/null 2>&1 &
EMULATOR=$!
mkdir -p "$WORK/none"
for _ in $(seq 300); do [ -s "$WORK/env" ] && break; sleep 0.1; done
set -a; . "$WORK/env"; set +a
cp -r Tests/Ocean/demo-integration "$WORK/integ"
TOKEN=$(curl -sf -X POST "$PORT_API_BASE_URL/v1/auth/access_token" -H 'Content-Type: application/json' \
    -d "{\"clientId\":\"$PORT_CLIENT_ID\",\"clientSecret\":\"$PORT_CLIENT_SECRET\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["accessToken"])')
resync() {  # resync ITEMS: prints "resync_s=… wall_s=…"
    local started ended
    started=$(date +%s%N)
    (cd "$WORK/integ" && env -u PYTHONPATH OCEAN__PORT__BASE_URL="$PORT_API_BASE_URL" \
        OCEAN__PORT__CLIENT_ID="$PORT_CLIENT_ID" OCEAN__PORT__CLIENT_SECRET="$PORT_CLIENT_SECRET" \
        OCEAN__INTEGRATION__IDENTIFIER=demo-integ OCEAN__INTEGRATION__TYPE=demo OCEAN__EVENT_LISTENER__TYPE=ONCE \
        OCEAN__CACHING_STORAGE_MODE=memory APPLICATION__ENABLE_HTTP_LOGGING=false DEMO_N="$1" \
        APPLICATION__LOG_LEVEL=WARNING "$VENV/bin/ocean" sail -p 0 >"$WORK/ocean.log" 2>&1) ||
        { echo "ocean failed:"; tail -20 "$WORK/ocean.log"; exit 1; }
    ended=$(date +%s%N)
    curl -sf "$PORT_API_BASE_URL/v1/integration/demo-integ" -H "Authorization: Bearer $TOKEN" | python3 -c '
import json, sys
from datetime import datetime
state = json.load(sys.stdin)["integration"]["resyncState"]
span = datetime.fromisoformat(state["lastResyncEnd"]) - datetime.fromisoformat(state["lastResyncStart"])
status = state["status"]
print(f"status={status} resync_s={span.total_seconds():.2f}", end=" ")'
    echo "wall_s=$(awk "BEGIN{printf \"%.2f\", ($ended-$started)/1e9}")"
}
count() {
    curl -sf "$PORT_API_BASE_URL/v1/blueprints/demoItem/entities-count" -H "Authorization: Bearer $TOKEN" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["count"])'
}
for run in 1 2 3; do
    curl -sf -X POST "$PORT_API_BASE_URL/_emulator/reset" -d '{}' >/dev/null
    echo "run $run: new      $(resync "$N") entities=$(count)"
    echo "run $run: existing $(resync "$N") entities=$(count)"
    echo "run $run: stale    $(resync "$((N - 1000))") entities=$(count)"
done
