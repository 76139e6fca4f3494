"""One account cannot send as another, nor see or use what the other sent, drafted or uploaded."""

from __future__ import annotations

import pytest

from tests.integration.send_support import BOB, Pipeline, start

CAROL = "carol@example.org"
RAW_AS_BOB = b"From: bob@demo.test\r\nTo: carol@example.org\r\nSubject: not me\r\n\r\nhi\r\n"


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


@pytest.fixture
def alices_sent(pipeline: Pipeline) -> str:
    """A message alice sent to an outside address, with an attachment."""
    upload = pipeline.upload(pipeline.alice, "plan.txt", b"secret plan", "text/plain").json()["id"]
    sent = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Plan", "upload_ids": [upload]})
    pipeline.run()
    return sent.json()["id"]


def test_alice_cannot_send_as_bob(pipeline: Pipeline):
    composed = pipeline.send(pipeline.alice, {"from": BOB, "to": ["carol@example.org"]})
    raw = pipeline.send_raw(pipeline.alice, RAW_AS_BOB)

    for refused in (composed, raw):
        assert refused.status == 403
        assert refused.json() == {
            "error": {"code": "ForbiddenSender", "message": "this account cannot send as bob@demo.test"}
        }
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/messages/{id}"),
        ("GET", "/messages/{id}/raw"),
        ("GET", "/messages/{id}/attachments/0"),
        ("PATCH", "/messages/{id}"),
        ("DELETE", "/messages/{id}"),
    ],
)
def test_bob_cannot_read_or_touch_alices_sent_message(pipeline: Pipeline, alices_sent: str, method, path):
    body = {"seen": False} if method == "PATCH" else None

    response = pipeline.aws.api(method, path.format(id=alices_sent), pipeline.bob, body)

    assert response.status == 404
    assert response.json() == {"error": {"code": "NotFound", "message": f"no message {alices_sent}"}}
    assert pipeline.message(pipeline.alice, alices_sent)["mailbox_id"] == "sent"


def test_bobs_sent_mailbox_does_not_list_alices_mail(pipeline: Pipeline, alices_sent: str):
    assert pipeline.listing(pipeline.bob, "sent") == []
    assert [m["id"] for m in pipeline.listing(pipeline.alice, "sent")] == [alices_sent]


def test_bob_cannot_reply_to_alices_message_by_its_id(pipeline: Pipeline, alices_sent: str):
    response = pipeline.send(pipeline.bob, {"to": ["carol@example.org"], "in_reply_to": alices_sent})

    assert response.status == 404
    assert response.json()["error"]["message"] == f"no message {alices_sent} to reply to"


def test_bob_cannot_attach_alices_upload(pipeline: Pipeline):
    upload = pipeline.upload(pipeline.alice, "plan.txt", b"secret plan", "text/plain").json()["id"]

    response = pipeline.send(pipeline.bob, {"to": ["carol@example.org"], "upload_ids": [upload]})

    assert response.status == 404
    assert response.json() == {"error": {"code": "NotFound", "message": f"no upload {upload}"}}
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/drafts/{id}", None),
        ("PUT", "/drafts/{id}", {"to": ["carol@example.org"], "subject": "mine now"}),
        ("DELETE", "/drafts/{id}", None),
        ("POST", "/drafts/{id}/send", None),
    ],
)
def test_bob_cannot_use_alices_draft(pipeline: Pipeline, method, path, body):
    created = pipeline.aws.api("POST", "/drafts", pipeline.alice, {"to": [BOB], "subject": "Surprise"})
    draft = created.json()["id"]

    response = pipeline.aws.api(method, path.format(id=draft), pipeline.bob, body)

    assert response.status == 404
    assert response.json() == {"error": {"code": "NotFound", "message": f"no draft {draft}"}}
    assert pipeline.aws.api("GET", f"/drafts/{draft}", pipeline.alice).json()["subject"] == "Surprise"
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


def test_bob_cannot_lift_alices_suppression(pipeline: Pipeline):
    # Given alice's suppression list holds an address that bounced
    pipeline.send(pipeline.alice, {"to": ["bounce@simulator.amazonses.com"]})
    pipeline.run()

    # When bob lists and deletes it
    listed = pipeline.suppressions(pipeline.bob)
    deleted = pipeline.aws.api("DELETE", "/suppressions/bounce@simulator.amazonses.com", pipeline.bob)

    # Then he sees nothing and changes nothing
    assert listed == []
    assert deleted.status == 404
    assert deleted.json()["error"]["message"] == "bounce@simulator.amazonses.com is not suppressed"
    assert [s["address"] for s in pipeline.suppressions(pipeline.alice)] == ["bounce@simulator.amazonses.com"]


def test_bob_cannot_name_alice_as_the_sender_of_a_raw_message(pipeline: Pipeline):
    raw = b"From: bob@demo.test\r\nSender: alice@demo.test\r\nTo: carol@example.org\r\n\r\nhi\r\n"

    refused = pipeline.send_raw(pipeline.bob, raw)

    assert refused.status == 403
    assert refused.json() == {
        "error": {"code": "ForbiddenSender", "message": "this account cannot send as alice@demo.test"}
    }
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


@pytest.mark.parametrize(
    "sender",
    [
        b"Sender: bob@demo.test, alice@demo.test\r\n",
        b"Sender: \r\n",
        b"Sender: bob@demo.test\r\nSender: x@y.z\r\n",
    ],
    ids=["two addresses", "empty", "two fields"],
)
def test_a_raw_sender_field_names_exactly_one_address(pipeline: Pipeline, sender: bytes):
    raw = b"From: bob@demo.test\r\n" + sender + b"To: carol@example.org\r\n\r\nhi\r\n"

    refused = pipeline.send_raw(pipeline.bob, raw)

    assert refused.status == 400
    assert refused.json() == {
        "error": {
            "code": "InvalidRequest",
            "message": "a raw message's Sender field names exactly one address",
        }
    }
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


def test_a_raw_message_may_name_the_accounts_own_address_as_sender(pipeline: Pipeline):
    raw = b"From: bob@demo.test\r\nSender: Bob <bob@demo.test>\r\nTo: carol@example.org\r\n\r\nhi\r\n"

    sent = pipeline.send_raw(pipeline.bob, raw)
    pipeline.run()

    assert sent.status == 202, sent.body
    assert pipeline.raw(pipeline.bob, sent.json()["id"]) == raw
    assert [m["from"] for m in pipeline.ses.outbox] == [BOB]
