"""Starts the consumer under test once per session, beside the plugin's emulator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from port_kafka_harness import ConsumerProcess
from port_kafka_harness.pytest_plugin import ConsumerFactory


@pytest.fixture(scope="session")
def consumer(port_consumer: ConsumerFactory) -> ConsumerProcess:
    """consumer.py with the emulator's settings in its environment, once it has started."""
    return port_consumer([sys.executable, str(Path(__file__).with_name("consumer.py"))], ready_log="consumer started")
