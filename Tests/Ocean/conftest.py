"""Port Ocean, unmodified (PyPI port-ocean[cli] 0.56.2, in its own Python 3.12 venv), against
one port-emulator for the session (through port_kafka_harness.Emulator).

The venv is PORT_OCEAN_VENV (as `make test-python` sets it, after `make ocean-venv`), else this
checkout's .build/ocean-venv. Without it the tests skip if there is no Python 3.12 (as
find-python3.12.sh decides: PORT_OCEAN_PYTHON= acts as none) and fail if there is one.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest
import requests

from port_kafka_harness import Emulator

JSON = dict[str, Any]
HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
INTEGRATION = HERE / "demo-integration"
OCEAN_VERSION = "0.56.2"
INTEGRATION_ID = "demo-integ"
INTEGRATION_TYPE = "demo"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    binary = os.environ.get("PORT_EMULATOR_BIN") or REPOSITORY / ".build/debug/port-emulator"
    fixtures = os.environ.get("PORT_EMULATOR_FIXTURES") or REPOSITORY / "fixtures"
    with Emulator(fixtures, binary=binary) as running:
        yield running


def python312() -> str | None:
    """A Python 3.12 interpreter, as `make ocean-venv` finds one, or None."""
    found = subprocess.run(["sh", str(HERE / "find-python3.12.sh")], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        return None
    return found.stdout.strip() or None


@pytest.fixture(scope="session")
def ocean_executable() -> Path:
    venv = Path(os.environ.get("PORT_OCEAN_VENV") or REPOSITORY / ".build/ocean-venv")
    ocean = venv / "bin" / "ocean"
    if not ocean.exists():
        python = python312()
        if python is None:
            pytest.skip(
                f"Port Ocean {OCEAN_VERSION} needs Python 3.12 and there is none (no python3.12 on PATH, "
                f"none under $(pyenv root)/versions/3.12*), so `make ocean-venv` made no {venv}"
            )
        pytest.fail(f"{ocean} is missing although {python} is a Python 3.12: run `make ocean-venv`")
    if not list(venv.glob(f"lib/python3.12/site-packages/port_ocean-{OCEAN_VERSION}.dist-info")):
        pytest.fail(f"{venv} has no port-ocean {OCEAN_VERSION} for Python 3.12: run `make ocean-venv`")
    return ocean


class Port:
    """Port's API (``/v1``, with an access token) and the admin API, through ``requests``."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.base_url = emulator.base_url
        self.session = requests.Session()
        self.session.trust_env = False  # the emulator is local: no $http_proxy

    def reset_and_authenticate(self) -> None:
        answer = self.session.post(self.base_url + "/_emulator/reset", json={}, timeout=30)
        assert answer.ok, f"POST /_emulator/reset: {answer.status_code} {answer.text}"
        credentials = {"clientId": self.emulator.client_id, "clientSecret": self.emulator.client_secret}
        answer = self.session.post(self.base_url + "/v1/auth/access_token", json=credentials, timeout=30)
        assert answer.status_code == 200, f"access token: {answer.status_code} {answer.text}"
        self.session.headers["Authorization"] = "Bearer " + answer.json()["accessToken"]

    def call(
        self, method: str, path: str, body: Any = None, params: Mapping[str, str] | None = None, **headers: str
    ) -> requests.Response:
        """``method`` on Port's API (``path`` under ``/v1``)."""
        return self.session.request(
            method, self.base_url + "/v1" + path, json=body, params=params, headers=headers, timeout=30
        )

    def expect(
        self,
        statuses: set[int],
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        **headers: str,
    ) -> JSON:
        """The JSON answer of a call that must answer one of ``statuses``."""
        answer = self.call(method, path, body, params, **headers)
        assert answer.status_code in statuses, f"{method} {answer.url}: {answer.status_code} {answer.text}"
        result: JSON = answer.json()
        return result

    def admin(self, path: str) -> JSON:
        answer = self.session.get(self.base_url + "/_emulator" + path, timeout=30)
        assert answer.ok, f"GET /_emulator{path}: {answer.status_code} {answer.text}"
        result: JSON = answer.json()
        return result

    def journal(self) -> list[JSON]:
        entries: list[JSON] = self.admin("/journal")["journal"]
        return entries

    def violations(self) -> list[JSON]:
        entries: list[JSON] = self.admin("/violations")["violations"]
        return entries


@pytest.fixture
def port(emulator: Emulator) -> Iterator[Port]:
    """Port's API on a reset emulator (no entity, no run, no integration)."""
    client = Port(emulator)
    client.reset_and_authenticate()
    yield client
    client.session.close()


class Ocean:
    """``ocean sail`` in a copy of the demo integration; its output goes to ``log``."""

    def __init__(self, executable: Path, workdir: Path, log: Path, env: dict[str, str]) -> None:
        self.log = log
        with socket.socket() as probe:  # Ocean's own HTTP server needs a port: a free one
            probe.bind(("", 0))
            own_port = probe.getsockname()[1]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [str(executable), "sail", "-p", str(own_port)],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a terminal's Ctrl-C reaches pytest, which stops Ocean
            )

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- Ocean's output, last {len(text)} lines of {self.log} ---\n" + "\n".join(text)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGINT, as Ctrl-C; SIGKILL if Ocean has not exited within ``timeout`` (then None)."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def ocean_environment(emulator: Emulator, **settings: str) -> dict[str, str]:
    """This environment without Ocean's or the harness's settings, with the emulator's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OCEAN__", "APPLICATION__", "PORT_")) and key != "PYTHONPATH"
    }
    env.update(
        OCEAN__PORT__BASE_URL=emulator.base_url,
        OCEAN__PORT__CLIENT_ID=emulator.client_id,
        OCEAN__PORT__CLIENT_SECRET=emulator.client_secret,
        OCEAN__INTEGRATION__IDENTIFIER=INTEGRATION_ID,
        OCEAN__INTEGRATION__TYPE=INTEGRATION_TYPE,
        OCEAN__EVENT_LISTENER__TYPE="POLLING",
        OCEAN__EVENT_LISTENER__INTERVAL="60",
        OCEAN__ACTIONS_PROCESSOR__ENABLED="true",
        OCEAN__ACTIONS_PROCESSOR__POLL_CHECK_INTERVAL_SECONDS="1",
        OCEAN__CACHING_STORAGE_MODE="memory",
        APPLICATION__ENABLE_HTTP_LOGGING="false",  # no log shipping to Port's ingest URL
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    env.update(settings)
    return env


@pytest.fixture
def start_ocean(ocean_executable: Path, emulator: Emulator, tmp_path: Path) -> Iterator[Callable[..., Ocean]]:
    """Starts Ocean (settings as keyword arguments over ``ocean_environment``'s); stops it after the test."""
    started: list[Ocean] = []

    def start(**settings: str) -> Ocean:
        workdir = tmp_path / f"integration-{len(started)}"
        shutil.copytree(INTEGRATION, workdir, ignore=shutil.ignore_patterns("__pycache__"))
        log = tmp_path / f"ocean-{len(started)}.log"
        started.append(Ocean(ocean_executable, workdir, log, ocean_environment(emulator, **settings)))
        return started[-1]

    yield start
    for ocean in started:
        ocean.stop()
