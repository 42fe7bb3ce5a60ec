"""Starts the consumer under test once, beside the port_emulator plugin's emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from port_kafka_harness import Emulator


@pytest.fixture(scope="session")
def consumer(port_emulator_process: Emulator) -> Iterator[subprocess.Popen[bytes]]:
    """consumer.py with the emulator's settings in its environment."""
    script = Path(__file__).with_name("consumer.py")
    process = subprocess.Popen([sys.executable, str(script)], env=port_emulator_process.env())
    yield process
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
