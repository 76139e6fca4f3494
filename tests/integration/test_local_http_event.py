"""Local mode's HTTP API hands the function each body as API Gateway does: text only when it is."""

from __future__ import annotations

import base64

import pytest

from local.http_api import http_event
from tests.conftest import Aws

LATIN_1 = "café naïve".encode("latin-1")
TEXTUAL = ["text/plain; charset=utf-8", "Text/Plain", "application/json", None]


def passed_on(body: bytes, content_type: str | None) -> dict:
    headers = {"content-type": content_type} if content_type is not None else {}
    return http_event("POST", "/uploads?filename=a.txt", headers, body, {})


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None, "message/rfc822"])
def test_a_body_that_is_not_utf8_is_passed_on_base64_encoded(content_type: str | None):
    event = passed_on(LATIN_1, content_type)

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == LATIN_1


@pytest.mark.parametrize("content_type", TEXTUAL)
def test_utf8_of_a_textual_type_is_passed_on_as_text(content_type: str | None):
    event = passed_on("Grüße".encode(), content_type)

    assert event["isBase64Encoded"] is False
    assert event["body"] == "Grüße"


def test_utf8_of_a_binary_type_is_passed_on_base64_encoded():
    event = passed_on(b"plain ascii", "application/octet-stream")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"plain ascii"


def test_a_latin1_text_upload_is_stored_byte_for_byte(aws: Aws, bob: str):
    # Given a text file in Latin-1, sent as text/plain
    headers = {"content-type": "text/plain"}

    # When bob uploads it
    response = aws.api("POST", "/uploads?filename=latin1.txt", bob, LATIN_1, headers)

    # Then its ten bytes are stored unchanged, not three U+FFFD replacements
    upload = response.json()
    assert response.status == 201
    assert upload["size"] == 10
    assert aws.bucket.get(f"uploads/{bob}/{upload['id']}") == LATIN_1
