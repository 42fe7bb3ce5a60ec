#!/usr/bin/env bash
# make bench, sections 10 and 11 (also alone: make bench-front): the Kafka front's latency
# with Python clients at their default fetch settings and with a 5 s wait, through the front
# and straight to the mock brokers; then the front's parsers under random input.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
if [ -z "${BENCH_SKIP_BUILD:-}" ] && [ "$BIN" = .build/release ]; then
    swift build -c release --product port-bench >&2
fi
echo "## 10. the Kafka front: publication to a Python client's read, default fetch settings and a 5 s wait"
echo "(latency = the client's read time minus the message's Kafka timestamp; direct = the mock brokers)"
for client in kafka-python confluent; do
    for route in direct front; do
        "$BIN/port-bench" client-latency --client "$client" --route "$route" --runs "${BENCH_CLIENT_RUNS:-100}"
    done
done
"$BIN/port-bench" client-latency --client kafka-python --route direct --fetch-max-wait-ms 5000 --runs 20
"$BIN/port-bench" client-latency --client kafka-python --route front --fetch-max-wait-ms 5000 --runs "${BENCH_CLIENT_RUNS:-100}"
echo
echo "## 11. the front's parsers under random and mutated input (FrontFuzzer)"
"$BIN/port-bench" fuzz-front --iterations "${BENCH_FUZZ_INPUTS:-1000000}" --seed 13
