"""Sleeps $SLOW_SECONDS in its first invocation (past the function's timeout: Lambda ends it
and discards the environment), then runs the example's handler."""

from __future__ import annotations

import os
import time
from typing import Any

import lambda_function

from ._count import invocation_number


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if invocation_number() == 1:
        print(f"sleeping {os.environ['SLOW_SECONDS']} s with {context.get_remaining_time_in_millis()} ms left")
        time.sleep(float(os.environ["SLOW_SECONDS"]))
    return lambda_function.lambda_handler(event, context)
