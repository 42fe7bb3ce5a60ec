#!/usr/bin/env bash
# make bench-compare (also the last section of make bench): this tree's release build beside
# a baseline revision's, measured in one run, interleaved run by run so that both see the
# same machine:
#  - spawn to ready of `port-emulator serve` (port-bench emulator-startup), STARTUP_RUNS each;
#  - Port API writes: PATCH of one run at 32 connections (wrk, bench/wrk/patch-run.lua), ROUNDS each;
#  - verify's time: `port-emulator verify` driving port-consumer through every scenario in
#    fixtures/scenarios, each side with its own port-emulator and port-consumer, ROUNDS each.
# The baseline is BENCH_BASELINE (a revision; default 71afa92, the tree before issue #24's
# refactor), built once into .build/baseline-REV (a git worktree, release), or the release
# binaries already in BENCH_BASELINE_DIR. Prints medians and the ratio after/before.
set -euo pipefail
cd "$(dirname "$0")/.."

REV=${BENCH_BASELINE:-71afa92}
STARTUP_RUNS=${BENCH_COMPARE_STARTUP_RUNS:-15}
ROUNDS=${BENCH_COMPARE_ROUNDS:-3}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
OUT=${BENCH_OUT:-bench-results}
BIN=${BIN:-.build/release}
mkdir -p "$OUT"

for tool in wrk curl git; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing; run 'make bench-deps' first" >&2; exit 1; }
done

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    echo "== building this tree (release)" >&2
    for product in port-bench port-emulator port-consumer; do swift build -c release --product "$product" >&2; done
fi
if [ -n "${BENCH_BASELINE_DIR:-}" ]; then
    BASE="$BENCH_BASELINE_DIR"
else
    TREE=".build/baseline-$REV"
    if [ ! -d "$TREE" ]; then
        git worktree add --detach "$TREE" "$REV" >&2
    fi
    BASE="$TREE/.build/release"
    if [ ! -x "$BASE/port-emulator" ] || [ ! -x "$BASE/port-consumer" ]; then
        echo "== building the baseline $REV (release, once; kept in $TREE)" >&2
        (cd "$TREE" && swift build -c release --product port-emulator >&2 && swift build -c release --product port-consumer >&2)
    fi
fi
for binary in "$BASE/port-emulator" "$BASE/port-consumer" "$BIN/port-emulator" "$BIN/port-consumer" "$BIN/port-bench"; do
    [ -x "$binary" ] || { echo "bench: $binary is missing" >&2; exit 1; }
done

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

. bench/lib.sh  # median, spread, ratio, wait_for_port

startup() {  # dir [port] -> spawn_to_ready_ms
    "$BIN/port-bench" emulator-startup --executable "$1/port-emulator" --fixtures fixtures \
        | sed -n 's/.*spawn_to_ready_ms=\([0-9.]*\).*/\1/p'
}

patch_rate() {  # dir port -> requests per second
    "$1/port-emulator" serve --port "$2" --fixtures fixtures --log-level error > /dev/null & PIDS+=($!)
    wait_for_port "$2"
    local token run
    token=$(curl -s -X POST "http://127.0.0.1:$2/v1/auth/access_token" -H 'Content-Type: application/json' \
        -d '{"clientId":"emulator-client-id","clientSecret":"emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1"}' \
        | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
    run=$(curl -s -X POST "http://127.0.0.1:$2/_emulator/runs" -H 'Content-Type: application/json' \
        -d '{"action":"deploy_service","properties":{"version":"1.0"}}' | sed -n 's/.*"id":"\(r_[^"]*\)".*/\1/p')
    [ -n "$token" ] && [ -n "$run" ] || { echo "bench: no token or run from $1/port-emulator" >&2; exit 1; }
    TOKEN=$token wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/wrk/patch-run.lua \
        "http://127.0.0.1:$2/v1/actions/runs/$run" > "$OUT/compare-wrk.txt"
    kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
    grep -q 'Non-2xx' "$OUT/compare-wrk.txt" && { echo "bench: PATCH answered errors" >&2; cat "$OUT/compare-wrk.txt" >&2; exit 1; }
    awk '/Requests\/sec/{print $2}' "$OUT/compare-wrk.txt"
}

verify_time() {  # dir [port] -> seconds for verify through every scenario (exit status checked)
    local started ended
    started=$(date +%s%N)
    "$1/port-emulator" verify --fixtures fixtures --consumer-log "$OUT/compare-verify-consumer.log" \
        -- "$1/port-consumer" --handlers fixtures/handlers/handlers.json > "$OUT/compare-verify.txt" 2>&1 \
        || { echo "bench: verify failed with $1" >&2; tail -20 "$OUT/compare-verify.txt" >&2; exit 1; }
    ended=$(date +%s%N)
    python3 -c "print(f'{($ended - $started) / 1e9:.2f}')"
}

compare() {  # name runs function: the function's figure for the baseline and this tree, interleaved
    local name=$1 runs=$2 measure=$3 before=() after=()
    for _ in $(seq "$runs"); do
        before+=("$("$measure" "$BASE" 18091)"); after+=("$("$measure" "$BIN" 18092)")
        [ -n "${before[-1]}" ] && [ -n "${after[-1]}" ] || { echo "bench: $name gave no figure" >&2; exit 1; }
    done
    echo "$name before: $(spread "${before[@]}")"
    echo "$name after:  $(spread "${after[@]}")"
    echo "$name ratio after/before (medians): $(ratio "$(median "${after[@]}")" "$(median "${before[@]}")")"
}

{
    echo "## before/after: this tree ($(git rev-parse --short HEAD)) beside $REV, release builds, interleaved"
    compare spawn_to_ready_ms "$STARTUP_RUNS" startup
    compare PATCH_requests_per_s "$ROUNDS" patch_rate
    compare verify_s "$ROUNDS" verify_time
} | tee -a "$OUT/summary.txt"
