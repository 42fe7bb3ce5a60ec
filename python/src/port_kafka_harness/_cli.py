"""The ``port-emulator`` and ``port-consumer`` console scripts: exec the bundled binaries."""

from __future__ import annotations

import os
import sys

from . import _binaries


def _exec(name: str) -> None:
    try:
        path = _binaries.find(name)
    except _binaries.BinaryNotFound as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(127) from None
    os.execv(path, [str(path), *sys.argv[1:]])


def emulator() -> None:
    """``port-emulator``: Port's API and an embedded Kafka (``port-emulator --help``)."""
    _exec("port-emulator")


def consumer() -> None:
    """``port-consumer``: the production consumer that runs handler scripts."""
    _exec("port-consumer")
