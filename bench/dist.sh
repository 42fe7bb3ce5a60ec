#!/usr/bin/env bash
# make bench-dist (and section 12 of make bench): what a user downloads and how fast it starts,
# this tree beside a baseline revision's release archives, in one run (issues #16 and #27):
#  - sizes: the binaries (stripped, as shipped), the tarball, the .deb and the wheel;
#  - a fresh venv to a passing example suite: pip install of the wheel, confluent-kafka and
#    pytest, then pytest examples/python-consumer (the pip cache is warm for both);
#  - spawn to ready of `port-emulator serve` (until its --env-file exists, which means ready):
#    the wheel's bundled binary and the tarball's, before and after, ROUNDS each, interleaved;
#    after, also a first start (an empty jq compile record, see JQCompileRecord).
# The baseline is BENCH_DIST_BASELINE (a revision; default 1f45601, the tree before issue #27),
# whose make dist runs once in a git worktree, .build/baseline-dist-REV, and is kept.
# The same fresh-venv figure in a clean bookworm root is printed by make dist-test.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${BENCH_SPAWN_ROUNDS:-30}
REV=${BENCH_DIST_BASELINE:-1f45601}
OUT=${BENCH_OUT:-bench-results}
mkdir -p "$OUT"
[ -n "${BENCH_SKIP_BUILD:-}" ] || bash scripts/dist.sh >&2

tree=.build/baseline-dist-$REV
if ! ls "$tree"/dist/*.whl >/dev/null 2>&1; then
    [ -d "$tree" ] || git worktree add --detach "$tree" "$REV" >&2
    echo "== make dist of the baseline $REV (once; kept in $tree): about 12 minutes" >&2
    (cd "$tree" && bash scripts/dist.sh >&2)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for side in before after; do
    dist=$([ "$side" = before ] && echo "$tree/dist" || echo dist)
    mkdir -p "$work/$side"
    tar -C "$work/$side" -xJf "$dist"/*.tar.xz
    ln -s "$(realpath "$dist"/*.whl)" "$work/$side/$(basename "$dist"/*.whl)"
    ln -s "$(realpath "$dist"/*.deb)" "$work/$side/package.deb"
    ln -s "$(realpath "$dist"/*.tar.xz)" "$work/$side/tarball.tar.xz"
done

echo "## 12. what a user downloads, and how fast it starts: this tree ($(git rev-parse --short HEAD)) beside $REV"
python3 - "$work" <<'PYTHON'
import sys
from pathlib import Path

work = Path(sys.argv[1])


def sizes(side: Path) -> dict[str, int]:
    binaries = [path for path in side.glob("port-kafka-harness-*/bin/*") if not path.is_symlink()]
    return {
        "binaries, stripped": sum(path.stat().st_size for path in binaries),
        "tarball": (side / "tarball.tar.xz").stat().st_size,
        ".deb": (side / "package.deb").stat().st_size,
        "wheel": next(side.glob("*.whl")).stat().st_size,
    }


def names(side: Path) -> str:
    return ", ".join(
        path.name + (f" -> {path.readlink()}" if path.is_symlink() else "")
        for path in sorted(side.glob("port-kafka-harness-*/bin/*"))
    )


before, after = sizes(work / "before"), sizes(work / "after")
print(f"sizes (MB), before -> after (bin/ before: {names(work / 'before')}; after: {names(work / 'after')}):")
for name in before:
    print(f"  {name:20} {before[name] / 1e6:6.1f} -> {after[name] / 1e6:6.1f}  x{after[name] / before[name]:.2f}")
PYTHON

for side in before after; do
    start=$(date +%s.%N)
    python3 -m venv "$work/$side/venv"
    "$work/$side/venv/bin/pip" install --quiet "$work/$side"/*.whl confluent-kafka pytest
    installed=$(date +%s.%N)
    (cd examples/python-consumer && env -u PYTHONPATH -u PORT_EMULATOR_BIN -u PORT_CONSUMER_BIN \
        "$work/$side/venv/bin/python" -m pytest -q -p no:cacheprovider >&2)
    passed=$(date +%s.%N)
    python3 -c 'import sys; side, start, installed, passed = sys.argv[1], *map(float, sys.argv[2:])
print(f"fresh venv to a passing example suite, {side:6} (pip cache warm): venv + pip install "
      f"{installed - start:.1f} s, pytest {passed - installed:.1f} s, total {passed - start:.1f} s")' \
        "$side" "$start" "$installed" "$passed"
done

python3 - "$ROUNDS" "$work" "$PWD" <<'PYTHON'
import os, statistics, subprocess, sys, tempfile, time
from pathlib import Path

rounds, work, repository = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])


def bundled(side: str) -> Path:
    code = "import pathlib, port_kafka_harness; print(pathlib.Path(port_kafka_harness.__file__).parent)"
    python = work / side / "venv" / "bin" / "python"
    package = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return Path(package) / "bin" / "port-emulator"


# serve keeps the fixtures' jq conditions that compiled in the user's cache (#27): "after"
# starts with that cache warm (its first start fills it), as every start but a user's first
# does; "after, first start" with an empty cache each time.
variants = {}
for side in ("before", "after"):
    variants[f"{side}: wheel (bundled binary)"] = (bundled(side), False)
    variants[f"{side}: tarball binary"] = (next((work / side).glob("port-kafka-harness-*/bin/port-emulator")), False)
for kind in ("wheel (bundled binary)", "tarball binary"):
    variants[f"after, first start: {kind}"] = (variants[f"after: {kind}"][0], True)
fixtures = repository / "fixtures"
warm_cache = work / "cache"


def spawn_to_ready(executable: Path, cold: bool) -> float:
    """`serve` started as a user starts it, until its env file exists (it is ready then)."""
    with tempfile.TemporaryDirectory() as directory:
        env_file = Path(directory) / "emulator.env"
        command = [str(executable), "serve", "--port", "0", "--env-file", str(env_file), "--fixtures", str(fixtures)]
        environment = {**os.environ, "XDG_CACHE_HOME": directory if cold else str(warm_cache)}
        started = time.monotonic()
        process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not env_file.exists():
            if process.poll() is not None or time.monotonic() - started > 60:
                raise SystemExit(f"bench: {executable} serve was not ready (status {process.poll()})")
            time.sleep(0.001)
        elapsed = time.monotonic() - started
        process.terminate()
        process.wait(30)
        return elapsed


for executable, cold in variants.values():
    spawn_to_ready(executable, cold)  # fills the warm cache; not counted
times = {name: [] for name in variants}
for _ in range(rounds):
    for name, (executable, cold) in variants.items():
        times[name].append(spawn_to_ready(executable, cold))
print(f"spawn to ready (serve, shipped fixtures, until its env file is written), {rounds} rounds interleaved,"
      " median [min-max]:")
for name, values in times.items():
    median = statistics.median(values)
    print(f"  {name:44} {median * 1000:6.1f} ms [{min(values) * 1000:.1f}-{max(values) * 1000:.1f}]")
for kind in ("wheel (bundled binary)", "tarball binary"):
    for after in ("after", "after, first start"):
        ratio = statistics.median(times[f"{after}: {kind}"]) / statistics.median(times[f"before: {kind}"])
        print(f"  ratio {after}/before, {kind}: x{ratio:.2f}")
PYTHON
