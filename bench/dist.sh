#!/usr/bin/env bash
# make bench-dist (and section 12 of make bench): the figures of issue #16, in one run.
#  - Spawn to ready of port-emulator serve (until its --env-file exists, which means ready),
#    through the Python API, for the wheel's binary and its console script (installed in a
#    fresh venv), beside the source builds (release and debug), interleaved, N rounds each.
#  - A fresh venv to a passing example suite on this machine: pip install of the wheel,
#    confluent-kafka and pytest, then pytest examples/python-consumer.
#  - The sizes of the tarball, the .deb and the wheel.
# The same fresh-venv figure in a clean bookworm root is printed by make dist-test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_SPAWN_ROUNDS:-10}
OUT=${BENCH_OUT:-bench-results}
mkdir -p "$OUT"
[ -n "${BENCH_SKIP_BUILD:-}" ] || bash scripts/dist.sh >&2
swift build -c release --product port-emulator >&2
swift build --product port-emulator >&2
wheel=$(ls dist/port_kafka_harness-*.whl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "## 12. install without Swift (issue #16)"
echo "sizes: $(cd dist && for f in *.tar.xz *.deb *.whl; do printf '%s %.1f MB; ' "$f" "$(echo "$(stat -c %s "$f") / 1000000" | bc -l)"; done)"

start=$(date +%s.%N)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel" confluent-kafka pytest
installed=$(date +%s.%N)
(cd examples/python-consumer && env -u PYTHONPATH -u PORT_EMULATOR_BIN "$work/venv/bin/python" -m pytest -q -p no:cacheprovider >&2)
passed=$(date +%s.%N)
printf 'fresh venv to a passing example suite, this machine (pip cache warm): venv + pip install %.1f s, pytest %.1f s, total %.1f s\n' \
    "$(echo "$installed - $start" | bc -l)" "$(echo "$passed - $installed" | bc -l)" "$(echo "$passed - $start" | bc -l)"

"$work/venv/bin/python" - "$ROUNDS" "$work/venv" "$PWD" <<'PYTHON'
import statistics, sys, time
from pathlib import Path
from port_kafka_harness import Emulator
from port_kafka_harness._binaries import bundled

rounds, venv, repository = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
variants = {
    "wheel (bundled binary)": bundled("port-emulator"),
    "wheel (console script)": venv / "bin" / "port-emulator",
    "source build, release": repository / ".build/release/port-emulator",
    "source build, debug": repository / ".build/debug/port-emulator",
}
fixtures = repository / "fixtures"
times = {name: [] for name in variants}
for _ in range(rounds):
    for name, binary in variants.items():
        emulator = Emulator(fixtures, binary=binary)
        started = time.monotonic()
        emulator.start()
        times[name].append(time.monotonic() - started)
        emulator.close()
baseline = statistics.median(times["source build, release"])
print(f"spawn to ready (port-emulator serve until its env file is written), {rounds} rounds interleaved, median [min-max]:")
for name, values in times.items():
    median = statistics.median(values)
    print(f"  {name:24} {median * 1000:6.0f} ms [{min(values) * 1000:.0f}-{max(values) * 1000:.0f}]"
          f"  x{median / baseline:.2f} of the release source build")
PYTHON
