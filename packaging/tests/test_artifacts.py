"""The tarball, the .deb and the wheel: contents, checksums, versions, what stays dynamic."""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import C_LIBRARIES, DIST, GLIBC, REPOSITORY, Artifacts, ldd

BINARIES = ("port-emulator", "port-consumer")
# What each name answers first to --help: one binary, two commands.
OVERVIEWS = {
    "port-emulator": "OVERVIEW: A local stand-in for Port",
    "port-consumer": "OVERVIEW: Consume Port's self-service invocations",
}


def test_the_checksum_file_covers_the_three_artifacts(artifacts: Artifacts) -> None:
    lines = (DIST / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split()[1] for line in lines) == sorted(
        [artifacts.tarball.name, artifacts.deb.name, artifacts.wheel.name]
    )
    subprocess.run(["sha256sum", "--check", "--strict", "--quiet", "SHA256SUMS"], cwd=DIST, check=True)


def test_the_tarball_holds_one_binary_under_both_names_the_fixtures_and_the_licences(
    artifacts: Artifacts, unpacked: Path
) -> None:
    # port-consumer is a link to port-emulator, which runs the command it is called by.
    assert os.readlink(unpacked / "bin" / "port-consumer") == "port-emulator"
    assert sorted(path.name for path in (unpacked / "bin").iterdir()) == sorted(BINARIES)
    for name in BINARIES:
        version = subprocess.run([unpacked / "bin" / name, "--version"], capture_output=True, text=True, check=True)
        assert version.stdout.strip() == artifacts.version
        usage = subprocess.run([unpacked / "bin" / name, "--help"], capture_output=True, text=True, check=True)
        assert usage.stdout.startswith(OVERVIEWS[name]), usage.stdout[:200]
    assert "Apache License" in (unpacked / "LICENSE").read_text()
    assert "port-emulator" in (unpacked / "README.md").read_text()
    # The README's links into CHANGELOG.md and docs/ resolve in the tarball.
    assert "## Unreleased" in (unpacked / "CHANGELOG.md").read_text()
    assert (unpacked / "docs" / "configuration.md").is_file()
    assert "===== swift-nio: LICENSE.txt =====" in (unpacked / "THIRD-PARTY-LICENSES").read_text()
    fixtures = unpacked / "share" / "port-kafka-harness" / "fixtures"
    shipped = sorted(path.name for path in (REPOSITORY / "fixtures" / "actions").glob("*.json"))
    assert sorted(path.name for path in (fixtures / "actions").glob("*.json")) == shipped
    assert os.access(fixtures / "handlers" / "create_microservice.sh", os.X_OK)


def needed(binary: Path) -> set[str]:
    dynamic = subprocess.run(["readelf", "--dynamic", str(binary)], capture_output=True, text=True, check=True).stdout
    return {line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line}


def test_only_glibc_and_the_four_c_libraries_stay_dynamic(unpacked: Path, system_tree: set[str]) -> None:
    binary = unpacked / "bin" / "port-emulator"
    # The Swift runtime, FoundationEssentials, BoringSSL, libstdc++ and libgcc are linked in. zlib is
    # named directly (swift-nio-extras) but is also librdkafka's own dependency.
    assert needed(binary) <= GLIBC | set(C_LIBRARIES) | {"libz.so.1"}
    assert "libz.so.1" in system_tree
    libraries = ldd(binary)
    assert [soname for soname, path in libraries.items() if path == "not found"] == []
    assert set(libraries) - GLIBC - system_tree == set()
    assert not {"libstdc++.so.6", "libgcc_s.so.1", "libswiftCore.so", "libFoundation.so"} & set(libraries)
    # No full Foundation linked in statically either: ICU's data leaves its name (icudt76l)
    # in the binary, stripped or not.
    assert re.search(rb"icudt\d+l", binary.read_bytes()) is None, "port-emulator links ICU (full Foundation)"


def dpkg_field(deb: Path, field: str) -> str:
    return subprocess.run(["dpkg-deb", "--field", str(deb), field], capture_output=True, text=True, check=True).stdout


def test_the_deb_depends_on_the_four_libraries_by_their_debian_names(artifacts: Artifacts) -> None:
    assert dpkg_field(artifacts.deb, "Package").strip() == "port-kafka-harness"
    assert dpkg_field(artifacts.deb, "Version").strip() == artifacts.version
    depends = {entry.split()[0] for entry in dpkg_field(artifacts.deb, "Depends").strip().split(", ")}
    assert depends == {"libc6", "zlib1g", "librdkafka1", "libmicrohttpd12", "libjq1", "libyaml-0-2"}
    listing = subprocess.run(["dpkg-deb", "--contents", str(artifacts.deb)], capture_output=True, text=True, check=True)
    # "... ./usr/bin/port-consumer -> port-emulator" for the link.
    entries = [line.split(None, 5)[5] for line in listing.stdout.splitlines()]
    paths = {entry.split(" -> ")[0] for entry in entries}
    assert {"./usr/bin/port-emulator", "./usr/share/doc/port-kafka-harness/copyright",
            "./usr/share/doc/port-kafka-harness/CHANGELOG.md",
            "./usr/share/doc/port-kafka-harness/docs/configuration.md"} <= paths
    assert "./usr/bin/port-consumer -> port-emulator" in entries
    assert "./usr/share/port-kafka-harness/fixtures/actions/create_microservice.json" in paths


def test_the_wheel_carries_the_binaries_their_libraries_the_scripts_and_the_plugin(artifacts: Artifacts) -> None:
    with zipfile.ZipFile(artifacts.wheel) as wheel:
        # One binary: the port-consumer script runs it by that name.
        binaries = [name for name in wheel.namelist() if name.startswith("port_kafka_harness/bin/")]
        assert [name for name in binaries if not name.endswith("/")] == [
            "port_kafka_harness/bin/port-emulator"
        ]
        mode = wheel.getinfo("port_kafka_harness/bin/port-emulator").external_attr >> 16
        assert mode & 0o111, "port-emulator is not executable in the wheel"
        grafted = [name for name in wheel.namelist() if name.startswith("port_kafka_harness.libs/")]
        for library in ("librdkafka", "libmicrohttpd", "libjq", "libyaml", "libssl", "libgnutls", "libonig"):
            assert any(Path(name).name.startswith(library + "-") for name in grafted), f"{library} is not in the wheel"
        info = f"port_kafka_harness-{artifacts.version}.dist-info"
        assert f"Version: {artifacts.version}\n" in wheel.read(f"{info}/METADATA").decode()
        tags = wheel.read(f"{info}/WHEEL").decode()
        assert "Root-Is-Purelib: false" in tags and "Tag: py3-none-manylinux_" in tags
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        assert "[pytest11]\nport_emulator = port_kafka_harness.pytest_plugin" in entry_points
        assert "port-emulator = port_kafka_harness._cli:emulator" in entry_points
        assert "port-consumer = port_kafka_harness._cli:consumer" in entry_points
        assert "port_kafka_harness/py.typed" in wheel.namelist()
        assert "port_kafka_harness/fixtures/actions/create_microservice.json" in wheel.namelist()
        assert f'__version__ = "{artifacts.version}"' in wheel.read("port_kafka_harness/_version.py").decode()
