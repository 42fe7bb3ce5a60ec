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
    try:
        os.execv(path, [_binaries.argv0(name, path), *sys.argv[1:]])
    except OSError as error:  # a noexec mount, a binary for another machine
        print(f"error: cannot run {path}: {error.strerror}", file=sys.stderr)
        raise SystemExit(126) from None


def emulator() -> None:
    """``port-emulator``: Port's API and an embedded Kafka (``port-emulator --help``)."""
    _exec("port-emulator")


def consumer() -> None:
    """``port-consumer``: the production consumer that runs handler scripts."""
    _exec("port-consumer")
