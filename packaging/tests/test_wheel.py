"""The wheel in a fresh virtual environment on this machine: what pip installs, and its own suite."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import GLIBC, REPOSITORY, Artifacts, ldd, pip_install, venv


@pytest.fixture(scope="module")
def installed(artifacts: Artifacts, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel, pytest and awslambdaric (which a Lambda user installs beside
    the wheel, and the plugin's Lambda tests run handlers under); returns its python."""
    python = venv(tmp_path_factory.mktemp("wheel") / "venv")
    pip_install(python, str(artifacts.wheel), "pytest", "awslambdaric")
    return python


def clean_environment(python: Path) -> dict[str, str]:
    """No PYTHONPATH, no PORT_EMULATOR_BIN, no LD_LIBRARY_PATH: only the venv on PATH."""
    return {"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}


def package_directory(python: Path) -> Path:
    code = "import pathlib, port_kafka_harness; print(pathlib.Path(port_kafka_harness.__file__).parent)"
    return Path(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip())


def test_the_console_scripts_run_the_bundled_binary_by_their_names(installed: Path, artifacts: Artifacts) -> None:
    overviews = {"port-emulator": "OVERVIEW: A local stand-in for Port",
                 "port-consumer": "OVERVIEW: Consume Port's self-service invocations"}
    for name, overview in overviews.items():
        result = subprocess.run([installed.parent / name, "--version"], capture_output=True, text=True,
                                env=clean_environment(installed), check=True)
        assert result.stdout.strip() == artifacts.version
        usage = subprocess.run([installed.parent / name, "--help"], capture_output=True, text=True,
                               env=clean_environment(installed), check=True)
        assert usage.stdout.startswith(overview), usage.stdout[:200]
    usage = subprocess.run([installed.parent / "port-emulator", "serve", "--help"], capture_output=True, text=True,
                           env=clean_environment(installed), check=True)
    assert "--env-file" in usage.stdout


def test_the_binary_resolves_only_to_the_wheel_s_libraries_and_glibc(installed: Path) -> None:
    package = package_directory(installed)
    grafted = os.path.realpath(package.parent / "port_kafka_harness.libs") + "/"
    libraries = ldd(package / "bin" / "port-emulator", env=clean_environment(installed))
    resolved = {soname: os.path.realpath(path) for soname, path in libraries.items() if path.startswith("/")}
    outside = {soname: path for soname, path in resolved.items() if soname not in GLIBC and not path.startswith(grafted)}
    # zlib is the one library every manylinux platform must provide (auditwheel's policy, PEP 600),
    # so the wheel leaves it to the system; Debian installs it in every root (Priority: required).
    assert set(outside) <= {"libz.so.1"}, outside
    assert "librdkafka" in "".join(path for path in resolved.values() if path.startswith(grafted))


def test_the_package_s_own_suite_passes_against_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """python/tests with the entry-point plugin, the bundled binary and the bundled fixtures."""
    result = subprocess.run(
        [installed, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(REPOSITORY / "python" / "tests")],
        cwd=tmp_path, env=clean_environment(installed), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
