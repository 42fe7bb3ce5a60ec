"""port-kafka-harness: Port's API and Kafka brokers on a laptop or in CI.

``Emulator`` starts ``port-emulator serve`` and talks to it over HTTP; ``ConsumerProcess``
runs the consumer under test beside it; the pytest plugin (``port_emulator`` and
``port_consumer`` fixtures) is registered automatically when the wheel is installed.
"""

from ._binaries import BinaryNotFound
from ._consumer import ConsumerProcess, ConsumerStartError
from ._emulator import (
    FINISHED,
    Emulator,
    EmulatorDied,
    EmulatorError,
    EmulatorStartError,
    PortAPIError,
    RunAssertionError,
)
from ._version import __version__

__all__ = [
    "FINISHED",
    "BinaryNotFound",
    "ConsumerProcess",
    "ConsumerStartError",
    "Emulator",
    "EmulatorDied",
    "EmulatorError",
    "EmulatorStartError",
    "PortAPIError",
    "RunAssertionError",
    "__version__",
]
