#!/usr/bin/env bash
# make bench-dist (and section 12 of make bench): the figures of issue #16, in one run.
#  - Spawn to ready of port-emulator serve (until its --env-file exists, which means ready),
#    for the wheel's binary and its console script (installed in a fresh venv), beside the
#    source builds (release and debug), interleaved, N rounds each.
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
echo "sizes: $(cd dist && python3 -c 'import os, sys; print("; ".join(f"{f} {os.path.getsize(f) / 1e6:.1f} MB" for f in sys.argv[1:]))' *.tar.xz *.deb *.whl)"

start=$(date +%s.%N)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$wheel" confluent-kafka pytest
installed=$(date +%s.%N)
(cd examples/python-consumer && env -u PYTHONPATH -u PORT_EMULATOR_BIN "$work/venv/bin/python" -m pytest -q -p no:cacheprovider >&2)
passed=$(date +%s.%N)
python3 -c 'import sys; start, installed, passed = map(float, sys.argv[1:])
print(f"fresh venv to a passing example suite, this machine (pip cache warm): venv + pip install "
      f"{installed - start:.1f} s, pytest {passed - installed:.1f} s, total {passed - start:.1f} s")' "$start" "$installed" "$passed"

"$work/venv/bin/python" - "$ROUNDS" "$work/venv" "$PWD" <<'PYTHON'
import statistics, subprocess, sys, tempfile, time
from pathlib import Path
from port_kafka_harness._binaries import bundled

rounds, venv, repository = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
variants = {
    "wheel (bundled binary)": bundled("port-emulator"),
    "wheel (console script)": venv / "bin" / "port-emulator",
    "source build, release": repository / ".build/release/port-emulator",
    "source build, debug": repository / ".build/debug/port-emulator",
}
fixtures = repository / "fixtures"


def spawn_to_ready(executable: Path) -> float:
    """`serve` started as a user starts it, until its env file exists (it is ready then)."""
    with tempfile.TemporaryDirectory() as directory:
        env_file = Path(directory) / "emulator.env"
        command = [str(executable), "serve", "--port", "0", "--env-file", str(env_file), "--fixtures", str(fixtures)]
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not env_file.exists():
            if process.poll() is not None or time.monotonic() - started > 60:
                raise SystemExit(f"bench: {executable} serve was not ready (status {process.poll()})")
            time.sleep(0.002)
        elapsed = time.monotonic() - started
        process.terminate()
        process.wait(30)
        return elapsed


times = {name: [] for name in variants}
for _ in range(rounds):
    for name, executable in variants.items():
        times[name].append(spawn_to_ready(executable))
baseline = statistics.median(times["source build, release"])
print(f"spawn to ready (port-emulator serve until its env file is written), {rounds} rounds interleaved, median [min-max]:")
for name, values in times.items():
    median = statistics.median(values)
    print(f"  {name:24} {median * 1000:6.0f} ms [{min(values) * 1000:.0f}-{max(values) * 1000:.0f}]"
          f"  x{median / baseline:.2f} of the release source build")
PYTHON
