#!/usr/bin/env bash
# make bench-memory (section 17 of make bench): the resident memory of `port-emulator serve`
# (release, default caps) under a long load, sampled as it goes:
#  - 1,000,000 PATCH requests on one run (bench/wrk/patch-run.lua; each one a journal entry
#    and an audit entry), in chunks of wrk -d$CHUNK, VmRSS after each chunk;
#  - then 100,000 whole runs (bench/wrk/run-lifecycle.lua: created, published to Kafka,
#    PATCHed to SUCCESS), VmRSS after each chunk.
# The journal is capped at --max-journal-entries (100,000) and the finished runs at
# --max-finished-runs (10,000): RSS grows until the caps are reached, then stays flat.
# PATCH req/s is printed beside the bare C libmicrohttpd server's in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

PATCHES=${BENCH_MEMORY_PATCHES:-1000000}
RUNS=${BENCH_MEMORY_RUNS:-100000}
CHUNK=${BENCH_MEMORY_CHUNK:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
OUT=${BENCH_OUT:-bench-results}
BIN=${BIN:-.build/release}
PORT=18095
mkdir -p "$OUT"
. bench/lib.sh

for tool in wrk curl cc; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing; run 'make bench-deps' first" >&2; exit 1; }
done
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    echo "== building (release)" >&2
    swift build -c release --product port-emulator >&2
fi

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# load NAME SCRIPT PATH TARGET: wrk chunks until TARGET requests, "requests rss" per chunk
load() {
    local done=0 chunk total_rate=0 chunks=0
    while [ "$done" -lt "$4" ]; do
        chunk=$(wrk -t2 -c"$CONNECTIONS" -d"$CHUNK" -s "$2" "http://127.0.0.1:$PORT$3" \
            | awk '/requests in/ {print $1}')
        done=$((done + chunk))
        chunks=$((chunks + 1))
        echo "$1: $done requests, RSS $(rss_mb "$SERVE") MB"
    done
}

{
    # This block is a subshell (it is piped to tee): its own trap stops what it started.
    trap cleanup EXIT
    echo "## 17. Memory of port-emulator serve under load (release, default caps)"
    cc -O2 -o "$OUT/mhd_bare" bench/mhd_bare.c $(pkg-config --cflags --libs libmicrohttpd) -lpthread
    "$OUT/mhd_bare" 18096 2 > /dev/null & PIDS+=($!)
    wait_for_port 18096
    bare=$(wrk -t2 -c"$CONNECTIONS" -d10s "http://127.0.0.1:18096/bench" | awk '/Requests\/sec/ {print $2}')
    kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

    "$BIN/port-emulator" serve --port $PORT --fixtures fixtures --log-level error > /dev/null & PIDS+=($!)
    SERVE=$!
    wait_for_port $PORT
    echo "after start-up: RSS $(rss_mb "$SERVE") MB"
    TOKEN=$(curl -s -X POST http://127.0.0.1:$PORT/v1/auth/access_token -H 'Content-Type: application/json' \
        -d '{"clientId":"emulator-client-id","clientSecret":"emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1"}' \
        | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
    RUN_ID=$(curl -s -X POST http://127.0.0.1:$PORT/_emulator/runs -H 'Content-Type: application/json' \
        -d '{"action":"deploy_service","properties":{"version":"1.0"}}' | sed -n 's/.*"id":"\(r_[^"]*\)".*/\1/p')
    [ -n "$TOKEN" ] && [ -n "$RUN_ID" ] || { echo "bench: no token or run from port-emulator" >&2; exit 1; }
    export TOKEN
    patch_rate=$(wrk -t2 -c"$CONNECTIONS" -d10s -s bench/wrk/patch-run.lua "http://127.0.0.1:$PORT/v1/actions/runs/$RUN_ID" \
        | awk '/Requests\/sec/ {print $2}')
    echo "PATCH req/s: $patch_rate; bare C libmicrohttpd: $bare; ratio $(ratio "$patch_rate" "$bare")"
    load PATCH bench/wrk/patch-run.lua "/v1/actions/runs/$RUN_ID" "$PATCHES"
    # Two requests per run.
    load runs bench/wrk/run-lifecycle.lua "/" $((RUNS * 2))
    loaded=$(rss_mb "$SERVE")
    journal=$(curl -s "http://127.0.0.1:$PORT/_emulator/journal?run=none" | sed -n 's/.*"evicted":\([0-9]*\).*/\1/p')
    runs=$(curl -s "http://127.0.0.1:$PORT/_emulator/runs" | sed -n 's/.*"evicted":\([0-9]*\).*/\1/p')
    unfinished=$(curl -s "http://127.0.0.1:$PORT/_emulator/runs" | grep -o '"status":"IN_PROGRESS"' | wc -l)
    echo "evicted: journal $journal, finished runs $runs; runs in progress (never evicted): $unfinished"
    # Reading the whole journal and 10,000 runs renders them: malloc keeps what that took.
    echo "RSS at the end of the load: $loaded MB; after reading the journal and the runs once: $(rss_mb "$SERVE") MB"
} | tee -a "$OUT/memory.txt"
