"""Send requests the API refuses: clear 4xx JSON errors, never a 500, nothing queued or stored."""

from __future__ import annotations

import base64
import hashlib
from email import message_from_bytes, policy
from typing import Any

import pytest

from mailcore import aws as mail_aws
from mailcore.compose import MAX_INLINE_ATTACHMENT_BYTES, MAX_MESSAGE_BYTES
from tests.integration.send_support import ALICE, BOB, Pipeline, start

EVE = "eve@example.com"
OUTSIDE = [f"r{i}@example.com" for i in range(51)]
HI = base64.b64encode(b"hi").decode()
OCTETS = "application/octet-stream"
# What str.splitlines() breaks a line on, besides CR and LF; the email package refuses each in a header.
LINE_BREAKS = [
    ("U+2028", "\u2028"),
    ("U+2029", "\u2029"),
    ("NEL", "\x85"),
    ("VT", "\v"),
    ("FF", "\f"),
    ("FS", "\x1c"),
    ("GS", "\x1d"),
    ("RS", "\x1e"),
]


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


def error_of(response: Any, status: int) -> dict[str, str]:
    """The `{"error": {...}}` body of a refusal, after checking its status and shape."""
    assert response.status == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    return body["error"]


def nothing_sent(pipeline: Pipeline) -> bool:
    queue = pipeline.depth(pipeline.aws.resources.delivery_queue_url)
    return queue == 0 and pipeline.listing(pipeline.alice, "sent") == []


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        pytest.param(
            {"to": [BOB], "subject": f"Hi\r\nBcc: {EVE}"},
            422,
            "InvalidRequest",
            "body.subject: Value error, header fields cannot contain CR, LF or other control characters",
            id="CRLF in the subject",
        ),
        *(
            pytest.param(
                {"to": [BOB], "subject": f"Hi{line_break}Bcc: {EVE}"},
                422,
                "InvalidRequest",
                "body.subject: Value error, header fields cannot contain CR, LF or other control characters",
                id=f"{name} in the subject",
            )
            for name, line_break in LINE_BREAKS
        ),
        pytest.param(
            {
                "to": [BOB],
                "attachments": [{"filename": "a\u2028b.txt", "content_base64": HI}],
            },
            422,
            "InvalidRequest",
            "body.attachments.0.filename: Value error, "
            "header fields cannot contain CR, LF or other control characters",
            id="U+2028 in an attachment filename",
        ),
        pytest.param(
            {"to": [f"{BOB}\u2028"]},
            422,
            "InvalidRequest",
            "body.to: Value error, an address cannot contain a line break or control character",
            id="U+2028 in an address",
        ),
        pytest.param(
            {"to": [f"{BOB}\r\nBcc: {EVE}"]},
            422,
            "InvalidRequest",
            "body.to: Value error, an address cannot contain a line break or control character",
            id="CRLF in an address",
        ),
        pytest.param(
            {"to": [BOB], "reply_to": [f"x@example.com\nBcc: {EVE}"]},
            422,
            "InvalidRequest",
            "body.reply_to: Value error, an address cannot contain a line break or control character",
            id="LF in a reply-to address",
        ),
        pytest.param(
            {"from": f"{ALICE}\r\nBcc: {EVE}", "to": [BOB]},
            422,
            "InvalidRequest",
            "body.from: Value error, an address cannot contain a line break or control character",
            id="CRLF in the sender",
        ),
        pytest.param(
            {
                "to": [BOB],
                "attachments": [{"filename": "a.txt\r\nContent-Type: text/html", "content_base64": HI}],
            },
            422,
            "InvalidRequest",
            "body.attachments.0.filename: Value error, "
            "header fields cannot contain CR, LF or other control characters",
            id="CRLF in an attachment filename",
        ),
        pytest.param(
            {
                "to": [BOB],
                "attachments": [
                    {"filename": "a", "content_type": "text/plain\r\nX: 1", "content_base64": HI}
                ],
            },
            422,
            "InvalidRequest",
            "body.attachments.0.content_type: String should match pattern '^[\\w.+-]+/[\\w.+-]+$'",
            id="CRLF in an attachment type",
        ),
        *(
            pytest.param(
                {"to": [BOB], "attachments": [{"filename": "a", "content_type": kind, "content_base64": HI}]},
                422,
                "InvalidRequest",
                "body.attachments.0.content_type: Value error, an attachment cannot be of type "
                f"{kind.lower()}; send it as application/octet-stream",
                id=f"{kind} as an attachment type",
            )
            for kind in ("multipart/mixed", "Message/RFC822")
        ),
        pytest.param(
            {"to": OUTSIDE},
            422,
            "InvalidRequest",
            "body.to: List should have at most 50 items after validation, not 51",
            id="51 recipients in to",
        ),
        pytest.param(
            {"to": OUTSIDE[:30], "cc": OUTSIDE[30:40], "bcc": OUTSIDE[40:]},
            422,
            "InvalidRequest",
            "body: Value error, at most 50 recipients (to, cc and bcc together)",
            id="51 recipients in to, cc and bcc",
        ),
        pytest.param(
            {"to": [BOB], "attachments": [{"filename": "a.txt", "content_base64": "not base64!"}]},
            400,
            "InvalidRequest",
            "attachment 'a.txt' is not valid base64",
            id="bad base64",
        ),
        pytest.param(
            {"subject": "To nobody"},
            400,
            "InvalidRequest",
            "give at least one recipient in to, cc or bcc",
            id="no recipient",
        ),
        pytest.param(
            {"to": ["not-an-address"]},
            422,
            "InvalidRequest",
            "body.to: Value error, 'not-an-address' is not a valid address: "
            "An email address must have an @-sign.",
            id="address without @",
        ),
        pytest.param(
            {"to": [BOB], "cc": ["bob@"]},
            422,
            "InvalidRequest",
            "body.cc: Value error, 'bob@' is not a valid address: There must be something after the @-sign.",
            id="address without domain",
        ),
        pytest.param(
            {"to": BOB},
            422,
            "InvalidRequest",
            "body.to: Input should be a valid list",
            id="to as a string",
        ),
        pytest.param(
            {"to": [BOB], "priority": "high"},
            422,
            "InvalidRequest",
            "body.priority: Extra inputs are not permitted",
            id="unknown field",
        ),
        pytest.param(
            {"to": [BOB], "in_reply_to": "../../etc"},
            422,
            "InvalidRequest",
            "body.in_reply_to: String should match pattern '^[A-Za-z0-9]+$'",
            id="in_reply_to not an id",
        ),
        pytest.param(
            {"to": [BOB], "in_reply_to": "abc123"},
            404,
            "NotFound",
            "no message abc123 to reply to",
            id="in_reply_to unknown",
        ),
        pytest.param(
            {"to": [BOB], "upload_ids": ["abc123"]},
            404,
            "NotFound",
            "no upload abc123",
            id="upload unknown",
        ),
        pytest.param(
            {"from": BOB, "to": ["carol@example.org"]},
            403,
            "ForbiddenSender",
            "this account cannot send as bob@demo.test",
            id="another account's address",
        ),
        pytest.param(
            {"from": "nobody@demo.test", "to": ["carol@example.org"]},
            403,
            "ForbiddenSender",
            "this account cannot send as nobody@demo.test",
            id="an address nobody has",
        ),
    ],
)
def test_a_bad_compose_request_is_refused_with_a_reason(pipeline: Pipeline, body, status, code, message):
    response = pipeline.send(pipeline.alice, body)

    assert error_of(response, status) | {"details": None} == {
        "code": code,
        "message": message,
        "details": None,
    }
    assert nothing_sent(pipeline)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"to": ', "body.7: JSON decode error"),
        (b"[]", "body: Input should be a valid dictionary or object to extract fields from"),
        (b"null", "body: Field required"),
        (b"", "body: Field required"),
    ],
    ids=["truncated JSON", "an array", "null", "no body"],
)
def test_a_body_that_is_not_a_json_object_is_refused(pipeline: Pipeline, body: bytes, message: str):
    response = pipeline.send(pipeline.alice, body)

    assert error_of(response, 422)["message"] == message
    assert nothing_sent(pipeline)


def test_a_form_body_is_refused_as_the_wrong_media_type(pipeline: Pipeline):
    response = pipeline.send(pipeline.alice, b"to=bob", {"content-type": "application/x-www-form-urlencoded"})

    assert error_of(response, 415) == {
        "code": "UnsupportedMediaType",
        "message": "send the body as JSON, with content-type application/json",
    }


def test_an_inline_attachment_over_the_limit_is_refused(pipeline: Pipeline):
    content = base64.b64encode(b"\0" * (MAX_INLINE_ATTACHMENT_BYTES + 3)).decode()
    attachment = {"filename": "big.bin", "content_base64": content}

    response = pipeline.send(pipeline.alice, {"to": [BOB], "attachments": [attachment]})

    assert error_of(response, 422)["message"] == (
        "body.attachments.0.content_base64: String should have at most 5592409 characters"
    )
    assert nothing_sent(pipeline)


def test_a_composed_message_over_40_mb_is_refused(pipeline: Pipeline):
    # Given eleven uploads of 4 MB, each within the upload limit
    chunk = b"\x89" * MAX_INLINE_ATTACHMENT_BYTES
    ids = [pipeline.upload(pipeline.alice, f"part{i}.bin", chunk, OCTETS).json()["id"] for i in range(11)]

    # When alice sends them all in one message
    response = pipeline.send(pipeline.alice, {"to": [BOB], "upload_ids": ids})

    # Then the built message is too large for SES and nothing is queued
    refusal = error_of(response, 413)
    assert refusal["code"] == "MessageTooLarge"
    assert refusal["message"].endswith(f"bytes; the limit is {MAX_MESSAGE_BYTES}")
    assert nothing_sent(pipeline)


def test_an_upload_over_the_limit_is_refused(pipeline: Pipeline):
    too_big = b"\0" * (MAX_INLINE_ATTACHMENT_BYTES + 1)

    response = pipeline.upload(pipeline.alice, "big.bin", too_big, "application/octet-stream")

    assert error_of(response, 413) == {
        "code": "PayloadTooLarge",
        "message": "an upload holds at most 4194304 bytes",
    }


def test_line_breaks_in_an_upload_name_cannot_add_a_header(pipeline: Pipeline):
    # Given an upload whose name tries to smuggle a Bcc header in
    name = f"evil.pdf%0D%0ABcc:%20{EVE}"
    uploaded = pipeline.upload(pipeline.alice, name, b"%PDF", "application/pdf")

    # When it is sent
    sent = pipeline.send(pipeline.alice, {"to": [BOB], "upload_ids": [uploaded.json()["id"]]})
    pipeline.run()

    # Then the name lost its line break and the message has no Bcc header
    message = message_from_bytes(pipeline.raw(pipeline.alice, sent.json()["id"]), policy=policy.default)
    assert uploaded.json()["filename"] == f"evil.pdfBcc: {EVE}"
    assert message["Bcc"] is None
    assert [part.get_filename() for part in message.iter_attachments()] == [f"evil.pdfBcc: {EVE}"]
    assert pipeline.ses.outbox == []


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("garbage", "'garbage' is not a content type of the form type/subtype"),
        ("/", "'/' is not a content type of the form type/subtype"),
        ("/plain", "'/plain' is not a content type of the form type/subtype"),
        ("text/", "'text/' is not a content type of the form type/subtype"),
        ("a/b/c", "'a/b/c' is not a content type of the form type/subtype"),
        ("text/pl ain", "'text/pl ain' is not a content type of the form type/subtype"),
        (
            "multipart/mixed",
            "an attachment cannot be of type multipart/mixed; send it as application/octet-stream",
        ),
        (
            "Multipart/Form-Data; boundary=x",
            "an attachment cannot be of type multipart/form-data; send it as application/octet-stream",
        ),
        (
            "message/rfc822",
            "an attachment cannot be of type message/rfc822; send it as application/octet-stream",
        ),
    ],
)
def test_an_upload_whose_type_is_not_type_subtype_is_refused(pipeline: Pipeline, content_type, message):
    response = pipeline.upload(pipeline.alice, "a.txt", b"hi", content_type)

    assert error_of(response, 422) == {"code": "InvalidContentType", "message": message}
    stored = mail_aws.client("s3").list_objects_v2(Bucket=pipeline.aws.bucket.name, Prefix="uploads/")
    assert stored["KeyCount"] == 0


def test_an_upload_type_is_kept_without_its_parameters_in_lower_case(pipeline: Pipeline):
    # Given an upload whose type has a parameter and capitals
    uploaded = pipeline.upload(pipeline.alice, "notes.txt", b"hi", "Text/Plain; charset=utf-8")

    # When it is sent
    sent = pipeline.send(pipeline.alice, {"to": [BOB], "upload_ids": [uploaded.json()["id"]]})

    # Then the attachment part is text/plain
    message = message_from_bytes(pipeline.raw(pipeline.alice, sent.json()["id"]), policy=policy.default)
    assert uploaded.status == 201
    assert uploaded.json()["content_type"] == "text/plain"
    assert [part["Content-Type"].content_type for part in message.iter_attachments()] == ["text/plain"]


RAW = b"From: alice@demo.test\r\nTo: carol@example.org\r\nSubject: raw\r\n\r\nHello\r\n"


@pytest.mark.parametrize(
    ("raw", "status", "code", "message"),
    [
        (b"", 400, "InvalidRequest", "send the message as the body, with content-type message/rfc822"),
        (
            b"To: carol@example.org\r\n\r\nhi\r\n",
            400,
            "InvalidRequest",
            "a raw message needs exactly one From address",
        ),
        (
            b"From: alice@demo.test, bob@demo.test\r\nTo: carol@example.org\r\n\r\nhi\r\n",
            400,
            "InvalidRequest",
            "a raw message needs exactly one From address",
        ),
        (
            b"\x00\x01\x02 not mail",
            400,
            "InvalidRequest",
            "a raw message needs exactly one From address",
        ),
        (
            b"From: alice@demo.test\r\nSubject: x\r\n\r\nhi\r\n",
            400,
            "InvalidRequest",
            "the message names no recipient",
        ),
        (
            b"From: alice@demo.test\r\nTo: not-an-address\r\n\r\nhi\r\n",
            400,
            "InvalidRequest",
            "'not-an-address' is not a valid address: An email address must have an @-sign.",
        ),
        (
            b"From: alice@demo.test\r\nTo: " + ", ".join(OUTSIDE).encode() + b"\r\n\r\nhi\r\n",
            400,
            "InvalidRequest",
            "at most 50 recipients in one message",
        ),
        (
            RAW.replace(b"From: alice", b"From: bob"),
            403,
            "ForbiddenSender",
            "this account cannot send as bob@demo.test",
        ),
    ],
    ids=["empty", "no From", "two From", "garbage", "no rcpt", "bad rcpt", "51 rcpts", "bob's From"],
)
def test_a_bad_raw_message_is_refused_with_a_reason(pipeline: Pipeline, raw, status, code, message):
    response = pipeline.send_raw(pipeline.alice, raw)

    assert error_of(response, status) == {"code": code, "message": message}
    assert nothing_sent(pipeline)


def test_a_raw_message_over_40_mb_is_refused(pipeline: Pipeline):
    raw = RAW + b"x" * MAX_MESSAGE_BYTES

    response = pipeline.send_raw(pipeline.alice, raw)

    refusal = error_of(response, 413)
    assert refusal == {"code": "MessageTooLarge", "message": f"the message is {len(raw)} bytes"}
    assert nothing_sent(pipeline)


def test_a_raw_message_goes_out_without_its_bcc_lines(pipeline: Pipeline):
    # Given a raw message with a folded Bcc header
    raw = (
        b"From: alice@demo.test\r\nTo: carol@example.org\r\nBcc: bob@demo.test,\r\n eve@example.com\r\n"
        b"Subject: Caf\xc3\xa9\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCaf\xc3\xa9 cr\xc3\xa8me\r\n"
    )

    # When alice sends it
    response = pipeline.send_raw(pipeline.alice, raw)
    pipeline.run()

    # Then all three get it, and only the Bcc lines are gone from the bytes
    without_bcc = raw.replace(b"Bcc: bob@demo.test,\r\n eve@example.com\r\n", b"")
    [received] = pipeline.listing(pipeline.bob, "inbox")
    assert response.status == 202
    assert response.json()["recipients"] == {"carol@example.org": "queued", BOB: "queued", EVE: "queued"}
    assert pipeline.raw(pipeline.alice, response.json()["id"]) == without_bcc
    assert pipeline.raw(pipeline.bob, received["id"]) == without_bcc
    assert [(m["to"], m["sha256"]) for m in pipeline.ses.outbox] == [
        (["carol@example.org", EVE], hashlib.sha256(without_bcc).hexdigest())
    ]


def test_an_8bit_raw_message_is_stored_byte_for_byte(pipeline: Pipeline):
    # Given a raw message in Latin-1, which is not UTF-8
    raw = (
        b"From: alice@demo.test\r\nTo: bob@demo.test\r\nSubject: caf\xe9\r\n"
        b"Content-Type: text/plain; charset=latin-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncr\xe8me\r\n"
    )

    # When alice sends it to bob
    response = pipeline.send_raw(pipeline.alice, raw)
    pipeline.run()

    # Then it is accepted (not a 500 from decoding the body as UTF-8) and arrives unchanged
    [received] = pipeline.listing(pipeline.bob, "inbox")
    assert response.status == 202
    assert pipeline.raw(pipeline.bob, received["id"]) == raw
    assert pipeline.message(pipeline.bob, received["id"])["text"] == "cr\xe8me\r\n"


def test_without_a_token_nothing_is_sent(pipeline: Pipeline):
    response = pipeline.send(None, {"to": [BOB]})

    assert error_of(response, 401) == {"code": "Unauthorized", "message": "the token names no account"}
    assert nothing_sent(pipeline)


def test_a_malformed_idempotency_key_is_refused(pipeline: Pipeline):
    response = pipeline.send(pipeline.alice, {"to": [BOB]}, {"idempotency-key": "two words"})

    assert error_of(response, 422)["message"] == (
        "header.idempotency-key: String should match pattern '^[\\x21-\\x7e]+$'"
    )
    assert nothing_sent(pipeline)
