"""Readable delivery reports, put in the sender's Inbox when mail could not be delivered.

They are stored, never sent: a report about a report, or about an auto-reply, can loop
between two systems, so nothing here ever reaches the queue.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from mailcore import inbound
from mailcore.inbound import Delivery, Verdicts
from mailcore.repository import Bucket, Table


def report_failure(
    table: Table,
    bucket: Bucket,
    account_id: str,
    sender: str,
    original: bytes,
    failures: dict[str, str],
) -> None:
    """Store one report for the recipients in `failures` (address -> reason)."""
    report_id = hashlib.sha256(
        b"\n".join([original[:4096], *(f"{a}:{r}".encode() for a, r in sorted(failures.items()))])
    ).hexdigest()[:32]
    raw = _report(sender, original, failures, report_id)
    key = f"notices/{account_id}/{report_id}"
    bucket.put(key, raw)
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    delivery = Delivery(report_id, now, [sender], key, Verdicts("PASS", "PASS", "PASS", "PASS", "PASS"))
    inbound.store(delivery, raw, {sender: account_id}, table, bucket)


def _report(sender: str, original: bytes, failures: dict[str, str], report_id: str) -> bytes:
    domain = sender.rpartition("@")[2] or "localhost"
    lines = [f"  {address}: {reason}" for address, reason in sorted(failures.items())]
    message = EmailMessage()
    message["From"] = f"Mail Delivery System <mailer-daemon@{domain}>"
    message["To"] = sender
    message["Subject"] = "Undelivered Mail Returned to Sender"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{report_id}.report@{domain}>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content(
        "Your message could not be delivered to these recipients:\n\n"
        + "\n".join(lines)
        + "\n\nThe headers of your message are attached.\n"
    )
    head = original.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    message.add_attachment(head, maintype="text", subtype="rfc822-headers", filename="headers.txt")
    return message.as_bytes()
