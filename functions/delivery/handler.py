"""Delivery function: the delivery queue's consumer, reporting partial batch failures."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from mailcore import aws, delivery
from mailcore.observability import logger, metrics
from mailcore.outbound import Job
from mailcore.repository import Bucket, Table
from mailcore.settings import get_settings

# A batch SES throttled as a whole is an expected outcome, not a function error: every record
# is reported as a batch item failure, and each has already been given its own retry delay.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def deliver_record(record: SQSRecord) -> dict[str, str]:
    job = Job(**json.loads(record.body))
    logger.append_keys(message_id=job.message_id)
    tries = int(record.attributes.approximate_receive_count or 1)
    last_try = tries >= get_settings().delivery_attempts
    try:
        return delivery.deliver(job, Table(), Bucket(), delivery.get_sender(), last_try)
    except delivery.TransientDeliveryError:
        _back_off(record, tries)
        raise


def _back_off(record: SQSRecord, tries: int) -> None:
    """Hide the job longer after each try; after the last, not at all, so it reaches the
    dead-letter queue (and a re-drive) at once, as its recipients' `deferred` status says."""
    settings = get_settings()
    delays = settings.retry_delays
    delay = 0 if tries >= settings.delivery_attempts else delays[min(tries, len(delays)) - 1]
    aws.client("sqs").change_message_visibility(
        QueueUrl=get_settings().delivery_queue_url,
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=delay,
    )
    logger.warning("delivery deferred", tries=tries, retry_in_seconds=delay)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=deliver_record, processor=processor, context=context
    )
