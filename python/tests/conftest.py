"""Tests of the Python package against a real port-emulator (PORT_EMULATOR_BIN, or the wheel's).

The plugin's own behaviour is checked with pytester: each inner session is a real pytest run
with the plugin loaded, as a user's would be.
"""

from __future__ import annotations

import importlib.metadata
from typing import Iterator

import pytest

from port_kafka_harness import Emulator

pytest_plugins = ["pytester"]


def plugin_arguments() -> list[str]:
    """``-p`` for the plugin when it is used from the source tree (the wheel registers it)."""
    try:
        importlib.metadata.distribution("port-kafka-harness")
        return ["-p", "no:cacheprovider"]
    except importlib.metadata.PackageNotFoundError:
        return ["-p", "port_kafka_harness.pytest_plugin", "-p", "no:cacheprovider"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator for a module's API tests, reset by each test that needs a clean state."""
    with Emulator() as running:
        yield running
