"""One port-emulator for the session (through port_kafka_harness.Emulator); each test starts
from a reset emulator with a fresh token, and builds the catalog it needs through the API.

The binary and fixtures come from PORT_EMULATOR_BIN and PORT_EMULATOR_FIXTURES (as `make
test-python` sets them), else from this checkout's debug build and fixtures.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from catalog_clients import ChangeLog, PortHTTP
from port_kafka_harness import Emulator

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    binary = os.environ.get("PORT_EMULATOR_BIN") or REPOSITORY / ".build/debug/port-emulator"
    fixtures = os.environ.get("PORT_EMULATOR_FIXTURES") or REPOSITORY / "fixtures"
    with Emulator(fixtures, binary=binary) as running:
        yield running


@pytest.fixture
def port(emulator: Emulator) -> Iterator[PortHTTP]:
    """Port's API on a reset emulator (no entity, no run, only the fixtures' blueprints)."""
    client = PortHTTP(emulator.base_url, emulator.client_id, emulator.client_secret)
    client.reset()
    client.authenticate()
    yield client
    client.close()


@pytest.fixture
def catalog(port: PortHTTP) -> PortHTTP:
    """``port`` with the tests' blueprints created through ``POST /v1/blueprints``."""
    port.create_blueprints()
    return port


@pytest.fixture(scope="session")
def change_log(emulator: Emulator) -> Iterator[ChangeLog]:
    reader = ChangeLog(emulator.kafka_brokers, emulator.org_id, f"catalog-http-{uuid.uuid4().hex[:8]}")
    yield reader
    reader.close()
