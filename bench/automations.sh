#!/usr/bin/env bash
# make bench, section 12 (also alone: make bench-automations): automation fan-out. Entity
# writes per second through Port's API (16 in flight) with no automation (the baseline), with
# 10 automations whose jq conditions never hold, and with 10 of which each write fires one (a
# run and its message on Kafka); then, firing, each write timed to its automation's message
# read through the Kafka front. The setups are interleaved, 3 runs each; ratios to the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
if [ -z "${BENCH_SKIP_BUILD:-}" ] && [ "$BIN" = .build/release ]; then
    swift build -c release --product port-bench >&2
fi
RUNS=${BENCH_AUTOMATION_RUNS:-3}
WRITES=${BENCH_AUTOMATION_WRITES:-5000}
. bench/lib.sh  # median, spread, ratio, wait_for_port
echo "## 12. automation fan-out: $WRITES entity writes, 16 in flight, 10 automations; $RUNS runs of each setup, interleaved"
declare -A rates
p50s=(); p99s=()
for run in $(seq "$RUNS"); do
    for setup in none defined firing; do
        line=$("$BIN/port-bench" automation-fanout --setup "$setup" --writes "$WRITES" --samples 500)
        echo "run $run: $line"
        rates[$setup]+="$(echo "$line" | sed -n 's/.*writes_per_s=\([0-9]*\).*/\1/p') "
        if [ "$setup" = firing ]; then
            p50s+=("$(echo "$line" | sed -n 's/.*write_to_message_p50_ms=\([0-9.]*\).*/\1/p')")
            p99s+=("$(echo "$line" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')")
        fi
    done
done
base=$(median ${rates[none]})
for setup in none defined firing; do
    value=$(median ${rates[$setup]})
    echo "$setup: writes_per_s median=$value ratio_to_none=$(python3 -c "print(f'{$value / $base:.2f}')")"
done
echo "firing: entity write to the automation's message on Kafka, median of runs: p50_ms=$(median "${p50s[@]}") p99_ms=$(median "${p99s[@]}")"
