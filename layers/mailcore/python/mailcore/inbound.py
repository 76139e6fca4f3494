"""Receiving: turn one message that SES stored in S3 into a message in each recipient's mailbox.

Every write is keyed by the account and the message's identity, so the same message
delivered twice, to two regions, or to two addresses of one account becomes one item.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from mailcore import bounces, directory, mime
from mailcore.observability import MetricUnit, logger, metrics
from mailcore.repository import Bucket, Table, account_pk, placement
from mailcore.settings import get_settings

MAX_LISTED_ADDRESSES = 50
MAX_SUBJECT_LENGTH = 998

Outcome = Literal["stored", "duplicate", "quarantined", "unknown_recipient"]


@dataclass
class Verdicts:
    spam: str = "GRAY"
    virus: str = "GRAY"
    spf: str = "GRAY"
    dkim: str = "GRAY"
    dmarc: str = "GRAY"


@dataclass
class Delivery:
    """What SES tells us about one received message."""

    ses_message_id: str
    received_at: str
    recipients: list[str]
    object_key: str
    verdicts: Verdicts = field(default_factory=Verdicts)
    source: str = ""


def receive(delivery: Delivery, table: Table, bucket: Bucket) -> dict[str, Outcome]:
    """Store the message for every recipient; returns what happened per recipient."""
    raw = bucket.get(delivery.object_key)
    accounts = directory.resolve(table, delivery.recipients)
    outcomes = store(delivery, raw, accounts, table, bucket)
    unknown = [r for r, outcome in outcomes.items() if outcome == "unknown_recipient"]
    bounces.answer_unknown(delivery.ses_message_id, delivery.source, vars(delivery.verdicts), raw, unknown)
    return outcomes


def store(
    delivery: Delivery, raw: bytes, accounts: dict[str, str | None], table: Table, bucket: Bucket
) -> dict[str, Outcome]:
    """Store an already fetched message for recipients already resolved to accounts."""
    parsed = _parse(raw, delivery)
    outcomes: dict[str, Outcome] = {}
    for recipient, account_id in accounts.items():
        if account_id is None:
            outcomes[recipient] = "unknown_recipient"
            logger.warning("recipient not hosted", recipient=recipient)
            continue
        outcomes[recipient] = _deliver(table, bucket, delivery, parsed, raw, account_id, recipient)
    for outcome in outcomes.values():
        metrics.add_metric(name=_METRIC_NAMES[outcome], unit=MetricUnit.Count, value=1)
    return outcomes


_METRIC_NAMES: dict[str, str] = {
    "stored": "MessagesStored",
    "duplicate": "MessagesDuplicate",
    "quarantined": "MessagesQuarantined",
    "unknown_recipient": "RecipientsUnknown",
}


def message_id_for(account_id: str, parsed: mime.ParsedMessage, raw: bytes) -> str:
    """The same message for the same account always gets the same id.

    The Message-ID alone is not enough: different messages share one (fixed ids from
    devices and scripts, reused ids in forwarded copies), and keying on it alone would
    answer 250 for the second and never list it.
    """
    content = f"sha:{_content_hash(raw)}"
    identity = f"mid:{parsed.message_id}\n{content}" if parsed.message_id else content
    return hashlib.sha256(f"{account_id}\n{identity}".encode()).hexdigest()[:32]


def _content_hash(raw: bytes) -> str:
    """Hash what a relay does not change: the body, and the headers after any it prepends."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(_TRACE_HEADERS)]
    return hashlib.sha256(b"\n".join(lines) + b"\n\n" + body).hexdigest()


# SES receiving prepends Received-SPF and Authentication-Results as well as its own X-SES-*.
_TRACE_HEADERS = (
    b"received:",
    b"return-path:",
    b"x-ses-",
    b"delivered-to:",
    b"received-spf:",
    b"authentication-results:",
    b"\t",
    b" ",
)


def _parse(raw: bytes, delivery: Delivery) -> mime.ParsedMessage:
    try:
        return mime.parse(raw)
    except Exception:  # noqa: BLE001 - the message is still stored, flagged, with its raw bytes
        logger.exception("message could not be parsed", ses_message_id=delivery.ses_message_id)
        return mime.ParsedMessage(unparsable=True)


def _deliver(
    table: Table,
    bucket: Bucket,
    delivery: Delivery,
    parsed: mime.ParsedMessage,
    raw: bytes,
    account_id: str,
    recipient: str,
) -> Outcome:
    message_id = message_id_for(account_id, parsed, raw)
    item = message_item(delivery, parsed, raw, account_id, message_id, recipient, bucket)
    if delivery.verdicts.virus == "FAIL":
        item["sk"] = f"QUAR#{message_id}"
        item["kind"] = "quarantined"
        table.put_new(item)
        logger.warning("message quarantined", message_id=message_id, account_id=account_id)
        return "quarantined"
    mailbox_id = "junk" if delivery.verdicts.spam == "FAIL" else "inbox"
    item.update(placement(account_id, message_id, mailbox_id, delivery.received_at, seen=False))
    if not table.put_new(item):
        logger.info("message already stored", message_id=message_id, account_id=account_id)
        return "duplicate"
    logger.info("message stored", message_id=message_id, mailbox_id=mailbox_id, size=len(raw))
    return "stored"


def message_item(
    delivery: Delivery,
    parsed: mime.ParsedMessage,
    raw: bytes,
    account_id: str,
    message_id: str,
    recipient: str,
    bucket: Bucket,
) -> dict[str, Any]:
    return {
        "pk": account_pk(account_id),
        "sk": f"MSG#{message_id}",
        "kind": "message",
        "account_id": account_id,
        "message_id": message_id,
        "seen": False,
        "flagged": False,
        "received_at": delivery.received_at,
        "updated_at": delivery.received_at,
        "recipient": recipient,
        "subject": parsed.subject[:MAX_SUBJECT_LENGTH],
        "from": _listed(parsed.from_),
        "to": _listed(parsed.to),
        "cc": _listed(parsed.cc),
        "date": parsed.date,
        "header_message_id": (parsed.message_id or "")[:998] or None,
        "references": [r[:998] for r in mime.thread_ends(parsed.references, mime.MAX_REFERENCES)],
        "size": len(raw),
        "snippet": parsed.snippet,
        "attachment_count": len(parsed.attachments),
        "unparsable": parsed.unparsable,
        "defects": parsed.defects,
        "verdicts": vars(delivery.verdicts),
        "raw_bucket": bucket.name,
        "raw_key": delivery.object_key,
        "raw_region": bucket.region or get_settings().region,
        "ses_message_id": delivery.ses_message_id,
    }


def _listed(found: list[mime.Address]) -> list[dict[str, str]]:
    return [
        {"name": a.name[: mime.MAX_NAME_LENGTH], "address": a.address[:320]}
        for a in found[:MAX_LISTED_ADDRESSES]
    ]
