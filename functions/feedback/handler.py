"""Feedback function: SES bounce, complaint and delivery events, from SNS through SQS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from mailcore import feedback
from mailcore.observability import logger, metrics
from mailcore.repository import Bucket, Table

processor = BatchProcessor(event_type=EventType.SQS)


def apply_record(record: SQSRecord) -> dict[str, str]:
    return feedback.apply(feedback.parse(record.body), Table(), Bucket())


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=apply_record, processor=processor, context=context
    )
