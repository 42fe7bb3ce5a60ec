#!/usr/bin/env bash
# Section 16: a Lambda function under awslambdaric (PyPI, unmodified) through the emulator's
# event source mapping and Runtime API, beside a plain Python consumer, in the same run:
# trigger to SUCCESS p50/p99, and invocations per second with batch size 1 and 100.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    swift build -c release --product port-emulator >&2
fi
python3 bench/lambda_bench.py "$BIN"
