#!/usr/bin/env bash
# serve --state-dir's restart (issue #28): a state of 100,000 entities and 10,000 finished runs
# (two logs each), written through the stores' own paths; then serve timed from spawn to its
# ready line on it: from the snapshot a graceful stop leaves, from the log alone (as kill -9
# leaves it, before any compaction), and without --state-dir (the baseline), interleaved.
# Three runs of five rounds; BENCH_STATE_ENTITIES and BENCH_STATE_RUNS change the size.
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
