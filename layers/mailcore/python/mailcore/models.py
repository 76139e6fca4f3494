"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from mailcore import mime


def _readable_name(name: str) -> str:
    """A mailbox name in NFC, so look-alike spellings are one name, with nothing hidden in it."""
    name = unicodedata.normalize("NFC", name).strip()
    for char in name:
        if mime.hidden(char):
            raise ValueError(f"a mailbox name cannot contain U+{ord(char):04X}")
    return name


MAILBOX_NAME = Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f/]+$")
MailboxName = Annotated[str, MAILBOX_NAME, AfterValidator(_readable_name)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Mailbox(BaseModel):
    id: str
    name: str
    role: str | None = None
    total: int
    unread: int


class MailboxList(BaseModel):
    mailboxes: list[Mailbox]


class NewMailbox(Strict):
    name: MailboxName


class MailboxRename(Strict):
    name: MailboxName


class AddressOut(BaseModel):
    name: str
    address: str


class Verdicts(BaseModel):
    spam: str
    virus: str
    spf: str
    dkim: str
    dmarc: str


class MessageSummary(BaseModel):
    id: str
    mailbox_id: str
    subject: str
    from_: list[AddressOut] = Field(serialization_alias="from")
    to: list[AddressOut]
    date: str | None
    received_at: str
    size: int
    snippet: str
    seen: bool
    flagged: bool
    attachment_count: int
    unparsable: bool
    send_status: str | None = None


class MessagePage(BaseModel):
    messages: list[MessageSummary]
    next_cursor: str | None


class AttachmentOut(BaseModel):
    index: int
    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str | None


class MessageDetail(MessageSummary):
    cc: list[AddressOut]
    reply_to: list[AddressOut]
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    text: str
    html: str
    attachments: list[AttachmentOut]
    verdicts: Verdicts
    recipient: str
    delivery: dict[str, dict[str, str]] | None = None


class MessageChange(Strict):
    seen: StrictBool | None = None
    flagged: StrictBool | None = None
    mailbox_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _something_to_change(self) -> MessageChange:
        if self.seen is None and self.flagged is None and self.mailbox_id is None:
            raise ValueError("give at least one of seen, flagged, mailbox_id")
        return self


class Deleted(BaseModel):
    id: str
    deleted: bool
    mailbox_id: str | None = None
