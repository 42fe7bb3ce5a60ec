#!/usr/bin/env bash
# make bench-reliability (also section 9 of make bench): 1,000 runs through `port-emulator
# verify --chaos reliability` (10% HTTP 5xx, 2% 429, tokens expiring every 5 s, a 3 s broker
# outage, the consumer killed with SIGKILL twice and restarted), with port-consumer (static
# membership on, its default), port-consumer with PORT_CONSUMER_INSTANCE_ID=none, and a
# sequential port-agent-like consumer that commits in `finally`.
# The handler appends its run id to a file, so a handler that ran twice shows up.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release
OUT=${BENCH_OUT:-bench-results}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

python3 -c 'import confluent_kafka' 2>/dev/null || { echo "bench: confluent-kafka is missing; run 'make deps'" >&2; exit 1; }
swift build -c release --product port-emulator >&2
swift build -c release --product port-consumer >&2

pass() {  # name, ready-log, consumer command...
    local name=$1 ready=$2; shift 2
    local args=(verify --fixtures fixtures --scenarios bench/reliability/scenarios --chaos reliability
        --json "$WORK/$name.json" --consumer-log "$OUT/reliability-$name.log")
    [ -n "$ready" ] && args+=(--ready-log "$ready")
    echo "running the $name pass (progress on stderr)" >&2
    HANDLER_RECORD="$WORK/$name.record" "$BIN/port-emulator" "${args[@]}" -- "$@" \
        | grep -v 'chaos: expire all tokens' >&2 || true
}

pass port-consumer "" "$BIN/port-consumer" --handlers bench/reliability/handlers.json
# The same without static membership (issue #15's "before"): a restart waits out the session.
pass port-consumer-no-static "" env PORT_CONSUMER_INSTANCE_ID=none "$BIN/port-consumer" \
    --handlers bench/reliability/handlers.json
pass port-agent-like 'assigned [0-9]+ partitions' python3 bench/reliability/port_agent_like.py

python3 - "$WORK" <<'PY'
import collections, json, sys
work = sys.argv[1]
rows = []
names = ["port-consumer", "port-consumer-no-static", "port-agent-like"]
for name in names:
    report = json.load(open(f"{work}/{name}.json"))
    result = report["results"][0]
    stats = result["statistics"]
    try:
        handled = collections.Counter(line.strip() for line in open(f"{work}/{name}.record") if line.strip())
    except FileNotFoundError:
        handled = collections.Counter()
    rows.append((name, {
        "runs": len(result["runs"]),
        "SUCCESS": stats["statuses"].get("SUCCESS", 0),
        "runs lost (unfinished, offset committed)": stats["lost"],
        "runs left not finished": stats["unfinished"],
        "runs whose handler ran more than once": sum(1 for count in handled.values() if count > 1),
        "handler runs in all": sum(handled.values()),
        "terminal reports refused": stats["refusedReports"],
        "writes refused as run_exhausted (redelivered finished runs)": stats["violationsByRule"].get("run-locked-after-finish", 0),
        "calls answered by an injected fault": stats["injectedFaults"],
        "wall time to the last finished run (s)": round(stats["lastFinishedAfterSeconds"] or 0, 1),
        "scenario time incl. waiting (s)": round(result["seconds"], 1),
    }))
keys = list(rows[0][1].keys())
width = max(len(k) for k in keys)
print(f"{'':{width}}" + "".join(f"  {name:>23}" for name, _ in rows))
for key in keys:
    print(f"{key:{width}}" + "".join(f"  {row[key]!s:>23}" for _, row in rows))
PY
