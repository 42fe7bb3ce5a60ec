#!/usr/bin/env bash
# The GitHub Action's verify step (action.yml): `port-emulator verify` against the consumer.
# Inputs: INPUT_CONSUMER, INPUT_FIXTURES, INPUT_SCENARIOS, INPUT_ONLY, INPUT_CHAOS, INPUT_SECURITY,
# INPUT_READY_LOG, HARNESS_FIXTURES (from the install step). The report paths go to
# $GITHUB_OUTPUT before verify starts, so that a failing check still hands them on.
set -euo pipefail
fail() { echo "::error title=port-kafka-harness verify::$*" >&2; exit 2; }

[ -n "${INPUT_CONSUMER:-}" ] || fail "consumer is required: the command that starts your consumer"
fixtures=${INPUT_FIXTURES:-${HARNESS_FIXTURES:-}}
[ -n "$fixtures" ] || fail "no fixtures: give the fixtures input, or run the install step first"
[ -d "$fixtures" ] || fail "fixtures directory $fixtures does not exist"
scenarios=${INPUT_SCENARIOS:-$fixtures/scenarios}
[ -d "$scenarios" ] || fail "scenarios directory $scenarios does not exist"

reports=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/port-kafka-harness
mkdir -p "$reports"
# A second use in the same job must never hand on the first one's reports.
rm -f "$reports/junit.xml" "$reports/report.json" "$reports/consumer.log"
output=${GITHUB_OUTPUT:-/dev/null}
{
    echo "junit=$reports/junit.xml"
    echo "json=$reports/report.json"
    echo "consumer-log=$reports/consumer.log"
    echo "fixtures=$fixtures"
} >>"$output"

arguments=(verify --fixtures "$fixtures" --scenarios "$scenarios" --kafka-security "${INPUT_SECURITY:-plaintext}"
    --junit "$reports/junit.xml" --json "$reports/report.json" --consumer-log "$reports/consumer.log")
read -r -a words <<<"${INPUT_ONLY:-}"
for word in "${words[@]}"; do arguments+=(--only "$word"); done
[ -n "${INPUT_CHAOS:-}" ] && arguments+=(--chaos "$INPUT_CHAOS")
[ -n "${INPUT_READY_LOG:-}" ] && arguments+=(--ready-log "$INPUT_READY_LOG")
# The consumer may use the harness's fixtures (port-consumer's handlers, for one).
export PORT_KAFKA_HARNESS_FIXTURES=$fixtures
exec port-emulator "${arguments[@]}" -- bash -c "$INPUT_CONSUMER"
