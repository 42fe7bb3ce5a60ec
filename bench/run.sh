#!/usr/bin/env bash
# make bench: the foundation's figures, all taken in one run on this machine.
#  1. Embedded Kafka start-up: process start until the cluster has acknowledged a produce.
#  2. Kafka throughput through the embedded cluster with 1 KiB values, produced and consumed.
#  3. HTTP requests per second for a trivial JSON route, 32 connections, wrk on the same
#     machine, for the Swift HTTPServer next to a bare C libmicrohttpd server and nginx.
#  4. port-emulator serve: spawn until the ready line (then checked: API answers, topics exist).
#  5. Port API writes at 32 connections: PATCH of a run and POST of a run log, next to the
#     bare HTTP layer's figure from step 3.
#  6. Invocation latency: POST /_emulator/runs until a consumer has read the message
#     (1,000 runs one after another; consumer fetch.wait.max.ms 10 and 1).
#  7. Invocations published per second with libjq templates (20,000 runs).
#  8. port-consumer against a sequential, token-per-call consumer: runs/s and latency.
#  9. Reliability under chaos: 1,000 runs through verify --chaos reliability, port-consumer
#     beside a sequential port-agent-like consumer (bench/reliability.sh).
# 10. The embedded Kafka with independent clients (bench/front.sh): publication to each client's
#     read at its default settings, a restarted consumer's start to its assignment, consume
#     throughput through the front (PLAINTEXT and SASL_SSL), beside librdkafka's mock cluster.
# 11. The front's parsers under a million random and mutated inputs.
# 12. Without Swift (bench/dist.sh): artifact sizes, a fresh venv to a passing example suite,
#     spawn-to-ready of the wheel's emulator beside the source builds.
# 13. Port's catalog: search over 100,000 entities, memory, upserts with computed properties
#     (bench/catalog.sh).
# 15. Port Ocean, unmodified, resyncing 10,000 entities (bench/ocean.sh; needs make ocean-venv).
# 16. Lambda functions under awslambdaric beside a plain consumer: trigger to SUCCESS p50/p99,
#     invocations per second with batch size 1 and 100 (bench/lambda.sh).
# 17. Memory (bench/memory.sh): serve's RSS over 1,000,000 PATCH requests and 100,000 whole
#     runs under the default caps, sampled as it goes; PATCH req/s beside bare C libmicrohttpd.
# 14. Before and after (bench/compare.sh): spawn to ready, PATCH req/s and verify's time of this
#     tree beside a baseline revision's release build (BENCH_BASELINE), interleaved.
# 18. serve --state-dir (bench/state.sh): spawn to ready on 100,000 entities and 10,000 runs,
#     from a snapshot, from the log alone, and without --state-dir.
# Section 2 runs each throughput through the front (plaintext and SASL_SSL) beside direct.
# Results go to stdout and bench-results/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

MESSAGES=${BENCH_MESSAGES:-12000}
THROUGHPUT_RUNS=${BENCH_THROUGHPUT_RUNS:-5}
DURATION=${BENCH_DURATION:-10s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
STARTUP_RUNS=${BENCH_STARTUP_RUNS:-5}
OUT=bench-results
mkdir -p "$OUT"
BIN=.build/release

for tool in wrk nginx cc; do
    command -v "$tool" >/dev/null || { echo "bench: '$tool' is missing; run 'make bench-deps' first" >&2; exit 1; }
done

echo "== building (release)" >&2
swift build -c release --product port-bench >&2
swift build -c release --product port-emulator >&2
swift build -c release --product port-consumer >&2
cc -O2 -o "$OUT/mhd_bare" bench/mhd_bare.c $(pkg-config --cflags --libs libmicrohttpd) -lpthread

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

now_ns() { date +%s%N; }
. bench/lib.sh  # median, spread, ratio, wait_for_port

{
    echo "# port-kafka-harness foundation benchmarks"
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
    echo "librdkafka $(pkg-config --modversion rdkafka), libmicrohttpd $(pkg-config --modversion libmicrohttpd), $(swift --version 2>/dev/null | head -1)"
    echo
    echo "## 1. embedded Kafka start-up ($STARTUP_RUNS runs)"
    echo "exec_to_first_delivery = process exec until the first produce was acknowledged;"
    echo "wall = exec to exit (includes tearing the cluster down); total = in-process steps"
    firsts=()
    for run in $(seq "$STARTUP_RUNS"); do
        start=$(now_ns)
        line=$(PORT_BENCH_T0_NS=$start "$BIN/port-bench" kafka-startup)
        end=$(now_ns)
        echo "run $run: wall_ms=$(( (end - start) / 1000000 )) $line"
        firsts+=("$(echo "$line" | sed -n 's/.*exec_to_first_delivery_ms=\([0-9.]*\).*/\1/p')")
    done
    echo "exec_to_first_delivery_ms: $(spread "${firsts[@]}")"
    echo
    echo "## 2. Kafka throughput, $MESSAGES x 1 KiB values, 3 partitions, $THROUGHPUT_RUNS runs of each route"
    echo "(the embedded cluster keeps about 5 MiB per partition, so one run stays under 4 MiB each;"
    echo " direct = clients on the mock brokers, plaintext/sasl_ssl = through the Kafka front, routes interleaved)"
    median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
    declare -A produced consumed
    for run in $(seq "$THROUGHPUT_RUNS"); do
        for route in direct plaintext sasl_ssl; do
            line=$("$BIN/port-bench" kafka-throughput --messages "$MESSAGES" --size 1024 --route "$route" 2>/dev/null)
            echo "run $run: $line"
            produced[$route]+="$(echo "$line" | sed -n 's/.* produced_per_s=\([0-9]*\).*/\1/p') "
            consumed[$route]+="$(echo "$line" | sed -n 's/.* consumed_per_s=\([0-9]*\).*/\1/p') "
        done
    done
    for route in direct plaintext sasl_ssl; do
        p=$(median ${produced[$route]}); c=$(median ${consumed[$route]})
        [ "$route" = direct ] && { pd=$p; cd=$c; }
        echo "median $route: produced_per_s=$p consumed_per_s=$c" \
            "produce_vs_direct=$(awk "BEGIN{printf \"%.2f\", $p/$pd}") consume_vs_direct=$(awk "BEGIN{printf \"%.2f\", $c/$cd}")"
    done
    echo
    echo "## 3. HTTP GET {\"ok\":true}: wrk -t2 -c$CONNECTIONS -d$DURATION (client and server share the $(nproc) cores)"
} | tee "$OUT/summary.txt"


run_wrk() {  # name port [path [lua-script]]
    path=${3:-/bench}
    wait_for_port "$2"
    if [ -z "${4:-}" ]; then
        body=$(curl -s "http://127.0.0.1:$2$path")
        [ "$body" = '{"ok":true}' ] || { echo "bench: $1 answered '$body'" >&2; exit 1; }
    fi
    wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency ${4:+-s "$4"} "http://127.0.0.1:$2$path" > "$OUT/wrk-$1.txt"
    rps=$(awk '/Requests\/sec/{print $2}' "$OUT/wrk-$1.txt")
    p50=$(awk '$1=="50%"{print $2}' "$OUT/wrk-$1.txt")
    p99=$(awk '$1=="99%"{print $2}' "$OUT/wrk-$1.txt")
    errors=$(awk '/Non-2xx|Socket errors/{print}' "$OUT/wrk-$1.txt" | tr '\n' ' ')
    printf '%-28s requests_per_s=%-10s p50=%-8s p99=%-8s %s\n' "$1" "$rps" "$p50" "$p99" "$errors" | tee -a "$OUT/summary.txt"
}

"$BIN/port-bench" http-serve --port 18081 --threads "$THREADS" > /dev/null & PIDS+=($!)
run_wrk "swift-immediate($THREADS thr)" 18081 /bench
run_wrk "swift-async($THREADS thr)" 18081 /bench-async
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

"$OUT/mhd_bare" 18082 "$THREADS" > /dev/null & PIDS+=($!)
run_wrk "c-libmicrohttpd($THREADS thr)" 18082
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

NGINX_DIR=$(mktemp -d)
mkdir -p "$NGINX_DIR/logs"
cat > "$NGINX_DIR/nginx.conf" <<NGINX
worker_processes $THREADS;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:18083;
        location = /bench { default_type application/json; return 200 '{"ok":true}'; }
    }
}
NGINX
nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" 2>/dev/null & PIDS+=($!)
run_wrk "nginx($THREADS workers)" 18083
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
rm -rf "$NGINX_DIR"

{
    echo
    echo "## 4. port-emulator serve start-up ($STARTUP_RUNS runs, release build, fixtures loaded)"
    readies=()
    for run in $(seq "$STARTUP_RUNS"); do
        line=$("$BIN/port-bench" emulator-startup --executable "$BIN/port-emulator" --fixtures fixtures)
        echo "run $run: $line"
        readies+=("$(echo "$line" | sed -n 's/.*spawn_to_ready_ms=\([0-9.]*\).*/\1/p')")
    done
    echo "spawn_to_ready_ms: $(spread "${readies[@]}")"
    echo
    echo "## 5. Port API writes on one run: wrk -t2 -c$CONNECTIONS -d$DURATION (compare swift-immediate in 3.)"
} | tee -a "$OUT/summary.txt"

"$BIN/port-emulator" serve --port 18084 --fixtures fixtures --log-level error > /dev/null & PIDS+=($!)
wait_for_port 18084
TOKEN=$(curl -s -X POST http://127.0.0.1:18084/v1/auth/access_token -H 'Content-Type: application/json' \
    -d '{"clientId":"emulator-client-id","clientSecret":"emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1"}' | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
RUN_ID=$(curl -s -X POST http://127.0.0.1:18084/_emulator/runs -H 'Content-Type: application/json' \
    -d '{"action":"deploy_service","properties":{"version":"1.0"}}' | sed -n 's/.*"id":"\(r_[^"]*\)".*/\1/p')
[ -n "$TOKEN" ] && [ -n "$RUN_ID" ] || { echo "bench: could not get a token and a run from port-emulator" >&2; exit 1; }
export TOKEN
run_wrk "emulator-PATCH-run" 18084 "/v1/actions/runs/$RUN_ID" bench/wrk/patch-run.lua
run_wrk "emulator-POST-log" 18084 "/v1/actions/runs/$RUN_ID/logs" bench/wrk/post-log.lua
status=$(curl -s "http://127.0.0.1:18084/v1/actions/runs/$RUN_ID" -H "Authorization: Bearer $TOKEN" | sed -n 's/.*"status":"\([A-Z_]*\)".*/\1/p')
logs=$(curl -s "http://127.0.0.1:18084/_emulator/runs/$RUN_ID" | grep -o '"id":"log_' | wc -l)
echo "after the load: run status=$status, logs stored=$logs" | tee -a "$OUT/summary.txt"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

{
    echo
    echo "## 6. invocation latency: POST /_emulator/runs until a librdkafka consumer has read the message"
    echo "(route=direct: from the mock brokers, which answer a fetch only after fetch.wait.max.ms, as before the"
    echo " front; route=front: through the Kafka front's long-poll. 500 ms is librdkafka's default)"
    for wait in 500 10; do
        for route in direct front; do
            "$BIN/port-bench" invocation-latency --runs "${BENCH_LATENCY_RUNS:-1000}" --fetch-wait-ms "$wait" --route "$route"
        done
    done
    echo
    echo "## 7. invocations published per second, libjq templates on ($THROUGHPUT_RUNS runs of 20,000)"
    rates=()
    for run in $(seq "$THROUGHPUT_RUNS"); do
        line=$("$BIN/port-bench" invocation-rate --runs 20000)
        echo "run $run: $line"
        rates+=("$(echo "$line" | sed -n 's/.*published_per_s=\([0-9]*\).*/\1/p')")
    done
    echo "published_per_s: $(spread "${rates[@]}")"
    echo
    echo "## 8. port-consumer vs a sequential consumer (one run at a time, a token per call); no-op handler logging twice"
    echo "(runs_per_s: a burst triggered at once; p50/p99: runs triggered one after another, trigger to terminal status)"
    for run in 1 2 3; do "$BIN/port-bench" consumer --burst 2000 --paced 200; done
    echo "(the same with 20 ms added to every API answer, as a network to Port's API would)"
    "$BIN/port-bench" consumer --burst 2000 --paced 50 --api-latency-ms 20
    echo
    echo "## 9. reliability: 1,000 runs, 10% 5xx, 2% 429, tokens expiring every 5 s, a 3 s broker outage, 2 SIGKILLs"
    BENCH_OUT="$OUT" bash bench/reliability.sh
    echo
    BIN="$BIN" BENCH_SKIP_BUILD=1 bash bench/front.sh
    echo
    BIN="$BIN" BENCH_SKIP_BUILD=1 bash bench/automations.sh
    echo
    BENCH_OUT="$OUT" bash bench/dist.sh
    echo
    BIN="$BIN" BENCH_SKIP_BUILD=1 bash bench/catalog.sh
    echo
    BIN="$BIN" BENCH_SKIP_BUILD=1 bash bench/ocean.sh
    echo
    BIN="$BIN" BENCH_SKIP_BUILD=1 bash bench/lambda.sh
    echo
    BIN="$BIN" BENCH_OUT="$OUT" BENCH_SKIP_BUILD=1 bash bench/memory.sh
    echo
    BIN="$BIN" BENCH_OUT="$OUT" BENCH_SKIP_BUILD=1 bash bench/compare.sh
    echo
    BIN="$BIN" BENCH_SKIP_BUILD=1 bash bench/state.sh

} | tee -a "$OUT/summary.txt"

echo "summary written to $OUT/summary.txt" >&2
