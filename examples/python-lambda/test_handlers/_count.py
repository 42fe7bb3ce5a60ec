"""The number of this invocation, counted in the file $TEST_HANDLER_COUNT_FILE (the count
survives a restarted execution environment, as a module global would not)."""

from __future__ import annotations

import os
from pathlib import Path


def invocation_number() -> int:
    counter = Path(os.environ["TEST_HANDLER_COUNT_FILE"])
    number = int(counter.read_text() or "0") + 1 if counter.exists() else 1
    counter.write_text(str(number))
    return number
