"""An SMTP listener that plays SES receiving's part, then calls the inbound function."""

from __future__ import annotations

from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from functions.inbound import handler as inbound_function
from local import ses
from local.lambda_context import LocalContext
from mailcore import directory
from mailcore.observability import logger
from mailcore.repository import Bucket, Table

MAX_MESSAGE_BYTES = 40 * 1024 * 1024
STORED = {"stored", "duplicate", "quarantined"}


class LenientSMTP(SMTP):
    """Real mail has lines far past RFC 5321's 1,000; accept them rather than refuse mail."""

    line_length_limit = MAX_MESSAGE_BYTES


class ReceivingHandler:
    def __init__(self, table: Table, bucket: Bucket, lock: Any, prefix: str = "inbound/") -> None:
        self.table = table
        self.bucket = bucket
        self.lock = lock
        self.prefix = prefix

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        with self.lock:
            account = directory.resolve(self.table, [address]).get(address)
        if account is None:
            logger.info("recipient refused", recipient=address)
            return "550 5.1.1 Recipient address rejected: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            return self._receive(envelope)

    def _receive(self, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message_id = ses.new_message_id()
        self.bucket.put(f"{self.prefix}{message_id}", raw)
        event = ses.receipt_event(
            message_id,
            raw,
            envelope.mail_from or "",
            list(envelope.rcpt_tos),
            "arn:aws:lambda:local:000000000000:function:inbound",
            self.bucket.name,
            self.prefix,
        )
        try:
            result = inbound_function.handler(event, LocalContext("inbound", 1024))
        except Exception:  # noqa: BLE001 - answered 451 so the sender retries; nothing is lost
            logger.exception("inbound function failed", ses_message_id=message_id)
            return "451 4.3.0 Temporary failure storing the message; try again later"
        outcomes = result["results"][message_id].values()
        if not all(outcome in STORED for outcome in outcomes):
            return "451 4.3.0 Some recipients could not be stored; try again later"
        return f"250 2.6.0 Ok: queued as {message_id}"


class LocalController(Controller):
    def factory(self) -> SMTP:
        return LenientSMTP(self.handler, data_size_limit=MAX_MESSAGE_BYTES, decode_data=False)


def start(table: Table, bucket: Bucket, host: str, port: int, lock: Any) -> Controller:
    """Start the listener on its own thread; returns the controller, for `.stop()`."""
    controller = LocalController(ReceivingHandler(table, bucket, lock), hostname=host, port=port)
    controller.start()
    return controller
