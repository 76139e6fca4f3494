"""Drafts: saved in Drafts, changed, read back, listed, deleted, and sent from there to Sent."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from mailcore.repository import message_keys
from tests.integration.send_support import ALICE, BOB, Pipeline, receive_from_outside, start

DRAFT = {"to": [BOB], "subject": "Party", "text": "Saturday?"}


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


def new_draft(pipeline: Pipeline, body: dict | None = None) -> str:
    created = pipeline.aws.api("POST", "/drafts", pipeline.alice, body or DRAFT)
    assert created.status == 201, created.body
    return created.json()["id"]


def test_a_draft_is_saved_read_back_and_listed(pipeline: Pipeline):
    created = pipeline.aws.api("POST", "/drafts", pipeline.alice, DRAFT)
    draft_id = created.json()["id"]

    read = pipeline.aws.api("GET", f"/drafts/{draft_id}", pipeline.alice)
    listed = pipeline.listing(pipeline.alice, "drafts")

    assert created.status == 201
    assert created.json() == {"id": draft_id, "mailbox_id": "drafts"}
    assert read.json() == {
        "from": None,
        "to": [BOB],
        "cc": [],
        "bcc": [],
        "reply_to": [],
        "subject": "Party",
        "text": "Saturday?",
        "html": None,
        "in_reply_to": None,
        "attachments": [],
        "upload_ids": [],
    }
    assert [(m["id"], m["subject"], m["seen"], m["send_status"]) for m in listed] == [
        (draft_id, "Party", True, None)
    ]
    assert pipeline.message(pipeline.alice, draft_id)["from"] == [{"name": "", "address": ALICE}]
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


def test_a_draft_is_updated_in_place(pipeline: Pipeline):
    draft_id = new_draft(pipeline)
    changed = {**DRAFT, "subject": "Party!", "cc": ["carol@example.org"]}

    updated = pipeline.aws.api("PUT", f"/drafts/{draft_id}", pipeline.alice, changed)

    read = pipeline.aws.api("GET", f"/drafts/{draft_id}", pipeline.alice).json()
    listed = pipeline.listing(pipeline.alice, "drafts")
    assert updated.status == 200
    assert updated.json() == {"id": draft_id, "mailbox_id": "drafts"}
    assert (read["subject"], read["cc"]) == ("Party!", ["carol@example.org"])
    assert [(m["id"], m["subject"]) for m in listed] == [(draft_id, "Party!")]
    assert pipeline.message(pipeline.alice, draft_id)["cc"] == [{"name": "", "address": "carol@example.org"}]


def test_a_draft_is_deleted(pipeline: Pipeline):
    draft_id = new_draft(pipeline)

    deleted = pipeline.aws.api("DELETE", f"/drafts/{draft_id}", pipeline.alice)

    assert deleted.status == 200
    assert deleted.json() == {"id": draft_id, "deleted": True}
    assert pipeline.aws.api("GET", f"/drafts/{draft_id}", pipeline.alice).status == 404
    assert pipeline.listing(pipeline.alice, "drafts") == []


def test_sending_a_draft_moves_it_from_drafts_to_sent(pipeline: Pipeline):
    # Given a saved draft
    draft_id = new_draft(pipeline)

    # When alice sends it and delivery runs
    sent = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)
    pipeline.run()

    # Then it left Drafts, is in Sent as delivered, and bob has it
    message_id = sent.json()["id"]
    assert sent.status == 202
    assert sent.json()["recipients"] == {BOB: "queued"}
    assert pipeline.listing(pipeline.alice, "drafts") == []
    assert [(m["id"], m["subject"]) for m in pipeline.listing(pipeline.alice, "sent")] == [
        (message_id, "Party")
    ]
    assert pipeline.message(pipeline.alice, message_id)["delivery"][BOB]["status"] == "delivered"
    assert [m["subject"] for m in pipeline.listing(pipeline.bob, "inbox")] == ["Party"]
    assert pipeline.aws.api("GET", f"/drafts/{draft_id}", pipeline.alice).status == 404


def test_a_draft_sent_twice_goes_out_once(pipeline: Pipeline):
    draft_id = new_draft(pipeline)

    first = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)
    second = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)
    pipeline.run()

    assert first.status == 202
    assert second.status == 404
    assert second.json()["error"]["message"] == f"no draft {draft_id}"
    assert len(pipeline.listing(pipeline.bob, "inbox")) == 1


def test_a_draft_without_recipients_is_kept_but_cannot_be_sent(pipeline: Pipeline):
    draft_id = new_draft(pipeline, {"subject": "Ideas", "text": "..."})

    sent = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)

    assert sent.status == 400
    assert sent.json()["error"]["message"] == "give at least one recipient in to, cc or bcc"
    assert [m["id"] for m in pipeline.listing(pipeline.alice, "drafts")] == [draft_id]


def test_an_unknown_draft_is_not_found(pipeline: Pipeline):
    for method, path in [("GET", "/drafts/abc"), ("DELETE", "/drafts/abc"), ("POST", "/drafts/abc/send")]:
        response = pipeline.aws.api(method, path, pipeline.alice)
        assert response.status == 404
        assert response.json() == {"error": {"code": "NotFound", "message": "no draft abc"}}
    updated = pipeline.aws.api("PUT", "/drafts/abc", pipeline.alice, DRAFT)
    assert updated.status == 404
    assert pipeline.listing(pipeline.alice, "drafts") == []


def test_a_received_message_is_not_a_draft(pipeline: Pipeline):
    pipeline.send(pipeline.bob, {"to": [ALICE], "subject": "Hi"})
    pipeline.run()
    [received] = pipeline.listing(pipeline.alice, "inbox")

    for method, path in [("GET", "/drafts/{id}"), ("DELETE", "/drafts/{id}"), ("POST", "/drafts/{id}/send")]:
        assert pipeline.aws.api(method, path.format(id=received["id"]), pipeline.alice).status == 404
    assert [m["id"] for m in pipeline.listing(pipeline.alice, "inbox")] == [received["id"]]


@pytest.mark.parametrize(
    "line_break", ["\u2028", "\u2029", "\x85", "\v"], ids=["U+2028", "U+2029", "NEL", "VT"]
)
def test_a_draft_whose_subject_has_a_line_break_is_refused_on_save(pipeline: Pipeline, line_break: str):
    # Given a saved draft
    draft_id = new_draft(pipeline)
    broken = {**DRAFT, "subject": f"Party{line_break}Bcc: eve@example.com"}

    # When alice creates another, or changes it, with a line break in the subject
    created = pipeline.aws.api("POST", "/drafts", pipeline.alice, broken)
    updated = pipeline.aws.api("PUT", f"/drafts/{draft_id}", pipeline.alice, broken)

    # Then both are refused, and the saved draft is still the one that can be sent
    for refused in (created, updated):
        assert refused.status == 422
        assert refused.json()["error"]["message"] == (
            "body.subject: Value error, header fields cannot contain CR, LF or other control characters"
        )
    assert [m["subject"] for m in pipeline.listing(pipeline.alice, "drafts")] == ["Party"]
    assert pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice).status == 202


def stale_draft(pipeline: Pipeline) -> str:
    """A draft as stored before line separators in its subject were refused."""
    draft_id = new_draft(pipeline)
    item = pipeline.aws.table.get(**message_keys(pipeline.alice, draft_id))
    assert item is not None
    item["draft"]["subject"] = "Party\u2028time"
    pipeline.aws.table.put(item)
    return draft_id


def test_a_draft_saved_before_the_checks_is_refused_until_saved_again(pipeline: Pipeline):
    # Given a draft stored when a line separator in the subject was still let through
    draft_id = stale_draft(pipeline)

    # When alice reads it and sends it
    read = pipeline.aws.api("GET", f"/drafts/{draft_id}", pipeline.alice)
    sent = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)

    # Then both say why (not a 500), and once saved again it can be sent
    unsendable = {
        "error": {
            "code": "UnsendableDraft",
            "message": f"draft {draft_id} cannot be sent as saved; save it again: "
            "subject: Value error, header fields cannot contain CR, LF or other control characters",
        }
    }
    assert (read.status, read.json()) == (422, unsendable)
    assert (sent.status, sent.json()) == (422, unsendable)
    assert pipeline.aws.api("PUT", f"/drafts/{draft_id}", pipeline.alice, DRAFT).status == 200
    assert pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice).status == 202


def test_a_draft_saved_before_the_checks_can_be_deleted(pipeline: Pipeline):
    draft_id = stale_draft(pipeline)

    deleted = pipeline.aws.api("DELETE", f"/drafts/{draft_id}", pipeline.alice)

    assert (deleted.status, deleted.json()) == (200, {"id": draft_id, "deleted": True})
    assert pipeline.listing(pipeline.alice, "drafts") == []


def test_a_draft_answering_mail_with_a_malformed_message_id_is_sent(pipeline: Pipeline):
    # Given outside mail whose Message-ID holds a line separator, and alice's draft answering it
    raw = (
        "From: carol@example.org\r\nTo: alice@demo.test\r\nSubject: Plan\r\n"
        "Message-ID: <plan\u2028x@example.org>\r\n\r\nHello\r\n"
    ).encode()
    receive_from_outside(pipeline.aws, raw, "carol@example.org", [ALICE])
    [plan] = pipeline.listing(pipeline.alice, "inbox")
    draft_id = new_draft(
        pipeline, {"to": ["carol@example.org"], "subject": "Re: Plan", "in_reply_to": plan["id"]}
    )

    # When alice sends the draft
    sent = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)

    # Then it goes out, naming no thread rather than the malformed id
    headers = message_from_bytes(pipeline.raw(pipeline.alice, sent.json()["id"]), policy=policy.default)
    assert sent.status == 202, sent.body
    assert (headers["In-Reply-To"], headers["References"]) == (None, None)
