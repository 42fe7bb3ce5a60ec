"""The dist tests (make dist-test): what `make dist` put in dist/, checked as a user gets it.

They read the artifacts, never the build tree: the tarball's binaries, the .deb in a clean
Debian root made with debootstrap, the wheel in fresh virtual environments.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
DIST = REPOSITORY / "dist"
#: The dynamic libraries of glibc: the only ones besides the four C libraries' trees.
GLIBC = {"linux-vdso.so.1", "ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2",
         "librt.so.1", "libresolv.so.2", "libmvec.so.1"}
C_LIBRARIES = ("librdkafka.so.1", "libmicrohttpd.so.12", "libjq.so.1", "libyaml-0.so.2")


@dataclass(frozen=True)
class Artifacts:
    """The files of one `make dist`."""

    version: str
    tarball: Path
    deb: Path
    wheel: Path


def _one(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    if len(found) != 1:
        pytest.fail(f"dist/ should hold exactly one {pattern}, found {[p.name for p in found]}: run make dist first")
    return found[0]


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    deb = _one("port-kafka-harness_*_amd64.deb")
    version = deb.name.split("_")[1]
    return Artifacts(version, _one(f"port-kafka-harness-{version}-linux-x86_64.tar.xz"), deb,
                     _one(f"port_kafka_harness-{version}-py3-none-manylinux_*_x86_64.whl"))


@pytest.fixture(scope="session")
def unpacked(artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tarball, extracted: its top directory."""
    target = tmp_path_factory.mktemp("tarball")
    # tar itself, as a user unpacks it (and Debian 12's Python 3.11.2 has no extraction filters).
    subprocess.run(["tar", "-xJf", str(artifacts.tarball), "-C", str(target)], check=True)
    return target / artifacts.tarball.name.removesuffix(".tar.xz")


def ldd(binary: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """soname -> resolved path (or "not found") as the dynamic loader resolves them."""
    output = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True, env=env).stdout
    libraries: dict[str, str] = {}
    for line in output.splitlines():
        match = re.match(r"\s*(\S+)(?: => (\S+(?: \S+)?))?", line)
        if match:
            name, resolved = match.group(1), match.group(2) or match.group(1)
            libraries[Path(name).name] = resolved.split(" (")[0]
    return libraries


def venv(path: Path) -> Path:
    """A fresh virtual environment; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path / "bin" / "python"


def pip_install(python: Path, *arguments: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments],
                   check=True)


class Stopwatch:
    """Wall time of a step, for the figures the closing note reports (never asserted)."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


def report(line: str) -> None:
    """A figure, printed in the dist tests' output and appended to bench-results/dist.txt."""
    print(line, file=sys.stderr)
    results = REPOSITORY / "bench-results"
    results.mkdir(exist_ok=True)
    with (results / "dist.txt").open("a") as file:
        file.write(line + "\n")


@pytest.fixture(scope="session")
def system_tree() -> set[str]:
    """Every library the four C libraries load on this machine (their own dependencies)."""
    tree: set[str] = set(C_LIBRARIES)
    for library in C_LIBRARIES:
        tree |= set(ldd(Path("/usr/lib/x86_64-linux-gnu") / library))
    return tree


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float, what: str) -> float:
    """Waits until ``path`` exists; fails if the process ends first or the deadline passes."""
    watch = Stopwatch()
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"{what} exited with status {process.returncode} before it was ready")
        if watch.seconds > timeout:
            pytest.fail(f"{what} was not ready within {timeout} s")
        time.sleep(0.01)
    return watch.seconds


@pytest.fixture
def stop_after() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test started; each is stopped (SIGTERM, then SIGKILL) when the test ends."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

