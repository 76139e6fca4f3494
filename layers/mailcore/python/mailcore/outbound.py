"""Sending: compose or accept a raw message, keep it in Sent as `queued`, and enqueue it.

The delivery function (mailcore.delivery) takes it from the queue. The Sent copy carries
one status per recipient, which delivery and SES feedback move forward.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any
from urllib.parse import quote, unquote

from pydantic import ValidationError

from mailcore import aws, compose, directory, mime
from mailcore.errors import InvalidRequestError, MailError, NotFoundError, StorageError
from mailcore.inbound import Delivery, Verdicts, message_item
from mailcore.mailboxes import send_status
from mailcore.observability import MetricUnit, logger, metrics
from mailcore.repository import Bucket, Table, account_pk, message_keys, placement
from mailcore.settings import get_settings

SENT = "sent"
DRAFTS = "drafts"


class ForbiddenSenderError(MailError):
    status = 403


class InvalidContentTypeError(InvalidRequestError):
    status = 422


class UnsendableDraftError(InvalidRequestError):
    """A draft saved before its fields were checked as they are now."""

    status = 422


@dataclass
class Job:
    """What the queue carries to the delivery function for one message."""

    account_id: str
    message_id: str
    sender: str
    recipients: list[str]
    raw_bucket: str
    raw_key: str

    def to_json(self) -> str:
        return json.dumps(vars(self))


class Outbound:
    def __init__(self, table: Table, bucket: Bucket, queue_url: str | None = None) -> None:
        self.table = table
        self.bucket = bucket
        self.queue_url = queue_url or get_settings().delivery_queue_url

    def send(self, account_id: str, request: compose.Compose, key: str | None = None) -> dict[str, Any]:
        """Build, store in Sent and enqueue; `key` (an Idempotency-Key) fixes the message id."""
        return self._send(account_id, request, _message_id(account_id, "send", key))

    def _send(self, account_id: str, request: compose.Compose, message_id: str) -> dict[str, Any]:
        if not request.recipients():
            raise InvalidRequestError("give at least one recipient in to, cc or bcc")
        sender = self._sender(account_id, request.from_)
        raw = compose.build(
            request,
            sender,
            _message_id_header(message_id, sender),
            self._thread(account_id, request.in_reply_to),
            self._uploads(account_id, request.upload_ids),
        )
        return self._queue(account_id, message_id, sender, request.recipients(), raw)

    def send_raw(self, account_id: str, raw: bytes, key: str | None = None) -> dict[str, Any]:
        """Send a message the client built; From and Sender must be the account's, Bcc is taken out."""
        if len(raw) > compose.MAX_MESSAGE_BYTES:
            raise compose.MessageTooLarge(f"the message is {len(raw)} bytes")
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        senders = getaddresses(headers.get_all("from", []))
        if len(senders) != 1:
            raise InvalidRequestError("a raw message needs exactly one From address")
        sender = self._sender(account_id, senders[0][1])
        self._raw_sender_field(account_id, headers)
        recipients = _raw_recipients(headers)
        message_id = _message_id(account_id, "raw", key)
        return self._queue(account_id, message_id, sender, recipients, _without_bcc(raw))

    def save_draft(self, account_id: str, request: compose.Compose, draft_id: str | None = None) -> dict:
        sender = self._sender(account_id, request.from_)
        draft_id = draft_id or uuid.uuid4().hex
        raw = compose.build(
            request, sender, _message_id_header(draft_id, sender), None, self._uploads(account_id, [])
        )
        key = f"drafts/{account_id}/{draft_id}"
        self.bucket.put(key, raw)
        item = self._item(account_id, draft_id, key, raw, DRAFTS, sender)
        item.update(seen=True, draft=request.model_dump(by_alias=True), **_placed(item, DRAFTS, True))
        self.table.put(item)
        return {"id": draft_id, "mailbox_id": DRAFTS}

    def draft(self, account_id: str, draft_id: str) -> compose.Compose:
        try:
            return compose.Compose.model_validate(self.draft_item(account_id, draft_id)["draft"])
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise UnsendableDraftError(
                f"draft {draft_id} cannot be sent as saved; save it again: {problems}"
            ) from None

    def draft_item(self, account_id: str, draft_id: str) -> dict[str, Any]:
        """The stored draft, checked to be one; its fields are read back by `draft`."""
        item = self.table.get(**_keys(account_id, draft_id)) if _is_id(draft_id) else None
        if item is None or item.get("mailbox_id") != DRAFTS or "draft" not in item:
            raise NotFoundError(f"no draft {draft_id}")
        return item

    def send_draft(self, account_id: str, draft_id: str) -> dict[str, Any]:
        """Send once however often asked: the message id comes from the draft's."""
        draft = self.draft(account_id, draft_id)
        result = self._send(account_id, draft, _message_id(account_id, "draft", draft_id))
        self.table.delete(**_keys(account_id, draft_id))
        return result

    def delete_draft(self, account_id: str, draft_id: str) -> None:
        self.draft_item(account_id, draft_id)
        self.table.delete(**_keys(account_id, draft_id))

    def upload(self, account_id: str, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
        try:
            content_type = compose.attachment_type(content_type)
        except ValueError as error:
            raise InvalidContentTypeError(str(error)) from None
        upload_id = uuid.uuid4().hex
        name = mime.safe_filename(filename, 0, content_type)
        self.bucket.put(
            f"uploads/{account_id}/{upload_id}",
            data,
            metadata={"filename": quote(name), "content-type": content_type},
        )
        return {"id": upload_id, "filename": name, "content_type": content_type, "size": len(data)}

    def _queue(
        self, account_id: str, message_id: str, sender: str, recipients: list[str], raw: bytes
    ) -> dict[str, Any]:
        if not recipients:
            raise InvalidRequestError("the message names no recipient")
        if len(recipients) > compose.MAX_RECIPIENTS:
            raise InvalidRequestError(f"at most {compose.MAX_RECIPIENTS} recipients in one message")
        existing = self.table.get(**_keys(account_id, message_id))
        if existing is not None:
            return _receipt(existing)
        key = f"outbound/{account_id}/{message_id}"
        self.bucket.put(key, raw)
        item = self._item(account_id, message_id, key, raw, SENT, sender)
        item.update(
            seen=True,
            delivery={r: {"status": "queued"} for r in recipients},
            **_placed(item, SENT, True),
        )
        if self.table.put_new(item):
            self._enqueue(Job(account_id, message_id, sender, recipients, self.bucket.name, key), item)
            metrics.add_metric(name="MessagesQueued", unit=MetricUnit.Count, value=1)
            logger.info("message queued", message_id=message_id, recipients=len(recipients))
        return _receipt(item)

    def _enqueue(self, job: Job, item: dict[str, Any]) -> None:
        """Queue the job; when that fails, take the Sent copy back, so that a retry queues it afresh.

        NOTE: a function stopped between the two writes (its timeout) leaves a Sent copy that no
        job will deliver, and a retry with the same Idempotency-Key finds it and queues nothing.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            aws.client("sqs", self.table.region).send_message(
                QueueUrl=self.queue_url, MessageBody=job.to_json()
            )
        except (BotoCoreError, ClientError) as error:
            self.table.delete(item["pk"], item["sk"])
            raise StorageError("the message could not be queued and was not sent; try again") from error

    def _item(
        self, account_id: str, message_id: str, key: str, raw: bytes, mailbox: str, sender: str
    ) -> dict[str, Any]:
        now = _now()
        delivery = Delivery(message_id, now, [sender], key, Verdicts("PASS", "PASS", "PASS", "PASS", "PASS"))
        item = message_item(delivery, mime.parse(raw), raw, account_id, message_id, sender, self.bucket)
        item["mailbox_id"] = mailbox
        return item

    def _sender(self, account_id: str, wanted: str | None) -> str:
        """The account's own address, or one of its aliases; anything else is refused."""
        if not wanted:
            account = self.table.get(account_pk(account_id), "ACCOUNT")
            if account is None:
                raise ForbiddenSenderError("the account has no address to send from")
            return account["address"]
        owner = self.table.get(*directory.address_key(wanted))
        if owner is None or owner.get("account_id") != account_id:
            raise ForbiddenSenderError(f"this account cannot send as {wanted}")
        return wanted

    def _raw_sender_field(self, account_id: str, headers: Any) -> None:
        """A Sender field, where there is one, names one of the account's addresses too."""
        fields = headers.get_all("sender", [])
        if not fields:
            return
        senders = [address for _, address in getaddresses(fields) if address]
        if len(senders) != 1:
            raise InvalidRequestError("a raw message's Sender field names exactly one address")
        self._sender(account_id, senders[0])

    def _thread(self, account_id: str, in_reply_to: str | None) -> compose.Thread | None:
        if not in_reply_to:
            return None
        item = self.table.get(**_keys(account_id, in_reply_to))
        if item is None:
            raise NotFoundError(f"no message {in_reply_to} to reply to")
        return compose.Thread(message_id=item.get("header_message_id"), references=item.get("references", []))

    def _uploads(self, account_id: str, upload_ids: list[str]) -> list[tuple[str, str, bytes]]:
        found = []
        for upload_id in upload_ids:
            if not _is_id(upload_id):
                raise NotFoundError(f"no upload {upload_id}")
            try:
                data, meta = self.bucket.get_with_metadata(f"uploads/{account_id}/{upload_id}")
            except NotFoundError:
                raise NotFoundError(f"no upload {upload_id}") from None
            found.append((unquote(meta.get("filename", "attachment")), _stored_type(meta), data))
        return found


def _stored_type(meta: dict[str, str]) -> str:
    """The upload's type; one stored before types were checked goes out as plain bytes."""
    try:
        return compose.attachment_type(meta.get("content-type", ""))
    except ValueError:
        return "application/octet-stream"


def _message_id(account_id: str, scope: str, key: str | None) -> str:
    """A new id, or one fixed by the account, the kind of send (send, raw, draft) and its key."""
    if key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(f"{account_id}\n{scope}:{key}".encode()).hexdigest()[:32]


def _message_id_header(message_id: str, sender: str) -> str:
    return f"<{message_id}@{sender.rpartition('@')[2]}>"


def _raw_recipients(headers: Any) -> list[str]:
    fields = headers.get_all("to", []) + headers.get_all("cc", []) + headers.get_all("bcc", [])
    found = []
    for _, address in getaddresses(fields):
        try:
            found.append(compose.valid_address(address))
        except ValueError as error:
            raise InvalidRequestError(str(error)) from None
    return list(dict.fromkeys(found))


def _without_bcc(raw: bytes) -> bytes:
    """Drop Bcc fields (and their folded lines) from the header block, touching nothing else."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = raw.partition(b"\n\n")
    kept, skipping = [], False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(b"bcc:")
        if not skipping:
            kept.append(line)
    return b"".join(kept) + separator + body


def _placed(item: dict[str, Any], mailbox: str, seen: bool) -> dict[str, Any]:
    return placement(item["account_id"], item["message_id"], mailbox, item["received_at"], seen)


def _keys(account_id: str, message_id: str) -> dict[str, str]:
    return message_keys(account_id, message_id)


def _is_id(value: str) -> bool:
    return value.isalnum() and len(value) <= 64


def _receipt(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["message_id"],
        "mailbox_id": item["mailbox_id"],
        "status": send_status(item.get("delivery")),
        "recipients": {r: s["status"] for r, s in item.get("delivery", {}).items()},
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
