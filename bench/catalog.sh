#!/usr/bin/env bash
# Port's catalog (issue #22), on the PortCatalog module itself (no HTTP): 100,000 entities of
# one blueprint with a relation to one of 10 environments and three computed properties.
#  - search: p50/p99 of one limit-200 page of a two-rule query (tier = gold and replicas >= 90),
#    of a relatedTo query (the services of one environment), and of each 1,000-entity page of a
#    paginated full scan; each timed through the answer's JSON bytes;
#  - memory: resident set the 100,000 entities add;
#  - upserts per second on the blueprint with a mirror, a calculation (libjq) and an aggregation
#    property, each answered with its computed properties.
# Three runs; BENCH_CATALOG_ENTITIES changes the size.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    echo "== building (release)" >&2
    swift build -c release --product port-bench >&2
fi
echo "## 13. Port's catalog: search over ${BENCH_CATALOG_ENTITIES:-100000} entities, memory, upserts with computed properties (3 runs)"
for run in 1 2 3; do
    echo "run $run:"
    "$BIN/port-bench" catalog --entities "${BENCH_CATALOG_ENTITIES:-100000}"
done
