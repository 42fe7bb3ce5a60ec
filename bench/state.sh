#!/usr/bin/env bash
# serve --state-dir's restart (issue #28): a state of 100,000 entities and 10,000 finished runs
# (two logs each), written through the stores' own paths; then serve timed from spawn to its
# ready line on it: from the snapshot a graceful stop leaves, from the log alone (as kill -9
# leaves it, before any compaction), and without --state-dir (the baseline), interleaved.
# Three runs of five rounds; BENCH_STATE_ENTITIES and BENCH_STATE_RUNS change the size.
# Then what keeping the state costs a write: PATCH req/s without and with --state-dir.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    echo "== building (release)" >&2
    swift build -c release --product port-bench >&2
    swift build -c release --product port-emulator >&2
fi
echo "## 18. serve --state-dir: spawn to ready on ${BENCH_STATE_ENTITIES:-100000} entities and ${BENCH_STATE_RUNS:-10000} runs (3 runs, medians of 5 starts [min-max])"
for run in 1 2 3; do
    echo "run $run:"
    "$BIN/port-bench" state-restart --executable "$BIN/port-emulator" \
        --entities "${BENCH_STATE_ENTITIES:-100000}" --runs "${BENCH_STATE_RUNS:-10000}"
done

# What keeping the state costs a write: PATCH requests per second on one run (each a run
# record and a journal record written before the answer) without --state-dir, with it
# (batch, the default) and with --state-sync always; two interleaved rounds of wrk -d10s.
. bench/lib.sh
if command -v wrk >/dev/null; then
    PORT=18097
    CONNECTIONS=${BENCH_CONNECTIONS:-32}
    PIDS=()
    cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
    trap cleanup EXIT
    patch_rate() { # extra serve arguments...
        local serve token run rate
        "$BIN/port-emulator" serve --port $PORT --fixtures fixtures --log-level error "$@" > /dev/null & serve=$!
        PIDS+=($serve)
        wait_for_port $PORT
        token=$(curl -s -X POST http://127.0.0.1:$PORT/v1/auth/access_token -H 'Content-Type: application/json' \
            -d '{"clientId":"emulator-client-id","clientSecret":"emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1"}' \
            | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
        run=$(curl -s -X POST http://127.0.0.1:$PORT/_emulator/runs -H 'Content-Type: application/json' \
            -d '{"action":"deploy_service","properties":{"version":"1.0"}}' | sed -n 's/.*"id":"\(r_[^"]*\)".*/\1/p')
        rate=$(TOKEN=$token wrk -t2 -c"$CONNECTIONS" -d10s -s bench/wrk/patch-run.lua \
            "http://127.0.0.1:$PORT/v1/actions/runs/$run" | awk '/Requests\/sec/ {print $2}')
        kill $serve; wait $serve 2>/dev/null || true
        echo "$rate"
    }
    echo "### PATCH req/s on one run (wrk -t2 -c$CONNECTIONS -d10s), 2 interleaved rounds"
    for round in 1 2; do
        none=$(patch_rate)
        state=$(mktemp -d); batch=$(patch_rate --state-dir "$state/s"); rm -rf "$state"
        state=$(mktemp -d); always=$(patch_rate --state-dir "$state/s" --state-sync always); rm -rf "$state"
        echo "round $round: without --state-dir $none; batch $batch (ratio $(ratio "$batch" "$none")); always $always (ratio $(ratio "$always" "$none"))"
    done
else
    echo "(PATCH req/s skipped: wrk is missing; make bench-deps installs it)"
fi
