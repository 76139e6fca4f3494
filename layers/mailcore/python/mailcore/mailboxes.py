"""What an account holder can do with mailboxes and messages; every call names the account."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

from mailcore import mime, statuses
from mailcore.errors import ConflictError, InvalidRequestError, NotFoundError
from mailcore.models import (
    AddressOut,
    AttachmentOut,
    Deleted,
    Mailbox,
    MessageChange,
    MessageDetail,
    MessagePage,
    MessageSummary,
    Verdicts,
)
from mailcore.observability import logger
from mailcore.repository import (
    SYSTEM_MAILBOXES,
    Bucket,
    Table,
    account_pk,
    mailbox_index_pk,
    message_keys,
    placement,
    unread_index_pk,
)

TRASH = "trash"
DRAFTS = "drafts"
SENT = "sent"


class MailService:
    def __init__(self, table: Table, bucket: Bucket) -> None:
        self.table = table
        self.bucket = bucket

    # Mailboxes

    def list_mailboxes(self, account_id: str) -> list[Mailbox]:
        items = self.table.query_prefix(account_pk(account_id), "MBX#")
        return [self._with_counts(account_id, item) for item in items]

    def create_mailbox(self, account_id: str, name: str) -> Mailbox:
        self._refuse_taken_name(account_id, name)
        mailbox_id = f"m{uuid.uuid4().hex[:16]}"
        item = {
            "pk": account_pk(account_id),
            "sk": f"MBX#{mailbox_id}",
            "kind": "mailbox",
            "mailbox_id": mailbox_id,
            "name": name,
            "created_at": _now(),
        }
        self.table.put_new(item)
        return Mailbox(id=mailbox_id, name=name, role=None, total=0, unread=0)

    def rename_mailbox(self, account_id: str, mailbox_id: str, name: str) -> Mailbox:
        mailbox = self._mailbox(account_id, mailbox_id)
        if mailbox.get("role"):
            raise ConflictError(f"{mailbox['name']} is a system mailbox and keeps its name")
        self._refuse_taken_name(account_id, name, except_id=mailbox_id)
        item = self.table.update(account_pk(account_id), f"MBX#{mailbox_id}", {"name": name})
        return self._with_counts(account_id, item)

    def delete_mailbox(self, account_id: str, mailbox_id: str) -> Deleted:
        mailbox = self._mailbox(account_id, mailbox_id)
        if mailbox.get("role"):
            raise ConflictError(f"{mailbox['name']} is a system mailbox and cannot be deleted")
        if self.table.count("gsi1", mailbox_index_pk(account_id, mailbox_id)):
            raise ConflictError("the mailbox still holds messages; move or delete them first")
        self.table.delete(account_pk(account_id), f"MBX#{mailbox_id}")
        return Deleted(id=mailbox_id, deleted=True)

    # Messages

    def list_messages(self, account_id: str, mailbox_id: str, limit: int, cursor: str | None) -> MessagePage:
        self._mailbox(account_id, mailbox_id)
        page = self.table.query_index_page(mailbox_index_pk(account_id, mailbox_id), limit, cursor)
        items = self._with_statuses(page.items)
        return MessagePage(messages=[_summary(i) for i in items], next_cursor=page.cursor)

    def get_message(self, account_id: str, message_id: str) -> MessageDetail:
        item = self._with_statuses([self._message(account_id, message_id)])[0]
        parsed = mime.parse(self._raw_of(item))
        return MessageDetail(
            **_summary(item).model_dump(),
            cc=_addresses(parsed.cc),
            reply_to=_addresses(parsed.reply_to),
            message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            text=parsed.text,
            html=parsed.html,
            attachments=[AttachmentOut(**vars(a)) for a in parsed.attachments],
            verdicts=Verdicts(**item["verdicts"]),
            recipient=item.get("recipient", ""),
            delivery=item.get("delivery"),
        ).model_copy(update={"subject": parsed.subject or item["subject"]})

    def raw_message(self, account_id: str, message_id: str) -> bytes:
        return self._raw_of(self._message(account_id, message_id))

    def attachment(self, account_id: str, message_id: str, index: int) -> tuple[AttachmentOut, bytes]:
        raw = self._raw_of(self._message(account_id, message_id))
        found = mime.attachment_bytes(raw, index)
        if found is None:
            raise NotFoundError(f"message {message_id} has no attachment {index}")
        described, content = found
        return AttachmentOut(**vars(described)), content

    def change_message(self, account_id: str, message_id: str, change: MessageChange) -> MessageSummary:
        item = self._message(account_id, message_id)
        mailbox_id = change.mailbox_id or item["mailbox_id"]
        if change.mailbox_id:
            self._mailbox(account_id, mailbox_id)
            _refuse_misfiling(item, mailbox_id)
        seen = item["seen"] if change.seen is None else change.seen
        flagged = item["flagged"] if change.flagged is None else change.flagged
        values = placement(account_id, message_id, mailbox_id, item["received_at"], seen)
        values.update(seen=seen, flagged=flagged, updated_at=_now())
        remove = [] if "gsi2pk" in values else ["gsi2pk", "gsi2sk"]
        keys = message_keys(account_id, message_id)
        updated = self.table.update(keys["pk"], keys["sk"], values, remove)
        return _summary(updated)

    def delete_message(self, account_id: str, message_id: str, permanent: bool) -> Deleted:
        """The first delete moves a message to Trash; deleting it there removes it for good."""
        item = self._message(account_id, message_id)
        if not permanent and item["mailbox_id"] != TRASH:
            self.change_message(account_id, message_id, MessageChange(mailbox_id=TRASH))
            return Deleted(id=message_id, deleted=False, mailbox_id=TRASH)
        self.table.delete_for_good(account_pk(account_id), message_id)
        if item.get("delivery"):
            self.table.delete_many(statuses.keys(account_id, message_id, list(item["delivery"])))
        return Deleted(id=message_id, deleted=True)

    # Helpers

    def _with_statuses(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Sent copies with their recipients' current statuses, read in one batch."""
        sent = [i for i in items if i.get("delivery")]
        if not sent:
            return items
        wanted = [
            k for i in sent for k in statuses.keys(i["account_id"], i["message_id"], list(i["delivery"]))
        ]
        found = self.table.get_many(wanted)
        return [
            {**i, "delivery": statuses.merged(i["delivery"], found, i["account_id"], i["message_id"])}
            if i.get("delivery")
            else i
            for i in items
        ]

    def _mailbox(self, account_id: str, mailbox_id: str) -> dict[str, Any]:
        item = self.table.get(account_pk(account_id), f"MBX#{mailbox_id}")
        if item is None:
            raise NotFoundError(f"no mailbox {mailbox_id}")
        return item

    def _message(self, account_id: str, message_id: str) -> dict[str, Any]:
        if not message_id.isalnum() or len(message_id) > 64:
            raise NotFoundError(f"no message {message_id}")
        keys = message_keys(account_id, message_id)
        item = self.table.get(keys["pk"], keys["sk"])
        if item is None:
            raise NotFoundError(f"no message {message_id}")
        return item

    def _raw_of(self, item: dict[str, Any]) -> bytes:
        """The body from this region's bucket; where it has not replicated yet, from its origin."""
        origin = Bucket(item.get("raw_bucket") or self.bucket.name, item.get("raw_region") or None)
        if origin.name == self.bucket.name:
            return self.bucket.get(item["raw_key"])
        try:
            return self.bucket.get(item["raw_key"])
        except NotFoundError:
            logger.info("body not replicated yet; reading it from its origin", region=origin.region)
            return origin.get(item["raw_key"])

    def _with_counts(self, account_id: str, item: dict[str, Any]) -> Mailbox:
        mailbox_id = item["mailbox_id"]
        return Mailbox(
            id=mailbox_id,
            name=item["name"],
            role=item.get("role"),
            total=self.table.count("gsi1", mailbox_index_pk(account_id, mailbox_id)),
            unread=self.table.count("gsi2", unread_index_pk(account_id, mailbox_id)),
        )

    def _refuse_taken_name(self, account_id: str, name: str, except_id: str = "") -> None:
        wanted = _folded(name)
        if not wanted:
            raise InvalidRequestError("a mailbox name cannot be blank")
        if wanted in (_folded(n) for n in SYSTEM_MAILBOXES.values()):
            raise ConflictError(f"{name} is the name of a system mailbox")
        for item in self.table.query_prefix(account_pk(account_id), "MBX#"):
            if item["mailbox_id"] != except_id and _folded(item["name"]) == wanted:
                raise ConflictError(f"a mailbox named {item['name']} exists")


def _folded(name: str) -> str:
    """The form two mailbox names are compared in: compatibility-normalized, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def _refuse_misfiling(item: dict[str, Any], mailbox_id: str) -> None:
    """Drafts holds drafts and Sent holds sent copies; a draft lives in Drafts or Trash."""
    is_draft = "draft" in item
    if mailbox_id == DRAFTS and not is_draft:
        raise ConflictError("Drafts holds only drafts; save one with POST /drafts")
    if is_draft and mailbox_id not in (DRAFTS, TRASH):
        raise ConflictError("a draft stays in Drafts until it is sent; it can only go to Trash")
    if mailbox_id == SENT and not item.get("delivery"):
        raise ConflictError("Sent holds only messages sent from this account")


def _summary(item: dict[str, Any]) -> MessageSummary:
    return MessageSummary(
        id=item["message_id"],
        mailbox_id=item["mailbox_id"],
        subject=item.get("subject", ""),
        from_=[AddressOut(**a) for a in item.get("from", [])],
        to=[AddressOut(**a) for a in item.get("to", [])],
        date=item.get("date"),
        received_at=item["received_at"],
        size=item.get("size", 0),
        snippet=item.get("snippet", ""),
        seen=item.get("seen", False),
        flagged=item.get("flagged", False),
        attachment_count=item.get("attachment_count", 0),
        unparsable=item.get("unparsable", False),
        send_status=send_status(item.get("delivery")),
    )


def send_status(delivery: dict[str, dict[str, str]] | None) -> str | None:
    """One word for a sent message, derived from its recipients' statuses."""
    if not delivery:
        return None
    states = {entry.get("status", "queued") for entry in delivery.values()}
    if "queued" in states:
        return "queued"
    if "deferred" in states:
        return "deferred"
    failed = states & {"failed", "suppressed", "bounced", "complained"}
    if not failed:
        return "sent"
    return "failed" if states <= {"failed", "suppressed", "bounced", "complained"} else "partial"


def _addresses(found: list[mime.Address]) -> list[AddressOut]:
    return [AddressOut(name=a.name, address=a.address) for a in found]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
