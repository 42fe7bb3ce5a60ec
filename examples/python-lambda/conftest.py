"""Settings shared by the example's tests (test_lambda.py).

With the port-kafka-harness wheel installed, its emulator and fixtures are used. In the
source tree without it, the debug build and the repository's fixtures are, unless
PORT_EMULATOR_BIN and PORT_EMULATOR_FIXTURES say otherwise (the Makefile sets both).
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

#: The function's directory: the emulator runs its runtime client here (LAMBDA_TASK_ROOT).
HERE = Path(__file__).resolve().parent


def _in_source_tree() -> bool:
    try:
        importlib.metadata.distribution("port-kafka-harness")
        return False
    except importlib.metadata.PackageNotFoundError:
        return True


if _in_source_tree():
    for variable, path in (
        ("PORT_EMULATOR_BIN", HERE.parents[1] / ".build" / "debug" / "port-emulator"),
        ("PORT_EMULATOR_FIXTURES", HERE.parents[1] / "fixtures"),
    ):
        if not os.environ.get(variable) and path.exists():
            os.environ[variable] = str(path)
