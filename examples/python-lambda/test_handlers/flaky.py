"""Raises on its first $FLAKY_FAILURES invocations, then runs the example's handler."""

from __future__ import annotations

import os
from typing import Any

import lambda_function

from ._count import invocation_number


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    number, failures = invocation_number(), int(os.environ.get("FLAKY_FAILURES", "1"))
    if number <= failures:
        raise RuntimeError(f"failing on purpose ({number} of {failures})")
    return lambda_function.lambda_handler(event, context)
