#!/usr/bin/env bash
# make bench, sections 10 and 11 (also alone: make bench-front): the embedded Kafka (our broker
# behind the Kafka front) with independent clients, beside librdkafka 2.0.2's mock cluster (the
# embedded Kafka before ours: "direct", the baseline) where a client can use it:
#  10.1 publication to each client's read at its default settings (and kafka-python with a 5 s wait);
#  10.2 a consumer restarted after a clean leave: its start to its assignment;
#  10.3 consume throughput through the front, plaintext and SASL_SSL;
#  11   the front's parsers under random input.
# The clients are the matrix's (make deps): Tests/KafkaFrontTests/Clients/kafka_client.py, the Go
# clients in .build/go-clients, kafka-python 3 in .build-venv/kafka-python3, Clients/group_member.py.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
if [ -z "${BENCH_SKIP_BUILD:-}" ] && [ "$BIN" = .build/release ]; then
    swift build -c release --product port-bench >&2
fi
CLIENT_RUNS=${BENCH_CLIENT_RUNS:-100}
DIRECT_RUNS=${BENCH_CLIENT_DIRECT_RUNS:-20}
KAFKA_GO_DEFAULT_RUNS=${BENCH_KAFKA_GO_DEFAULT_RUNS:-5}
RESTART_RUNS=${BENCH_RESTART_RUNS:-3}
THROUGHPUT_RUNS=${BENCH_FRONT_THROUGHPUT_RUNS:-7}
MESSAGES=${BENCH_FRONT_MESSAGES:-48000}
PARTITIONS=${BENCH_FRONT_PARTITIONS:-12}

# field NAME LINE: the value of NAME=… in LINE
field() { echo "$2" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
. bench/lib.sh  # median, spread, ratio, wait_for_port
# latency ratios can be tiny (2 ms against 5 s): two significant digits
small_ratio() { awk "BEGIN{printf \"%.2g\", $1/$2}"; }
load() { echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"; }

echo "## 10. the embedded Kafka with independent clients: our broker through the front beside librdkafka's mock"
echo "### 10.1 publication to each client's read, every client at its default settings $(load)"
echo "(latency = the client's read time minus the message's Kafka timestamp, one message at a time, each after the"
echo " client read the one before; plaintext = our broker through the front's PLAINTEXT listener, published by the"
echo " emulator; direct = librdkafka 2.0.2's mock cluster, for the clients that can read it: the baseline)"
declare -A p50 p99 runs
latency() {  # KEY ARGS...: runs port-bench client-latency ARGS, keeps p50/p99 under KEY
    local key=$1
    shift
    line=$("$BIN/port-bench" client-latency "$@")
    echo "$line"
    p50[$key]=$(field p50_ms "$line")
    p99[$key]=$(field p99_ms "$line")
    runs[$key]=$(field runs "$line")
}
CLIENTS="confluent kafka-python kafka-python-3 aiokafka sarama-min sarama-max kafka-go port-consumer"
DIRECT_CLIENTS="confluent kafka-python aiokafka sarama-min port-consumer"
for client in $CLIENTS; do
    n=$CLIENT_RUNS
    # kafka-go 0.2.1's own defaults (MinBytes = MaxBytes = 1 MB, MaxWait 10 s): every fetch
    # waits out its MaxWait, so a few messages say it.
    [ "$client" = kafka-go ] && n=$KAFKA_GO_DEFAULT_RUNS
    latency "$client/plaintext" --client "$client" --defaults --route plaintext --runs "$n"
done
# kafka-go as the client matrix runs it: MinBytes 1, as every other client's default.
latency "kafka-go(min_bytes=1)/plaintext" --client kafka-go --route plaintext --runs "$CLIENT_RUNS"
for client in $DIRECT_CLIENTS; do
    latency "$client/direct" --client "$client" --defaults --route direct --runs "$DIRECT_RUNS"
done
echo
row() { printf '%-24s %13s %13s %5s   %13s %13s %5s   %s\n' "$@"; }
row "latency, ms" "plaintext_p50" "plaintext_p99" "runs" "direct_p50" "direct_p99" "runs" "p50_plaintext/direct"
table_row() {  # LABEL KEY_PLAINTEXT [KEY_DIRECT]
    local plain=$2 direct=${3:-}
    if [ -n "$direct" ] && [ -n "${p50[$direct]:-}" ]; then
        row "$1" "${p50[$plain]}" "${p99[$plain]}" "${runs[$plain]}" "${p50[$direct]}" "${p99[$direct]}" "${runs[$direct]}" \
            "$(small_ratio "${p50[$plain]}" "${p50[$direct]}")"
    else
        row "$1" "${p50[$plain]}" "${p99[$plain]}" "${runs[$plain]}" "-" "-" "-" "-"
    fi
}
for client in $CLIENTS; do
    label=$client
    [ "$client" = kafka-go ] && label="kafka-go (its defaults)"
    table_row "$label" "$client/plaintext" "$client/direct"
done
table_row "kafka-go (MinBytes 1)" "kafka-go(min_bytes=1)/plaintext"
echo "(kafka-go 0.2.1 sleeps 100 ms after each fetch that returned messages (its reader's backoff), and with its"
echo " own defaults asks the broker to wait MaxWait minus 1 s for 1 MB; kafka-go, kafka-python 3 and sarama-max"
echo " cannot read the mock, which is why they have no baseline)"
echo
echo "kafka-python with a 5 s fetch_max_wait_ms:"
latency "kafka-python-5s/direct" --client kafka-python --route direct --fetch-max-wait-ms 5000 --runs "$DIRECT_RUNS"
latency "kafka-python-5s/plaintext" --client kafka-python --route plaintext --fetch-max-wait-ms 5000 --runs "$CLIENT_RUNS"
table_row "kafka-python, 5 s wait" kafka-python-5s/plaintext kafka-python-5s/direct
echo
echo "### 10.2 a consumer restarted after a clean leave: its start to its assignment, $RESTART_RUNS runs each $(load)"
echo "(a consumer joins a new group, reads and commits a message, closes cleanly (LeaveGroup); a new one starts in"
echo " the group: process start to on_assign (confluent-kafka, librdkafka's defaults: session.timeout.ms 45000) or to"
echo " sarama's assigned event (Kafka 0.10.2.0's protocol, sarama's defaults: session 10 s). direct = the mock (the"
echo " next member waited the session timeout minus 1 s); plaintext = our broker (a group that went empty waits"
echo " group.initial.rebalance.delay.ms, 3 s, for more members, as Kafka does)"
for client in confluent sarama-min; do
    "$BIN/port-bench" restart-to-assigned --client "$client" --routes direct,plaintext --runs "$RESTART_RUNS"
done
echo
echo "### 10.3 consume throughput through the front, $MESSAGES x 1 KiB values, $PARTITIONS partitions, $THROUGHPUT_RUNS runs of each route $(load)"
echo "(port-bench kafka-throughput, librdkafka 2.0.2 (the Kafka module) producing and consuming; routes interleaved;"
echo " direct = the mock, plaintext and sasl_ssl (TLS, SCRAM-SHA-512) = our broker through the front;"
echo " consumed_per_s from the first message read to the last, longest_gap_ms = the longest wait between two;"
echo " medians over the runs: single runs of every route swing between two modes, about 340k and 470k/s)"
declare -A consumed produced
for run in $(seq "$THROUGHPUT_RUNS"); do
    for route in direct plaintext sasl_ssl; do
        line=$("$BIN/port-bench" kafka-throughput --messages "$MESSAGES" --partitions "$PARTITIONS" --size 1024 --route "$route" 2>/dev/null)
        echo "run $run: $line"
        consumed[$route]+="$(field consumed_per_s "$line") "
        produced[$route]+="$(field produced_per_s "$line") "
    done
done
declare -A cmedian pmedian
best=0
for route in direct plaintext sasl_ssl; do
    cmedian[$route]=$(median ${consumed[$route]})
    pmedian[$route]=$(median ${produced[$route]})
    [ "${cmedian[$route]}" -gt "$best" ] && best=${cmedian[$route]}
done
for route in direct plaintext sasl_ssl; do
    printf 'median %-10s consumed_per_s=%-8s consume_vs_best=%s  produced_per_s=%s\n' "$route" "${cmedian[$route]}" \
        "$(ratio "${cmedian[$route]}" "$best")" "${pmedian[$route]}"
done
sasl_vs_plain=$(ratio "${cmedian[sasl_ssl]}" "${cmedian[plaintext]}")
verdict=$(awk "BEGIN{print ($sasl_vs_plain >= 0.8) ? \"met\" : \"NOT met\"}")
echo "consume sasl_ssl/plaintext=$sasl_vs_plain (goal >= 0.80: $verdict)"
echo
echo "## 11. the front's parsers under random and mutated input (FrontFuzzer)"
"$BIN/port-bench" fuzz-front --iterations "${BENCH_FUZZ_INPUTS:-1000000}" --seed 13
