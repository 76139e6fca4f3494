"""The local stack at its edges: SMTP refusals, several recipients, identity, downloads, failures.

Each message is built here, so this module runs without the shared corpus.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from tests.e2e.helpers import ALICE, BOB, SENDER, Reader, smtp_client

MAX_MESSAGE_BYTES = 40 * 1024 * 1024


def message(subject: str, body: bytes = b"Hello.\r\n", message_id: str | None = None) -> bytes:
    head = f"From: Carol <carol@example.org>\r\nTo: {BOB}\r\nSubject: {subject}\r\n"
    if message_id:
        head += f"Message-ID: {message_id}\r\n"
    return (head + "\r\n").encode() + body


def send(service, raw: bytes, recipients: list[str] | None = None) -> None:
    with smtp_client(service) as client:
        client.sendmail(SENDER, recipients or [BOB], raw)


def with_subject(reader: Reader, subject: str) -> list[dict]:
    return [m for m in reader.listing("inbox") if m["subject"] == subject]


def test_unknown_recipient_is_refused_at_rcpt(service):
    with smtp_client(service) as client:
        client.mail(SENDER)

        not_hosted_here = client.rcpt("nobody@demo.test")
        not_our_domain = client.rcpt("someone@example.com")
        hosted = client.rcpt(BOB)

    assert not_hosted_here[0] == 550
    assert not_our_domain[0] == 550
    assert hosted[0] == 250


def test_postmaster_is_accepted_at_rcpt_in_any_case(service):
    with smtp_client(service) as client:
        client.mail(SENDER)

        answers = [client.rcpt(f"{name}@demo.test")[0] for name in ("postmaster", "POSTMASTER", "Postmaster")]

    assert answers == [250, 250, 250]


def test_message_declared_over_40_mb_is_refused_at_mail_from(service):
    with smtp_client(service) as client:
        code, _ = client.mail(SENDER, [f"SIZE={MAX_MESSAGE_BYTES + 1}"])

    assert code == 552


def _big_message_chunks(size: int) -> Iterator[bytes]:
    """`size` bytes of message in 1 MB chunks of 1,000-byte lines, never all in memory."""
    yield b"From: carol@example.org\r\nSubject: too big\r\n\r\n"
    line = b"x" * 998 + b"\r\n"
    chunk = line * 1024
    for _ in range(size // len(chunk) + 1):
        yield chunk


def test_message_over_40_mb_is_refused_after_data_with_552(service, bob):
    # Given a client that does not declare the size, so the listener learns it from DATA
    with smtp_client(service) as client:
        client.mail(SENDER)
        client.rcpt(BOB)
        client.putcmd("data")
        assert client.getreply()[0] == 354

        # When it sends 40 MB and more
        for chunk in _big_message_chunks(MAX_MESSAGE_BYTES):
            client.send(chunk)
        client.send(b".\r\n")
        code, _ = client.getreply()

    # Then the message is refused, and nothing of it is listed
    assert code == 552
    assert with_subject(bob, "too big") == []


def test_message_to_two_local_recipients_lands_in_both_inboxes(service, alice, bob):
    raw = message("For both of you", message_id="<both-1@example.org>")

    send(service, raw, [ALICE, BOB])

    for reader in (alice, bob):
        [listed] = with_subject(reader, "For both of you")
        assert reader.get(f"/messages/{listed['id']}/raw").body == raw


def test_different_messages_sharing_a_message_id_are_both_listed(service, bob):
    # Given two different messages that carry the same Message-ID, as devices and scripts send
    first = message("Same id, first", b"One.\r\n", "<fixed@device.example>")
    second = message("Same id, second", b"Two.\r\n", "<fixed@device.example>")

    # When both are accepted
    send(service, first)
    send(service, second)

    # Then both are in the inbox: 250 for the second must not mean "dropped as a duplicate"
    assert len(with_subject(bob, "Same id, first")) == 1
    assert len(with_subject(bob, "Same id, second")) == 1


def test_same_message_relayed_twice_is_stored_once(service, bob):
    # Given a message, and the same message as another relay passes it on
    raw = message("Relayed twice", b"Once.\r\n", "<relayed@example.org>")
    relayed = b"Received: from relay2.example.org by mx; Thu, 3 Dec 2026 10:00:00 +0000\r\n" + raw

    # When both arrive
    send(service, raw)
    send(service, relayed)

    # Then it is one message
    assert len(with_subject(bob, "Relayed twice")) == 1


def test_raw_download_of_8bit_message_is_byte_exact(service, bob):
    # Raw 8-bit Latin-1, which is not UTF-8: the download must not pass through text.
    raw = message("Latin-1 body", "Grüße aus Köln\r\n".encode("latin-1"))

    send(service, raw)
    [listed] = with_subject(bob, "Latin-1 body")
    download = bob.get(f"/messages/{listed['id']}/raw")

    assert download.status == 200
    assert download.body == raw


def test_binary_attachment_download_is_byte_exact(service, bob):
    content = bytes(range(256)) * 4
    boundary = "b0undary"
    raw = (
        f"From: carol@example.org\r\nTo: {BOB}\r\nSubject: Binary attachment\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
        f'Content-Disposition: attachment; filename="bytes.bin"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    raw += base64.encodebytes(content).replace(b"\n", b"\r\n") + f"--{boundary}--\r\n".encode()

    send(service, raw)
    [listed] = with_subject(bob, "Binary attachment")
    download = bob.get(f"/messages/{listed['id']}/attachments/0")

    assert download.status == 200
    assert download.body == content


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        # An encoded word can hide a comma; addresses are parsed before words are decoded.
        ("=?iso-8859-1?Q?Doe=2C_Jane?= <jane@example.de>", [("Doe, Jane", "jane@example.de")]),
        # An address where the display name belongs is a name, not a second sender.
        ("alice@example.com <bob@example.com>", [("alice@example.com", "bob@example.com")]),
        ("Server (Monitor) <monitor@example.net>", [("Server (Monitor)", "monitor@example.net")]),
    ],
)
def test_sender_shown_as_written(service, bob, header, shown):
    subject = f"Sender shown as {shown}"
    raw = f"From: {header}\r\nTo: {BOB}\r\nSubject: {subject}\r\n\r\nHi.\r\n".encode()

    send(service, raw)
    [listed] = with_subject(bob, subject)
    detail = bob.get(f"/messages/{listed['id']}").json()

    assert [(a["name"], a["address"]) for a in detail["from"]] == shown


def test_byte_order_mark_before_the_headers_hides_none_of_them(service, bob):
    raw = b"\xef\xbb\xbf" + message("After a BOM", message_id="<bom@example.org>")

    send(service, raw)
    [listed] = with_subject(bob, "After a BOM")

    assert listed["from"] == [{"name": "Carol", "address": "carol@example.org"}]
    assert listed["unparsable"] is False


def test_failed_api_invocation_is_answered_500_as_api_gateway_does(service, bob, monkeypatch):
    # Given an API function that fails outright (an import error, a timeout, a bug)
    from functions.api import handler as api_function

    def fail(event, context):
        raise RuntimeError("the function crashed")

    monkeypatch.setattr(api_function, "handler", fail)

    # When bob calls the API
    response = bob.get("/mailboxes")

    # Then he gets API Gateway's answer, not a dropped connection or a stack trace
    assert response.status == 500
    assert response.json() == {"message": "Internal Server Error"}
