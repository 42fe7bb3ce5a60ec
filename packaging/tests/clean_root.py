"""A clean Debian bookworm root (debootstrap, minbase: no librdkafka, no Swift, no Python) to
install the artifacts into, as a user's fresh machine would.

The base root is made once and kept in .build-dist/bookworm-minbase; each test works in a copy
of it. Building one needs root, debootstrap and Debian's mirror (DEBIAN_MIRROR overrides it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from types import TracebackType

import pytest
from conftest import REPOSITORY

BASE = REPOSITORY / ".build-dist" / "bookworm-minbase"
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PROXY_VARIABLES = {"http_proxy", "https_proxy", "no_proxy"}


def base_root() -> Path:
    """The cached minbase root, made with debootstrap on first use."""
    if os.geteuid() != 0:
        pytest.fail("the clean-root tests need root: debootstrap and chroot (CI runs as root)")
    if shutil.which("debootstrap") is None:
        pytest.fail("the clean-root tests need debootstrap (make dist-test installs it)")
    if not (BASE / "etc" / "debian_version").exists():
        partial = BASE.with_name(BASE.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        mirror = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
        print(f"debootstrap: a minimal bookworm root from {mirror} (about a minute, once)", flush=True)
        result = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(partial), mirror],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.fail(f"debootstrap failed ({result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
        partial.rename(BASE)
    return BASE


class Root:
    """A copy of the base root with /proc mounted and the host's DNS; removed on exit."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Root:
        try:
            self._prepare()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _prepare(self) -> None:
        subprocess.run(["cp", "-a", str(base_root()), str(self.path)], check=True)
        # The host's network settings: its DNS and, when its egress needs them (a TLS-inspecting
        # proxy), its trusted CAs and proxy variables, so that pip reaches PyPI from the root.
        shutil.copy("/etc/resolv.conf", self.path / "etc" / "resolv.conf")
        if Path(HOST_CA_BUNDLE).is_file():
            shutil.copy(HOST_CA_BUNDLE, self.path / "etc" / "host-ca-certificates.crt")
        subprocess.run(["mount", "-t", "proc", "proc", str(self.path / "proc")], check=True)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if (self.path / "proc" / "self").exists():
            subprocess.run(["umount", "--lazy", str(self.path / "proc")], check=False)
        shutil.rmtree(self.path, ignore_errors=True)

    def command(self, script: str) -> list[str]:
        network = [f"{key}={value}" for key, value in os.environ.items() if key.lower() in PROXY_VARIABLES]
        if (self.path / "etc" / "host-ca-certificates.crt").exists():
            network.append("PIP_CERT=/etc/host-ca-certificates.crt")
        return ["chroot", str(self.path), "/usr/bin/env", "-i", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
                "HOME=/root", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive", *network, "/bin/bash", "-c", script]

    def run(self, script: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Runs a bash script inside the root; fails the test with its output if it fails."""
        result = subprocess.run(self.command(script), capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            pytest.fail(f"in the clean root, `{script}` exited with {result.returncode}:\n"
                        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def popen(self, script: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as output:
            return subprocess.Popen(self.command(script), stdout=output, stderr=subprocess.STDOUT)

    def libraries(self, *prefixes: str) -> list[str]:
        """Files in the root's library directories whose names start with one of the prefixes."""
        found: list[str] = []
        for directory in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib", "usr/local/lib"):
            folder = self.path / directory
            if folder.is_dir():
                found += [entry.name for entry in folder.iterdir() if entry.name.startswith(prefixes)]
        return found
