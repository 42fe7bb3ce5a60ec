"""Bad set-ups fail fast with a message that says what to fix, never a hang."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Iterator

import pytest

from port_kafka_harness import BinaryNotFound, Emulator, EmulatorDied, EmulatorStartError, _cli


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_missing_binary_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "port-emulator"
    with pytest.raises(BinaryNotFound, match=f"given path {missing} does not exist"):
        Emulator(binary=missing)


def test_a_binary_from_the_environment_that_is_not_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "port-emulator"
    script.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PORT_EMULATOR_BIN", str(script))
    with pytest.raises(BinaryNotFound, match=r"\$PORT_EMULATOR_BIN path .* is not executable"):
        Emulator()


def test_a_port_in_use_stops_start_with_the_emulator_s_reason(busy_port: int) -> None:
    emulator = Emulator(port=busy_port)
    with pytest.raises(EmulatorStartError) as refused:
        emulator.start()
    message = str(refused.value)
    assert "exited with status" in message and "before it was ready" in message
    assert str(busy_port) in message  # the emulator's own line: which port it could not bind


def test_bad_fixtures_stop_start_with_the_file_and_the_reason(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "broken.json").write_text("{not json")
    with pytest.raises(EmulatorStartError, match="broken.json"):
        Emulator(tmp_path).start()


def test_an_emulator_that_dies_during_a_wait_is_reported_at_once(emulator_to_kill: Emulator) -> None:
    run = emulator_to_kill.trigger("create_microservice", {"name": "billing"})
    assert emulator_to_kill.pid is not None
    os.kill(emulator_to_kill.pid, signal.SIGKILL)
    # A 10-minute wait: only noticing the death can end it, so a hang would fail the suite's timeout.
    with pytest.raises(EmulatorDied, match=r"exited with status -9"):
        emulator_to_kill.wait(run["id"], timeout=600)


@pytest.fixture
def emulator_to_kill() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def test_a_fixtures_directory_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=f"given path {tmp_path / 'nowhere'} is not a directory"):
        Emulator(tmp_path / "nowhere")


def test_the_console_script_without_a_binary_exits_127_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT_EMULATOR_BIN", str(tmp_path / "missing"))
    with pytest.raises(SystemExit) as exited:
        _cli.emulator()
    assert exited.value.code == 127
    assert f"error: port-emulator not found: $PORT_EMULATOR_BIN path {tmp_path / 'missing'}" in capsys.readouterr().err


def test_pointing_at_the_console_script_is_refused_not_looped(tmp_path: Path) -> None:
    launcher = tmp_path / "port-emulator"
    launcher.write_text("#!/usr/bin/python3\nfrom port_kafka_harness._cli import emulator\nemulator()\n")
    launcher.chmod(0o755)
    with pytest.raises(BinaryNotFound, match="is this package's console script, not the binary it runs"):
        Emulator(binary=launcher)


def test_a_start_that_fails_leaves_no_process_and_no_directory(busy_port: int) -> None:
    emulator = Emulator(port=busy_port)
    with pytest.raises(EmulatorStartError):
        emulator.start()
    assert emulator.pid is None and emulator._directory is None
    slow = Emulator(startup_timeout=0.001)
    with pytest.raises(EmulatorStartError, match=r"was not ready within 0.001 s"):
        slow.start()
    assert slow.pid is None and slow._directory is None
