"""port-kafka-harness: Port's API and Kafka brokers on a laptop or in CI.

``Emulator`` starts ``port-emulator serve`` and talks to it over HTTP; the pytest plugin
(``port_emulator`` fixture) is registered automatically when the wheel is installed.
"""

from ._binaries import BinaryNotFound
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
    "Emulator",
    "EmulatorDied",
    "EmulatorError",
    "EmulatorStartError",
    "PortAPIError",
    "RunAssertionError",
    "__version__",
]
