"""Build an outgoing RFC 5322 message from what the send API accepted."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import Policy
from email.utils import format_datetime, getaddresses

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mailcore import mime
from mailcore.errors import InvalidRequestError
from mailcore.settings import get_settings

# SES v2 refuses more recipients than this in one call, and larger messages.
MAX_RECIPIENTS = 50
MAX_MESSAGE_BYTES = 40 * 1024 * 1024
# Inline attachments travel in the JSON body, which API Gateway and Lambda bound.
MAX_INLINE_ATTACHMENT_BYTES = 4 * 1024 * 1024

# CR and LF would start a new header field, and the email package refuses every other character
# that str.splitlines() breaks on (VT, FF, FS, GS, RS, NEL, U+2028, U+2029); NUL and the other C0
# and C1 controls have no place in a header either.
_LINE_BREAK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
# type/subtype, as RFC 2045 tokens are commonly written.
_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+", re.ASCII)
# A part of these types has a structure (a boundary, a message) that an attachment's bytes lack.
_CONTAINER_TYPES = ("multipart", "message")
# RFC 5322 msg-id, <id-left@id-right>, in printable ASCII; "=?" is left out, as the email package
# would decode it as an RFC 2047 encoded word. A msg-id cannot be folded, so it fits on one line.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/?^_`{|}~.-]|=(?!\?)"
_MSG_ID = re.compile(rf"<(?:{_ATEXT})+@(?:(?:{_ATEXT})+|\[[\x21-\x5a\x5e-\x7e]*\])>")
_MAX_MSG_ID_LENGTH = 998 - len("In-Reply-To: ")


def valid_address(value: str) -> str:
    """A deliverable-looking address (syntax only: no DNS here), normalised by email-validator."""
    if _LINE_BREAK.search(value):
        raise ValueError("an address cannot contain a line break or control character")
    try:
        checked = validate_email(
            value.strip(),
            check_deliverability=False,
            allow_smtputf8=True,
            test_environment=get_settings().allow_test_domains,
        )
    except EmailNotValidError as error:
        raise ValueError(f"{value!r} is not a valid address: {error}") from None
    return checked.normalized


def _no_line_breaks(value: str | None) -> str | None:
    if value is not None and _LINE_BREAK.search(value):
        raise ValueError("header fields cannot contain CR, LF or other control characters")
    return value


def attachment_type(value: str) -> str:
    """`type/subtype`, lower-cased; ValueError for anything else, or a multipart or message type."""
    if not _MEDIA_TYPE.fullmatch(value):
        raise ValueError(f"{value!r} is not a content type of the form type/subtype")
    media_type = value.lower()
    if media_type.partition("/")[0] in _CONTAINER_TYPES:
        raise ValueError(f"an attachment cannot be of type {media_type}; send it as application/octet-stream")
    return media_type


class InlineAttachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        default="application/octet-stream", pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=127
    )
    content_base64: str = Field(max_length=MAX_INLINE_ATTACHMENT_BYTES * 4 // 3 + 4)

    _filename_clean = field_validator("filename")(_no_line_breaks)
    _content_type_usable = field_validator("content_type")(attachment_type)

    def content(self) -> bytes:
        try:
            return base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidRequestError(f"attachment {self.filename!r} is not valid base64") from error


class Compose(BaseModel):
    """A message to send or save as a draft; addresses are checked, headers cannot be injected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from", max_length=320)
    to: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    cc: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    bcc: list[str] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    reply_to: list[str] = Field(default_factory=list, max_length=10)
    subject: str = Field(default="", max_length=998)
    text: str | None = Field(default=None, max_length=MAX_INLINE_ATTACHMENT_BYTES)
    html: str | None = Field(default=None, max_length=MAX_INLINE_ATTACHMENT_BYTES)
    in_reply_to: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9]+$")
    attachments: list[InlineAttachment] = Field(default_factory=list, max_length=100)
    upload_ids: list[str] = Field(default_factory=list, max_length=100)

    _subject_clean = field_validator("subject")(_no_line_breaks)

    @field_validator("from_")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        return valid_address(value) if value else None

    @field_validator("to", "cc", "bcc", "reply_to")
    @classmethod
    def _addresses(cls, values: list[str]) -> list[str]:
        return [valid_address(v) for v in values]

    @model_validator(mode="after")
    def _within_limits(self) -> Compose:
        if len(self.recipients()) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} recipients (to, cc and bcc together)")
        return self

    def recipients(self) -> list[str]:
        """Each address once, in the spelling it first appears in; addresses differing only by
        case are one mailbox here, as hosted addresses are."""
        first: dict[str, str] = {}
        for address in self.to + self.cc + self.bcc:
            first.setdefault(address.lower(), address)
        return list(first.values())


class Thread(BaseModel):
    """The headers a reply takes from the stored message it answers, as that message had them."""

    message_id: str | None = None
    references: list[str] = Field(default_factory=list)

    def in_reply_to(self) -> str | None:
        return self.message_id if self.message_id and well_formed_id(self.message_id) else None

    def chain(self) -> list[str]:
        """References for the reply: the well-formed ids only, the first and the latest kept."""
        ids = list(dict.fromkeys(i for i in [*self.references, self.message_id or ""] if well_formed_id(i)))
        return mime.thread_ends(ids, mime.MAX_REFERENCES)


def well_formed_id(value: str) -> bool:
    """Whether outside mail's Message-ID can be copied into ours: anything else is left out."""
    return len(value) <= _MAX_MSG_ID_LENGTH and _MSG_ID.fullmatch(value) is not None


class _MessageIdsHeader(UnstructuredHeader, BaseHeader):
    """In-Reply-To and References, folded between ids only.

    The email package folds a long unstructured word by turning it into RFC 2047 encoded words,
    which would change a long msg-id (as Outlook's are) into another.
    """

    def fold(self, *, policy: Policy) -> str:
        first, *rest = str(self).split() or [""]
        lines = [f"{self.name}: {first}"]
        for msg_id in rest:
            if len(lines[-1]) + 1 + len(msg_id) > (policy.max_line_length or 998):
                lines.append("")
            lines[-1] += f" {msg_id}"
        return policy.linesep.join(lines) + policy.linesep


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("in-reply-to", _MessageIdsHeader)
_HEADERS.map_to_type("references", _MessageIdsHeader)
_POLICY = policy.SMTP.clone(header_factory=_HEADERS)


def build(
    compose: Compose,
    sender: str,
    message_id_header: str,
    thread: Thread | None,
    uploads: list[tuple[str, str, bytes]],
) -> bytes:
    """The raw message, Bcc left out; `uploads` are (filename, content type, bytes)."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = _header_address(sender)
    if compose.to:
        message["To"] = [_header_address(a) for a in compose.to]
    if compose.cc:
        message["Cc"] = [_header_address(a) for a in compose.cc]
    if compose.reply_to:
        message["Reply-To"] = [_header_address(a) for a in compose.reply_to]
    message["Subject"] = compose.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id_header
    if thread:
        _set_thread(message, thread)
    message["MIME-Version"] = "1.0"
    _set_body(message, compose)
    for filename, content_type, data in uploads + _inline(compose):
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    raw = message.as_bytes()
    if len(raw) > MAX_MESSAGE_BYTES:
        raise MessageTooLarge(f"the message is {len(raw)} bytes; the limit is {MAX_MESSAGE_BYTES}")
    return raw


class MessageTooLarge(InvalidRequestError):
    status = 413


def _set_thread(message: EmailMessage, thread: Thread) -> None:
    parent, chain = thread.in_reply_to(), thread.chain()
    if parent:
        message["In-Reply-To"] = parent
    if chain:
        message["References"] = " ".join(chain)


def _set_body(message: EmailMessage, compose: Compose) -> None:
    text = compose.text if compose.text is not None else ""
    message.set_content(text)
    if compose.html is not None:
        message.add_alternative(compose.html, subtype="html")


def _inline(compose: Compose) -> list[tuple[str, str, bytes]]:
    return [(a.filename, a.content_type, a.content()) for a in compose.attachments]


def _header_address(address: str) -> HeaderAddress:
    ((name, addr),) = getaddresses([address]) or [("", address)]
    local, _, domain = addr.rpartition("@")
    return HeaderAddress(display_name=name, username=local, domain=domain)
