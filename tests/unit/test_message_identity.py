"""A message's id: the same for every copy of one message to one account, and only then."""

from __future__ import annotations

from mailcore import mime
from mailcore.inbound import message_id_for

MESSAGE = b"From: carol@example.org\r\nSubject: Hi\r\nMessage-ID: <hi@example.org>\r\n\r\nHello\r\n"
TRACE_EAST = (
    b"Return-Path: <carol@example.org>\r\n"
    b"Received: from mx.example.org by inbound-smtp.us-east-1.amazonaws.com;\r\n"
    b"\tMon, 2 Mar 2026 09:15:04 +0000\r\n"
    b"X-SES-Spam-Verdict: PASS\r\n"
    b"Received-SPF: pass client-ip=192.0.2.1;\r\n"
    b"Authentication-Results: amazonses.com; spf=pass\r\n"
)
TRACE_WEST = (
    b"Received: from mx2.example.org by inbound-smtp.us-west-2.amazonaws.com;\r\n"
    b" Mon, 2 Mar 2026 09:15:09 +0000\r\n"
    b"X-SES-RECEIPT: AEFBQUFB\r\n"
    b"Received-SPF: softfail client-ip=198.51.100.7;\r\n"
    b"Authentication-Results: amazonses.com; spf=softfail\r\n"
    b"Delivered-To: bob@demo.test\r\n"
)


def identity(raw: bytes, account: str = "a1") -> str:
    return message_id_for(account, mime.parse(raw), raw)


def test_copies_relayed_differently_have_one_id():
    assert identity(TRACE_EAST + MESSAGE) == identity(TRACE_WEST + MESSAGE) == identity(MESSAGE)


def test_line_endings_do_not_matter():
    assert identity(MESSAGE) == identity(MESSAGE.replace(b"\r\n", b"\n"))


def test_without_message_id_the_content_decides():
    plain = MESSAGE.replace(b"Message-ID: <hi@example.org>\r\n", b"")

    assert identity(TRACE_EAST + plain) == identity(TRACE_WEST + plain)
    assert identity(plain) != identity(plain.replace(b"Hello", b"Hello again"))


def test_a_reused_message_id_with_other_content_is_another_message():
    assert identity(MESSAGE) != identity(MESSAGE.replace(b"Hello", b"Something else"))


def test_each_account_has_its_own_id():
    assert identity(MESSAGE, "a1") != identity(MESSAGE, "a2")


def test_id_is_32_hex_digits():
    assert len(identity(MESSAGE)) == 32 and identity(MESSAGE).isalnum()


def test_8bit_message_id_gives_an_id():
    raw = b"From: carol@example.org\r\nMessage-ID: <caf\xe9\xff@example.org>\r\n\r\nHello\r\n"

    assert len(identity(raw)) == 32
