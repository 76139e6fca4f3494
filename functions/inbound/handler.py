"""Inbound function: invoked by the SES receipt rule's Lambda action, after its S3 action."""

from __future__ import annotations

from typing import Any

from mailcore import inbound, ses_event
from mailcore.observability import logger, metrics
from mailcore.repository import Bucket, Table
from mailcore.settings import get_settings


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = get_settings()
    table, bucket = Table(), Bucket()
    results = {}
    for delivery in ses_event.deliveries(event, settings.inbound_prefix):
        logger.append_keys(ses_message_id=delivery.ses_message_id)
        results[delivery.ses_message_id] = inbound.receive(delivery, table, bucket)
    return {"results": results}
