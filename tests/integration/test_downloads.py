"""Downloads past what a Lambda response holds are offered as signed S3 URLs."""

from __future__ import annotations

import os
from email.message import EmailMessage
from urllib.parse import urlsplit

from mailcore.api.app import MAX_INLINE_DOWNLOAD
from tests.integration.helpers import deliver


def big_message(payload: bytes) -> bytes:
    return with_attachment(payload, "octet-stream", "data.bin", "<large-1@example.org>")


def with_attachment(payload: bytes, subtype: str, filename: str, message_id: str) -> bytes:
    """Mail from carol to bob with one application/`subtype` attachment."""
    message = EmailMessage()
    message["From"] = "carol@example.org"
    message["To"] = "bob@demo.test"
    message["Subject"] = "Large"
    message["Message-ID"] = message_id
    message.set_content("See the attachment.")
    message.add_attachment(payload, maintype="application", subtype=subtype, filename=filename)
    return message.as_bytes()


def object_key(url: str, bucket: str) -> str:
    """The key in a signed URL, virtual-hosted (bucket in the host) or path style."""
    path = urlsplit(url).path.lstrip("/")
    return path.removeprefix(f"{bucket}/")


def test_large_attachment_and_raw_redirect_to_signed_urls(aws):
    # Given a message whose attachment alone is larger than a response may be
    payload = os.urandom(MAX_INLINE_DOWNLOAD + 1024)
    raw = big_message(payload)
    deliver(aws, raw)
    bob = aws.account("bob@demo.test")
    message_id = aws.api("GET", "/mailboxes/inbox/messages", bob).json()["messages"][0]["id"]

    # When bob downloads the attachment and the raw message
    attachment = aws.api("GET", f"/messages/{message_id}/attachments/0", bob)
    whole = aws.api("GET", f"/messages/{message_id}/raw", bob)

    # Then both answer 303 with a signed URL to an object holding exactly those bytes
    assert attachment.status == 303
    assert whole.status == 303
    spilled_attachment = object_key(attachment.headers["Location"], aws.bucket.name)
    spilled_raw = object_key(whole.headers["Location"], aws.bucket.name)
    assert spilled_attachment == f"downloads/{bob}/{message_id}/0"
    assert aws.bucket.get(spilled_attachment) == payload
    assert aws.bucket.get(spilled_raw) == raw
    assert "Signature=" in attachment.headers["Location"]


def test_small_downloads_stay_inline(aws):
    deliver(aws, big_message(b"small"))
    bob = aws.account("bob@demo.test")
    message_id = aws.api("GET", "/mailboxes/inbox/messages", bob).json()["messages"][0]["id"]

    response = aws.api("GET", f"/messages/{message_id}/attachments/0", bob)

    assert response.status == 200
    assert response.body == b"small"


def test_an_attachment_typed_json_comes_back_as_its_bytes_even_when_not_utf8(aws):
    # Given mail from outside with a JSON attachment that is not UTF-8
    payload = b'{"a": "\xff\xfe"}'
    deliver(aws, with_attachment(payload, "json", "data.json", "<json-1@example.org>"))
    bob = aws.account("bob@demo.test")
    message_id = aws.api("GET", "/mailboxes/inbox/messages", bob).json()["messages"][0]["id"]

    # When bob downloads it
    response = aws.api("GET", f"/messages/{message_id}/attachments/0", bob)

    # Then it answers with the bytes as they were, typed as they were
    assert response.status == 200
    assert response.body == payload
    assert response.headers["Content-Type"] == "application/json"
