"""Janitor function: reads the table's stream in its region and keeps deletes deleted."""

from __future__ import annotations

from typing import Any

from mailcore import janitor
from mailcore.observability import MetricUnit, logger, metrics
from mailcore.repository import Table


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    removed = janitor.clean(event.get("Records", []), Table())
    if removed:
        metrics.add_metric(name="ResurrectedMessagesRemoved", unit=MetricUnit.Count, value=removed)
        logger.info("resurrected messages removed", count=removed)
    return {"removed": removed}
