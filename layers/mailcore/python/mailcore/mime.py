"""Turn raw RFC 5322 bytes into what the service stores and shows.

Real mail breaks every rule, so each step here degrades instead of failing: a header that
cannot be decoded is shown as best we can, a part with an unknown charset is decoded as
UTF-8 with replacement characters, and a message with no header at all is still returned,
flagged as unparsable, so that it can be stored and listed with its raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html as html_lib
import mimetypes
import quopri
import re
import unicodedata
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError, MessageError
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3

SNIPPET_LENGTH = 200
MAX_FILENAME_LENGTH = 120
MAX_NAME_LENGTH = 200
# A field names at most this many message ids; a longer References keeps its ends.
MAX_IDS = 100
# A stored message, and a reply to it, keep this many: the thread's first and the latest.
MAX_REFERENCES = 20

# What the standard library can raise while reading a hostile header or part.
_DECODE_ERRORS = (
    HeaderParseError,
    MessageError,
    LookupError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
)

# Labels seen in real mail that Python does not know by that name.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-user-defined": "latin-1",
    "unknown-8bit": "latin-1",
    "x-unknown": "latin-1",
    "ansi_x3.4-1968": "ascii",
    "windows-874": "cp874",
}


@dataclass
class Address:
    name: str
    address: str


@dataclass
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str | None = None


@dataclass
class ParsedMessage:
    subject: str = ""
    from_: list[Address] = field(default_factory=list)
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    date: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    defects: int = 0
    unparsable: bool = False

    @property
    def snippet(self) -> str:
        source = self.text or _html_to_text(self.html)
        return " ".join(source.split())[:SNIPPET_LENGTH]


def parse(raw: bytes) -> ParsedMessage:
    """Parse the whole message: headers, bodies and attachment list."""
    try:
        return _parse(raw)
    except RecursionError:
        # MIME nested deeper than the standard library can follow: kept raw, shown as unparsable.
        return ParsedMessage(unparsable=True)


def _parse(raw: bytes) -> ParsedMessage:
    message = _read(raw)
    parsed = _headers(message)
    text_part, html_part, attachment_parts = _classify(message)
    parsed.text = _part_text(text_part) if text_part is not None else ""
    parsed.html = sanitize_html(_part_text(html_part)) if html_part is not None else ""
    parsed.attachments = [_describe(i, part) for i, part in enumerate(attachment_parts)]
    parsed.defects = sum(len(part.defects) for part in _walk(message))
    parsed.unparsable = not message.keys()
    return parsed


def attachment_bytes(raw: bytes, index: int) -> tuple[Attachment, bytes] | None:
    """The decoded content of attachment `index`, as listed by `parse`."""
    try:
        _, _, parts = _classify(_read(raw))
    except RecursionError:
        return None
    if not 0 <= index < len(parts):
        return None
    return _describe(index, parts[index]), _payload(parts[index])


def sanitize_html(html: str) -> str:
    """Remove scripts, event handlers, `javascript:` URLs, iframes and forms."""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow", url_schemes=_URL_SCHEMES)


# `cid:` names an inline part of the same message (RFC 2392), found by its content_id.
_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}


def _read(raw: bytes) -> EmailMessage:
    # A byte-order mark written by a script before the first header hides every header.
    message = BytesParser(policy=policy.default).parsebytes(raw.removeprefix(codecs.BOM_UTF8))
    assert isinstance(message, EmailMessage)
    return message


def _headers(message: EmailMessage) -> ParsedMessage:
    fallback = _declared_charset(message)
    return ParsedMessage(
        subject=_header_text(message, "subject", fallback),
        from_=_addresses(message, "from", fallback),
        to=_addresses(message, "to", fallback),
        cc=_addresses(message, "cc", fallback),
        reply_to=_addresses(message, "reply-to", fallback),
        date=_date(message),
        # Read raw: the standard library's Message-ID parser raises on values such as "<".
        message_id=_message_id(_id_header(message, "message-id", fallback)),
        in_reply_to=_message_id(_id_header(message, "in-reply-to", fallback)),
        references=_message_ids(_id_header(message, "references", fallback)),
    )


def _raw_header(message: Message, name: str) -> str:
    """The header's value as it stands in the message, unfolded, without decoding."""
    for key, value in message.raw_items():
        if key.lower() == name:
            return re.sub(r"\r?\n[ \t]", " ", str(value)).strip()
    return ""


def _id_header(message: Message, name: str, fallback: str) -> str:
    return _repair_8bit(_raw_header(message, name), fallback)


def _header_text(message: EmailMessage, name: str, fallback: str) -> str:
    raw = _raw_header(message, name)
    return decode_words(_repair_8bit(raw, fallback)).strip() if raw else ""


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)[ \t]+(?==\?)")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating bad padding and unknown charsets.

    The standard library's decoder turns unencoded 8-bit text beside an encoded word into
    escape sequences and gives up on unknown labels, both common in real mail.
    """
    if "=?" not in value:
        return value
    return _ENCODED_WORD.sub(_decode_word, _BETWEEN_WORDS.sub("", value))


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, text = match.group(1).split("*", 1)[0], match.group(2), match.group(3)
    codec = _codec(charset) if _known(charset) else "utf-8"
    try:
        if encoding in "bB":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        else:
            data = quopri.decodestring(_word_bytes(text, codec), header=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return data.decode(codec, "replace")


def _word_bytes(text: str, codec: str) -> bytes:
    """Q-encoded text is ASCII, except where a sender put raw 8-bit bytes inside the word."""
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return text.encode(codec, "replace")


def _repair_8bit(text: str, fallback: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; decode them for real."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    for charset in ("utf-8", fallback):
        try:
            return data.decode(_codec(charset))
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("cp1252", "replace")


# An address written where the display name belongs (`alice@example.com <bob@example.com>`)
# would otherwise be read as a mailbox of its own.
_ADDRESS_AS_NAME = re.compile(r'(^|,)(\s*)([^\s",<>()@]+@[^\s",<>()]+)(\s*<)')


def _addresses(message: EmailMessage, name: str, fallback: str) -> list[Address]:
    raw = _raw_header(message, name)
    if not raw:
        return []
    # Parse, then decode: an encoded word can hide a comma (`=?utf-8?q?Doe=2C_Jane?=`).
    text = _ADDRESS_AS_NAME.sub(r'\1\2"\3"\4', _repair_8bit(raw, fallback))
    try:
        pairs = getaddresses([text])
    except (*_DECODE_ERRORS, RecursionError):
        # The parser recurses once per address; a header with thousands of them is read
        # one comma-separated piece at a time instead.
        pairs = [_parse_piece(piece) for piece in text.split(",")]
    found = [
        Address(name=decode_words(n).strip(), address=decode_words(a).strip()) for n, a in pairs if n or a
    ]
    return found or [Address(name=decode_words(text).strip(), address="")]


def _parse_piece(piece: str) -> tuple[str, str]:
    try:
        return parseaddr(piece)
    except RecursionError:
        return piece.strip()[:MAX_NAME_LENGTH], ""


def _date(message: EmailMessage) -> str | None:
    raw = _raw_header(message, "date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).isoformat()
    except _DECODE_ERRORS:
        return None


def _message_id(value: str) -> str | None:
    ids = _message_ids(value)
    return ids[0] if ids else (value.strip()[:998] or None)


def _message_ids(value: str) -> list[str]:
    return thread_ends(re.findall(r"<[^<>\s]+>", value), MAX_IDS)


def thread_ends(ids: list[str], limit: int) -> list[str]:
    """At most `limit` ids of a References chain: the thread's first, then the latest."""
    return ids if len(ids) <= limit else [ids[0], *ids[1 - limit :]]


# Control, format (zero-width, bidi overrides), surrogate, private-use and unassigned code
# points, and the line and paragraph separators: nothing a reader sees, or one that breaks a line.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def hidden(char: str) -> bool:
    """Whether a character has no place in a name a person reads (a file or mailbox name)."""
    return unicodedata.category(char) in _HIDDEN


def _declared_charset(message: Message) -> str:
    for part in _walk(message):
        charset = part.get_param("charset")
        if isinstance(charset, str) and _known(charset):
            return charset
    return "cp1252"


def _known(charset: str) -> bool:
    """A label Python decodes text with; binary codecs (base64, zlib) and strict-only ones do not count."""
    try:
        b"a".decode(_codec(charset), "replace")
    except (LookupError, ValueError):
        return False
    return True


def _codec(charset: str) -> str:
    label = charset.strip().strip('"').lower()
    return _CHARSET_ALIASES.get(label, label)


def _walk(part: Message) -> list[Message]:
    """Every part, descending into multiparts but not into attached messages."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        children = part.get_payload()
        if isinstance(children, list):
            return [part] + [p for child in children if isinstance(child, Message) for p in _walk(child)]
    return [part]


def _classify(message: EmailMessage) -> tuple[Message | None, Message | None, list[Message]]:
    """Pick the plain and HTML bodies; every other leaf part is an attachment."""
    text_part: Message | None = None
    html_part: Message | None = None
    attachments: list[Message] = []
    for part in _walk(message):
        if part.get_content_maintype() == "multipart" and part.is_multipart():
            continue
        kind = part.get_content_type()
        if _is_body(part) and kind == "text/plain" and text_part is None:
            text_part = part
        elif _is_body(part) and kind == "text/html" and html_part is None:
            html_part = part
        elif not _is_empty_body(part):
            attachments.append(part)
    return text_part, html_part, attachments


def _is_body(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "inline").lower()
    return disposition == "inline" and not _filename(part)


def _is_empty_body(part: Message) -> bool:
    """A text part without a name and without content is structure, not an attachment."""
    if part.get_content_maintype() != "text" or _filename(part):
        return False
    return not _payload(part).strip()


def _part_text(part: Message) -> str:
    data = _payload(part)
    charset = part.get_param("charset")
    label = charset if isinstance(charset, str) and _known(charset) else "utf-8"
    try:
        return data.decode(_codec(label), "replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", "replace")


def _payload(part: Message) -> bytes:
    if part.is_multipart():
        # An attached message (message/rfc822 and kin): offer the message itself.
        inner = part.get_payload()
        body = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else part
        try:
            return body.as_bytes(policy=policy.compat32)
        except UnicodeEncodeError:
            # An 8-bit boundary comes back decoded and the bytes generator cannot write it.
            return body.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
    try:
        data = part.get_payload(decode=True)
    except _DECODE_ERRORS:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except _DECODE_ERRORS:
        name = None
    if not name:
        return ""
    if isinstance(name, str):
        return decode_words(_repair_8bit(name, "cp1252"))
    return str(name)


def safe_filename(name: str, index: int, content_type: str) -> str:
    """A name safe to offer for download: no path, no control characters, bounded length."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if not hidden(ch))
    base = base.strip().lstrip(".").strip()
    if len(base) > MAX_FILENAME_LENGTH:
        stem, dot, ext = base.rpartition(".")
        keep = MAX_FILENAME_LENGTH - len(ext) - 1
        base = f"{stem[:keep]}.{ext}" if dot and 0 < len(ext) < 16 else base[:MAX_FILENAME_LENGTH]
    if base:
        return base
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{index + 1}{extension}"


def _describe(index: int, part: Message) -> Attachment:
    content_type = part.get_content_type()
    content_id = part.get("content-id")
    return Attachment(
        index=index,
        filename=safe_filename(_filename(part), index, content_type),
        content_type=content_type,
        size=len(_payload(part)),
        inline=(part.get_content_disposition() or "") == "inline",
        content_id=_message_id(content_id) if content_id else None,
    )


def _html_to_text(html: str) -> str:
    if not html:
        return ""
    # A space before every tag keeps the words of adjacent blocks apart once tags are gone.
    spaced = html.replace("<", " <")
    text = nh3.clean(spaced, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    return html_lib.unescape(text)


def is_automatic(raw: bytes) -> bool:
    """Mail a program sent on its own (RFC 3834): answering it could start a loop."""
    headers = BytesParser(policy=policy.compat32).parsebytes(raw[:65536], headersonly=True)
    submitted = str(headers.get("auto-submitted", "no")).strip().lower()
    precedence = str(headers.get("precedence", "")).strip().lower()
    report = headers.get_content_type() == "multipart/report"
    return submitted != "no" or precedence in {"bulk", "junk", "list"} or report or "x-autoreply" in headers
