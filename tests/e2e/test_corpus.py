"""Every corpus message through the local stack: SMTP in as the internet sends it, read back as bob.

What the listener stores is not always the file byte for byte, because of SMTP itself. The
files go out through `smtplib.SMTP.sendmail` as bytes, untouched except for two steps:

1. smtplib ends the data with CRLF when the file does not (the data ends with CRLF "." CRLF,
   RFC 5321 4.1.1.4): a file ending in LF, CR or no line break is stored with CRLF appended.
2. smtplib doubles a "." that starts a line, and takes a line to start after any LF, bare or
   not; the listener (aiosmtpd) removes the leading "." only from lines ended by CRLF, as
   RFC 5321 4.5.2 says. A "." just after a bare LF therefore arrives, and is stored, doubled.

`stored_form` applies exactly these two steps, and the stored bytes must equal its result.
Every other byte, NULs, bare CRs and raw 8-bit bytes among them, must come back unchanged.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
import smtplib
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS
from tests.e2e.helpers import BOB, SENDER, Reader, smtp_client

CORPUS_SIZE = 147
MAX_INGEST_SECONDS = 2.0
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    found = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".eml", ".msg")]
    return sorted(str(p.relative_to(CORPUS)) for p in found)


FILES = corpus_files()
# Collected even without the corpus, so that the `corpus` fixture can skip them with its reason.
NAMES = FILES or ["corpus-absent"]


def stored_form(raw: bytes) -> bytes:
    """The bytes the listener stores for `raw` sent with smtplib (see the module docstring)."""
    sent = re.sub(rb"(?m)^\.", b"..", raw)
    if not sent.endswith(b"\r\n"):
        sent += b"\r\n"
    lines = sent.split(b"\r\n")[:-1]
    return b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)


@pytest.fixture(scope="module")
def corpus() -> Path:
    """The shared corpus, for the whole module; skipped with the reason where it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}; it ships beside the repository")
    return CORPUS


@dataclass
class Ingest:
    name: str
    raw: bytes
    code: int
    reply: str
    seconds: float

    @property
    def stored(self) -> bytes:
        return stored_form(self.raw)


@dataclass
class Listed:
    mailbox: str
    summary: dict[str, Any]


@pytest.fixture(scope="module")
def ingested(service, corpus: Path) -> dict[str, Ingest]:
    """Send every file once, over one reused connection, timing each until the reply to DATA."""
    results: dict[str, Ingest] = {}
    client = smtp_client(service)
    for name in FILES:
        raw = (corpus / name).read_bytes()
        started = time.perf_counter()
        try:
            client.sendmail(SENDER, [BOB], raw)
            code, reply = 250, "accepted"
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = refused.recipients[BOB][0], str(refused.recipients[BOB][1])
        except smtplib.SMTPResponseException as error:
            code, reply = error.smtp_code, str(error.smtp_error)
        except smtplib.SMTPServerDisconnected as error:
            code, reply = 0, f"connection lost: {error}"
            client = smtp_client(service)
        results[name] = Ingest(name, raw, code, reply, time.perf_counter() - started)
    client.quit()
    return results


class Listing(dict[bytes, Listed]):
    """Listed messages by the raw bytes the API returns for each; and those it did not return."""

    unreadable: list[str]


@pytest.fixture(scope="module")
def by_raw(ingested, bob: Reader) -> Listing:
    """Bob's Inbox and Junk, each listed message keyed by its raw bytes from GET .../raw."""
    found = Listing()
    found.unreadable = []
    for mailbox in ("inbox", "junk"):
        for summary in bob.listing(mailbox):
            raw = bob.get(f"/messages/{summary['id']}/raw")
            if raw.status == 200:
                found[raw.body] = Listed(mailbox, summary)
            else:
                found.unreadable.append(f"{summary['subject']!r}: {raw.status} {raw.body[:200]!r}")
    return found


def listed(ingest: Ingest, by_raw: Listing) -> Listed:
    found = by_raw.get(ingest.stored)
    assert found is not None, (
        f"{ingest.name}: no listed message has the bytes that were sent; raw downloads that "
        f"failed: {by_raw.unreadable}"
    )
    return found


@pytest.mark.corpus
def test_corpus_is_complete(corpus):
    assert len(FILES) == CORPUS_SIZE, f"{len(FILES)} messages in {corpus}, expected {CORPUS_SIZE}"


@pytest.mark.corpus
@pytest.mark.parametrize("name", NAMES)
def test_accepted_in_time(name, ingested):
    ingest = ingested[name]

    assert ingest.code == 250, f"{name}: {ingest.code} {ingest.reply}"
    assert ingest.seconds < MAX_INGEST_SECONDS, f"{name} took {ingest.seconds:.2f} s"


@pytest.mark.corpus
@pytest.mark.parametrize("name", NAMES)
def test_listed_with_bytes_as_sent(name, ingested, by_raw):
    ingest = ingested[name]

    found = listed(ingest, by_raw)

    assert found.mailbox == ("junk" if GTUBE in ingest.raw else "inbox")
    assert found.summary["size"] == len(ingest.stored)


# Where the standard library gets the header wrong or gives up, the right answer is written out.
@dataclass
class Known:
    why: str
    subject: str | None = None
    sender: list[tuple[str, str]] | None = None


KNOWN = {
    "charsets/8bit-latin1-no-mime-headers.eml": Known(
        "raw Latin-1 bytes in Subject; the standard library gives U+FFFD",
        subject="Die Hasen und die Frösche (Microsoft Outlook 00)",
    ),
    "charsets/iso-8859-8-i-hebrew-subject.eml": Known(
        "iso-8859-8-i is a label Python does not know",
        subject="מענה 'אני לא נמצא': Invoice 02722027",
    ),
    "international/rfc6532-utf8-addresses.eml": Known(
        "RFC 6532 raw UTF-8 in From; the standard library leaves surrogate escapes",
        subject="Säying Hello",
        sender=[("Jöhn Doe", "jdöe@mächine.example")],
    ),
    "headers/email-address-as-display-name.eml": Known(
        "an address as an unquoted display name; the standard library drops the real address",
        sender=[("alice@example.com", "bob@example.com")],
    ),
    "malformed/header-block-broken-by-split-line-outlook.eml": Known(
        "a truncated address as the display name; the standard library drops the real address",
        sender=[("jang.abcdef@xyzlinu", "jang.abcdef@xyzlinux12345678.it")],
    ),
    "headers/raw-umlaut-in-disposition-notification-to.eml": Known(
        "white space between adjacent encoded words is not text (RFC 2047 6.2); the standard "
        "library keeps it",
        sender=[("Könok, Danny [Fake Company & Co. KG]", "test@fakedomain.de")],
    ),
    "headers/encoded-comma-in-recipients.eml": Known(
        "a comma inside an encoded word; the standard library is right, pinned here as well",
        sender=[("Some Name, Jane Doe", "jane.doe@example.de")],
    ),
    "reports/arf-feedback-report.eml": Known(
        "a UTF-8 byte-order mark before the first header; the standard library sees no header",
        subject="FW: Earn money",
        sender=[("", "abusedesk@example.com")],
    ),
}


def std_message(stored: bytes) -> EmailMessage | None:
    try:
        message = BytesParser(policy=policy.default).parsebytes(stored)
    except Exception:  # noqa: BLE001 - the reference decoder failing only means it is not used
        return None
    return message if isinstance(message, EmailMessage) else None


def std_header(message: EmailMessage | None, name: str) -> Any:
    """The standard library's decoded header, None when absent, `Unusable` where it fails."""
    if message is None:
        return Unusable
    try:
        header = message[name]
        if header is None:
            return None
        if name == "from":
            value: Any = [(a.display_name, a.addr_spec) for a in header.addresses]
            text = " ".join(f"{n} {a}" for n, a in value)
        else:
            value = text = str(header)
    except Exception:  # noqa: BLE001 - the reference decoder failing only means it is not used
        return Unusable
    return value if clean(text) and "\ufffd" not in text else Unusable


class Unusable:
    """Marks a header the standard library could not decode properly."""


def clean(text: str) -> bool:
    """No surrogate escapes (raw bytes never decoded) and no encoded word that would decode."""
    return not any("\udc80" <= ch <= "\udcff" for ch in text) and not decodable_encoded_words(text)


def decodable_encoded_words(text: str) -> list[str]:
    found = []
    for match in ENCODED_WORD.finditer(text):
        charset, encoding, payload = match.groups()
        try:
            codecs.lookup(charset.split("*", 1)[0])
            if encoding in "bB":
                base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
            else:
                quopri.decodestring(payload.encode("ascii"), header=True)
        except (LookupError, binascii.Error, ValueError):
            continue
        found.append(match.group(0))
    return found


def words(text: str) -> str:
    """Folding and trailing white space carry no meaning in a header."""
    return " ".join(text.split())


def raw_has_header(stored: bytes, name: bytes) -> bool:
    head = re.split(rb"\r\n\r\n|\n\n|\r\r", stored.removeprefix(codecs.BOM_UTF8), maxsplit=1)[0]
    return re.search(rb"(?im)^" + name + rb":[ \t]*\S", head) is not None


@pytest.fixture(scope="module")
def details(ingested, by_raw, bob: Reader) -> dict[str, Any]:
    """GET /messages/{id} for every file that was listed; the status goes with the body."""
    found = {}
    for name, ingest in ingested.items():
        hit = by_raw.get(ingest.stored)
        if hit is not None:
            response = bob.get(f"/messages/{hit.summary['id']}")
            found[name] = (response.status, response.json())
    return found


def detail_of(name: str, details: dict[str, Any]) -> dict[str, Any]:
    assert name in details, f"{name} is not listed"
    status, body = details[name]
    assert status == 200, body
    return body


@pytest.mark.corpus
@pytest.mark.parametrize("name", NAMES)
def test_subject_and_sender_decoded(name, ingested, details):
    ingest = ingested[name]
    detail = detail_of(name, details)
    subject = detail["subject"]
    sender = [(a["name"], a["address"]) for a in detail["from"]]
    reference = std_message(ingest.stored)

    assert clean(subject) and all(clean(n) and clean(a) for n, a in sender), (subject, sender)
    known = KNOWN.get(name)
    if known is not None:
        assert (known.subject is None or subject == known.subject) and (
            known.sender is None or sender == known.sender
        ), known.why
        return
    expected_subject = std_header(reference, "subject")
    if expected_subject is Unusable:
        assert subject or not raw_has_header(ingest.stored, b"subject")
    else:
        assert words(subject) == words(expected_subject or "")
    expected_sender = std_header(reference, "from")
    if expected_sender is Unusable:
        assert sender or not raw_has_header(ingest.stored, b"from")
    else:
        # The standard library drops a name given as a comment (`a@b (Name)`); the API keeps it.
        assert [a for _, a in sender] == [a for _, a in expected_sender or []]
        for (name_shown, _), (name_expected, _) in zip(sender, expected_sender or [], strict=False):
            assert not name_expected or words(name_shown) == words(name_expected)


@pytest.mark.corpus
@pytest.mark.parametrize("name", NAMES)
def test_attachment_count_matches_detail(name, ingested, by_raw, details):
    summary = listed(ingested[name], by_raw).summary

    detail = detail_of(name, details)

    assert summary["attachment_count"] == len(detail["attachments"]) == detail["attachment_count"]


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "count", "content_types"),
    [
        # 328 parts with Content-Disposition: attachment and a filename each.
        ("attachments/over-300-attachments.eml", 328, None),
        ("reports/dmarc-aggregate-google-zip.eml", 1, ["application/zip"]),
        ("calendar/ics-attachment.eml", 1, ["text/calendar"]),
        ("attachments/tnef-winmail-dat-toplevel.eml", 1, ["application/ms-tnef"]),
        ("spam/gtube.eml", 0, []),
    ],
)
def test_known_attachment_counts(name, count, content_types, details):
    attachments = detail_of(name, details)["attachments"]

    assert len(attachments) == count
    assert content_types is None or [a["content_type"] for a in attachments] == content_types


@pytest.mark.corpus
def test_path_traversal_filename_is_offered_without_its_path(details):
    attachments = detail_of("attachments/path-traversal-filename.eml", details)["attachments"]

    assert [a["filename"] for a in attachments] == ["1234.txt"]


@pytest.mark.corpus
def test_iso_2022_jp_subject_with_a_nec_extension(details):
    subject = detail_of("charsets/iso-2022-jp-cyrillic-outlook-no-from-date.eml", details)["subject"]

    # NOTE: "№" here is NEC row 13 of Windows' ISO-2022-JP; no Python codec maps it, so it
    # shows as U+FFFD while the Cyrillic around it decodes.
    assert subject == "ЖД\ufffd41 от 28.09.2016"


@pytest.mark.corpus
def test_corpus_totals(ingested, by_raw, record_property):
    accepted = [i for i in ingested.values() if i.code == 250]
    found = [i for i in ingested.values() if i.stored in by_raw]
    as_file = [i for i in found if i.stored == i.raw]
    crlf_added = [i for i in found if i.stored == i.raw + b"\r\n"]
    dot_doubled = [i for i in found if i.stored not in (i.raw, i.raw + b"\r\n")]
    slowest = max(ingested.values(), key=lambda i: i.seconds)
    totals = (
        f"{len(accepted)}/{len(FILES)} accepted, {len(found)} listed and byte-exact as sent "
        f"({len(as_file)} identical to the file, {len(crlf_added)} with CRLF added at the end, "
        f"{len(dot_doubled)} with a '.' after a bare LF doubled by smtplib); slowest ingest "
        f"{slowest.seconds:.3f} s ({slowest.name})"
    )
    record_property("corpus_totals", totals)

    assert len(accepted) == len(found) == len(FILES) == CORPUS_SIZE, totals
