"""SES feedback: delivery, bounce and complaint events update the Sent copy.

A permanent bounce or a complaint puts the address on the sending account's suppression
list, and a permanent bounce also leaves a readable report in the sender's Inbox.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from mailcore import notices
from mailcore import statuses as statuses_store
from mailcore.delivery import suppression_key
from mailcore.errors import NotFoundError
from mailcore.observability import MetricUnit, logger, metrics
from mailcore.repository import Bucket, Table, message_keys


class _Recipient(BaseModel):
    emailAddress: str
    diagnosticCode: str = ""
    status: str = ""


class _Bounce(BaseModel):
    bounceType: str = "Undetermined"
    bounceSubType: str = ""
    bouncedRecipients: list[_Recipient] = Field(default_factory=list)


class _Complaint(BaseModel):
    complainedRecipients: list[_Recipient] = Field(default_factory=list)
    complaintFeedbackType: str = ""


class _Delivery(BaseModel):
    recipients: list[str] = Field(default_factory=list)


class _Mail(BaseModel):
    messageId: str = ""
    source: str = ""
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesEvent(BaseModel):
    """An SES event-publishing record (configuration set destination), or a notification."""

    eventType: str = Field(default="", validation_alias="eventType")
    notificationType: str = ""
    mail: _Mail
    bounce: _Bounce | None = None
    complaint: _Complaint | None = None
    delivery: _Delivery | None = None

    @property
    def kind(self) -> str:
        return self.eventType or self.notificationType


def parse(body: str) -> SesEvent:
    """The SQS body: the SES event itself, or wrapped in an SNS envelope."""
    data = json.loads(body)
    if isinstance(data, dict) and data.get("Type") == "Notification" and "Message" in data:
        data = json.loads(data["Message"])
    return SesEvent.model_validate(data)


def apply(event: SesEvent, table: Table, bucket: Bucket) -> dict[str, str]:
    account_id = _tag(event, "account")
    message_id = _tag(event, "message")
    if not account_id or not message_id:
        logger.info("feedback for mail we did not tag", kind=event.kind)
        return {}
    statuses = _statuses(event)
    if not statuses:
        return {}
    statuses_store.save(table, account_id, message_id, statuses)
    for address, status in statuses.items():
        metrics.add_metric(name=f"Feedback{status['status'].title()}", unit=MetricUnit.Count, value=1)
        if status["status"] in {"bounced", "complained"}:
            _suppress(table, account_id, address, status)
    _report_bounces(event, table, bucket, account_id, statuses)
    return {a: s["status"] for a, s in statuses.items()}


def _statuses(event: SesEvent) -> dict[str, dict[str, str]]:
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    if event.kind == "Delivery" and event.delivery:
        return {r: {"status": "delivered", "at": at} for r in event.delivery.recipients}
    if event.kind == "Bounce" and event.bounce:
        # SES publishes a soft (Transient) bounce only once it has stopped retrying, so both
        # kinds are final; only a hard bounce puts the address on the suppression list.
        hard = event.bounce.bounceType == "Permanent"
        return {
            r.emailAddress: {
                "status": "bounced" if hard else "failed",
                "detail": (r.diagnosticCode or event.bounce.bounceSubType)[:500],
                "at": at,
            }
            for r in event.bounce.bouncedRecipients
        }
    if event.kind == "Complaint" and event.complaint:
        return {
            r.emailAddress: {
                "status": "complained",
                "detail": event.complaint.complaintFeedbackType,
                "at": at,
            }
            for r in event.complaint.complainedRecipients
        }
    return {}


def _suppress(table: Table, account_id: str, address: str, status: dict[str, str]) -> None:
    pk, sk = suppression_key(account_id, address)
    table.put(
        {
            "pk": pk,
            "sk": sk,
            "kind": "suppression",
            "address": address.lower(),
            "reason": status["status"],
            "detail": status.get("detail", ""),
            "created_at": status["at"],
        }
    )
    logger.info("address suppressed", reason=status["status"])


def _report_bounces(
    event: SesEvent, table: Table, bucket: Bucket, account_id: str, statuses: dict[str, dict[str, str]]
) -> None:
    bounced = {
        a: s.get("detail") or "bounced" for a, s in statuses.items() if s["status"] in {"bounced", "failed"}
    }
    if not bounced:
        return
    keys = message_keys(account_id, _tag(event, "message"))
    sent = table.get(keys["pk"], keys["sk"])
    if sent is None:
        return
    original = bucket.get(sent["raw_key"], bucket=sent.get("raw_bucket"))
    notices.report_failure(table, bucket, account_id, sent["recipient"], original, bounced)


def _tag(event: SesEvent, name: str) -> str:
    values = event.mail.tags.get(name) or [""]
    return values[0]


def list_suppressions(table: Table, account_id: str) -> list[dict[str, Any]]:
    items = table.query_prefix(message_keys(account_id, "x")["pk"], "SUPP#")
    return [
        {
            "address": i["address"],
            "reason": i["reason"],
            "detail": i.get("detail", ""),
            "since": i["created_at"],
        }
        for i in items
    ]


def remove_suppression(table: Table, account_id: str, address: str) -> None:
    pk, sk = suppression_key(account_id, address)
    if table.get(pk, sk) is None:
        raise NotFoundError(f"{address} is not suppressed")
    table.delete(pk, sk)
