"""In its first invocation, creates $BLOCKED_FILE and waits until $RELEASE_FILE exists
before running the example's handler; later invocations run it at once."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import lambda_function

from ._count import invocation_number


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if invocation_number() == 1:
        Path(os.environ["BLOCKED_FILE"]).touch()
        release = Path(os.environ["RELEASE_FILE"])
        deadline = time.monotonic() + 60
        while not release.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{release} did not appear within 60 s")
            time.sleep(0.02)
    return lambda_function.lambda_handler(event, context)
