"""A minimal Ocean integration: DEMO_N items of kind "item" (item-0, item-1, ...) and an
executor for the INTEGRATION_ACTION "demo_action" that logs "echo: <message>" and succeeds.

Run by Tests/Ocean/test_ocean.py with Port Ocean's own `ocean sail` (Python 3.12 venv);
settings come from OCEAN__* environment variables.
"""

import os
from typing import Any

from loguru import logger
from port_ocean.context.ocean import ocean
from port_ocean.core.handlers.actions import AbstractExecutor
from port_ocean.core.models import IntegrationRun

N = int(os.environ.get("DEMO_N", "5"))
ITEMS = [{"id": f"item-{i}", "name": f"Item {i}", "n": i} for i in range(N)]


@ocean.on_resync("item")
async def resync_items(kind: str) -> list[dict[str, Any]]:
    return ITEMS


class DemoExecutor(AbstractExecutor):
    ACTION_NAME = "demo_action"  # == the run's payload.integrationActionType
    WEBHOOK_PROCESSOR_CLASS = None
    WEBHOOK_PATH = ""

    async def is_close_to_rate_limit(self, run: IntegrationRun) -> bool:
        return False

    async def get_remaining_seconds_until_rate_limit(self, run: IntegrationRun) -> float:
        return 0.0

    async def execute(self, run: IntegrationRun) -> None:
        # Ocean does not mark a run successful by itself: the executor reports it.
        message = run.execution_properties.get("message", "")
        logger.info(f"demo_action got {message!r}")
        await ocean.port_client.post_run_log(run, f"echo: {message}")
        await ocean.port_client.report_run_completed(run, success=True, message="done")


ocean.register_action_executor(DemoExecutor())
