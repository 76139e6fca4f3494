"""Where a message may be filed, how changes are typed, and which mailbox names are refused."""

from __future__ import annotations

import pytest

from tests.integration.helpers import (
    deliver,
    emptied_region,  # noqa: F401 - this module's `aws`
    error_of,
    only_id,
)

DRAFT = {"to": ["alice@demo.test"], "subject": "Not yet", "text": "Half written."}


def save_draft(aws, account: str) -> str:
    response = aws.api("POST", "/drafts", account, DRAFT)
    assert response.status == 201, response.body
    return response.json()["id"]


def move(aws, account: str, message_id: str, mailbox_id: str):
    return aws.api("PATCH", f"/messages/{message_id}", account, {"mailbox_id": mailbox_id})


@pytest.mark.parametrize("target", ["inbox", "sent", "junk"])
def test_a_draft_cannot_leave_drafts_except_for_trash(aws, bob, target):
    draft_id = save_draft(aws, bob)

    response = move(aws, bob, draft_id, target)

    assert response.status == 409
    stays = "a draft stays in Drafts until it is sent; it can only go to Trash"
    assert error_of(response)["message"] == stays
    assert aws.api("GET", f"/drafts/{draft_id}", bob).status == 200


def test_a_draft_in_trash_can_go_back_to_drafts(aws, bob):
    draft_id = save_draft(aws, bob)

    trashed = aws.api("DELETE", f"/messages/{draft_id}", bob)
    restored = move(aws, bob, draft_id, "drafts")

    assert trashed.json() == {"id": draft_id, "deleted": False, "mailbox_id": "trash"}
    assert restored.status == 200
    assert aws.api("GET", f"/drafts/{draft_id}", bob).json()["subject"] == "Not yet"


def test_received_mail_cannot_be_filed_in_sent(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    response = move(aws, bob, message_id, "sent")

    assert response.status == 409
    assert error_of(response)["message"] == "Sent holds only messages sent from this account"
    assert only_id(aws, bob) == message_id


def test_a_sent_copy_can_leave_sent_and_come_back(aws, bob):
    sent = aws.api("POST", "/outbox", bob, {"to": ["carol@example.org"], "subject": "Out", "text": "x"})
    message_id = sent.json()["id"]

    out = move(aws, bob, message_id, "inbox")
    back = move(aws, bob, message_id, "sent")

    assert (out.status, back.status) == (200, 200)
    assert back.json()["mailbox_id"] == "sent"


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, "false"])
def test_seen_and_flagged_take_only_json_booleans(aws, bob, value):
    deliver(aws)
    message_id = only_id(aws, bob)

    seen = aws.api("PATCH", f"/messages/{message_id}", bob, {"seen": value})
    flagged = aws.api("PATCH", f"/messages/{message_id}", bob, {"flagged": value, "seen": True})

    assert (seen.status, flagged.status) == (422, 422)
    assert error_of(seen)["code"] == "InvalidRequest"
    assert only_id(aws, bob) == message_id
    listed = aws.api("GET", "/mailboxes/inbox/messages", bob).json()["messages"][0]
    assert (listed["seen"], listed["flagged"]) == (False, False)


@pytest.mark.parametrize(
    ("name", "code_point"),
    [
        ("In\u200bbox", "U+200B"),
        ("evil\u202egnp.exe", "U+202E"),
        ("two\u2028lines", "U+2028"),
        ("next\u0085line", "U+0085"),
        ("private\ue000use", "U+E000"),
    ],
)
def test_mailbox_names_with_unseen_characters_are_refused(aws, bob, name, code_point):
    response = aws.api("POST", "/mailboxes", bob, {"name": name})

    assert response.status == 422
    assert f"a mailbox name cannot contain {code_point}" in error_of(response)["message"]


def test_look_alike_mailbox_names_are_one_name(aws, bob):
    composed = aws.api("POST", "/mailboxes", bob, {"name": "caf\u00e9"})
    decomposed = aws.api("POST", "/mailboxes", bob, {"name": "cafe\u0301"})
    ligature = aws.api("POST", "/mailboxes", bob, {"name": "\ufb01les"})
    plain = aws.api("POST", "/mailboxes", bob, {"name": "files"})

    assert (composed.status, decomposed.status) == (201, 409)
    assert error_of(decomposed)["message"] == "a mailbox named caf\u00e9 exists"
    assert (ligature.status, plain.status) == (201, 409)


def test_a_decomposed_name_is_stored_composed(aws, bob):
    created = aws.api("POST", "/mailboxes", bob, {"name": " cafe\u0301 "})

    assert created.status == 201
    assert created.json()["name"] == "caf\u00e9"
