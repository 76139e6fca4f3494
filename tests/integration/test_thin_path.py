"""The thinnest path end to end: SES event in, stored, read back through the API."""

from __future__ import annotations

from functions.inbound import handler as inbound_function
from local import ses
from local.lambda_context import LocalContext

MESSAGE = (
    b"From: Carol <carol@example.org>\r\n"
    b"To: bob@demo.test\r\n"
    b"Subject: =?utf-8?q?Caf=C3=A9?=\r\n"
    b"Message-ID: <thin-1@example.org>\r\n"
    b"Date: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
    b"\r\n"
    b"Hello Bob.\r\n"
)


def deliver(aws, raw: bytes, recipients: list[str]) -> dict:
    message_id = ses.new_message_id()
    aws.bucket.put(f"inbound/{message_id}", raw)
    event = ses.receipt_event(message_id, raw, "carol@example.org", recipients, "arn", "b", "inbound/")
    return inbound_function.handler(event, LocalContext("inbound"))["results"][message_id]


def test_message_in_stored_and_read_back(aws):
    # Given a message SES stored for bob
    outcome = deliver(aws, MESSAGE, ["bob@demo.test"])

    # When bob lists his inbox and opens the message
    bob = aws.account("bob@demo.test")
    listing = aws.api("GET", "/mailboxes/inbox/messages", bob).json()
    opened = aws.api("GET", f"/messages/{listing['messages'][0]['id']}", bob).json()
    raw = aws.api("GET", f"/messages/{listing['messages'][0]['id']}/raw", bob)

    # Then it is there, decoded, with its raw bytes intact
    assert outcome == {"bob@demo.test": "stored"}
    assert opened["subject"] == "Café"
    assert opened["from"] == [{"name": "Carol", "address": "carol@example.org"}]
    assert opened["text"] == "Hello Bob.\r\n"
    assert raw.status == 200
    assert raw.body == MESSAGE
