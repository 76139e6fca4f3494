"""Mailbox routes: list, create, rename, delete, with the counts they report."""

from __future__ import annotations

from tests.integration.helpers import (
    counts,
    deliver,
    emptied_region,  # noqa: F401 - this module's `aws`
    error_of,
    message,
    only_id,
)

SYSTEM = [
    {"id": "drafts", "name": "Drafts", "role": "drafts", "total": 0, "unread": 0},
    {"id": "inbox", "name": "Inbox", "role": "inbox", "total": 0, "unread": 0},
    {"id": "junk", "name": "Junk", "role": "junk", "total": 0, "unread": 0},
    {"id": "sent", "name": "Sent", "role": "sent", "total": 0, "unread": 0},
    {"id": "trash", "name": "Trash", "role": "trash", "total": 0, "unread": 0},
]


def create(aws, account: str, name: str) -> str:
    response = aws.api("POST", "/mailboxes", account, {"name": name})
    assert response.status == 201, response.body
    return response.json()["id"]


def test_a_new_account_has_the_system_mailboxes(aws, bob):
    response = aws.api("GET", "/mailboxes", bob)

    assert response.status == 200
    assert response.json() == {"mailboxes": SYSTEM}


def test_create_mailbox(aws, bob):
    response = aws.api("POST", "/mailboxes", bob, {"name": "Receipts"})

    assert response.status == 201
    created = response.json()
    assert created == {"id": created["id"], "name": "Receipts", "role": None, "total": 0, "unread": 0}
    assert created["id"].isalnum()
    assert aws.api("GET", "/mailboxes", bob).json()["mailboxes"] == sorted(
        [*SYSTEM, created], key=lambda m: m["id"]
    )


def test_mailbox_names_are_unique_whatever_the_case(aws, bob):
    create(aws, bob, "Receipts")

    response = aws.api("POST", "/mailboxes", bob, {"name": "receipts"})

    assert response.status == 409
    assert error_of(response) == {"code": "Conflict", "message": "a mailbox named Receipts exists"}


def test_system_mailbox_names_are_taken(aws, bob):
    response = aws.api("POST", "/mailboxes", bob, {"name": " inbox "})

    assert response.status == 409
    assert error_of(response)["message"] == "inbox is the name of a system mailbox"


def test_another_account_may_use_the_same_name(aws, alice, bob):
    create(aws, bob, "Receipts")

    assert aws.api("POST", "/mailboxes", alice, {"name": "Receipts"}).status == 201


def test_rename_mailbox(aws, bob):
    mailbox_id = create(aws, bob, "Receipts")

    response = aws.api("PATCH", f"/mailboxes/{mailbox_id}", bob, {"name": "Invoices"})

    assert response.status == 200
    assert response.json() == {"id": mailbox_id, "name": "Invoices", "role": None, "total": 0, "unread": 0}
    names = [m["name"] for m in aws.api("GET", "/mailboxes", bob).json()["mailboxes"]]
    assert "Invoices" in names and "Receipts" not in names


def test_rename_to_its_own_name_in_another_case(aws, bob):
    mailbox_id = create(aws, bob, "receipts")

    response = aws.api("PATCH", f"/mailboxes/{mailbox_id}", bob, {"name": "Receipts"})

    assert (response.status, response.json()["name"]) == (200, "Receipts")


def test_rename_to_a_name_in_use_is_refused(aws, bob):
    create(aws, bob, "Receipts")
    mailbox_id = create(aws, bob, "Invoices")

    response = aws.api("PATCH", f"/mailboxes/{mailbox_id}", bob, {"name": "RECEIPTS"})

    assert response.status == 409
    assert error_of(response)["code"] == "Conflict"


def test_system_mailboxes_keep_their_names(aws, bob):
    response = aws.api("PATCH", "/mailboxes/inbox", bob, {"name": "Incoming"})

    assert response.status == 409
    assert error_of(response) == {
        "code": "Conflict",
        "message": "Inbox is a system mailbox and keeps its name",
    }
    assert aws.api("GET", "/mailboxes", bob).json() == {"mailboxes": SYSTEM}


def test_delete_empty_mailbox(aws, bob):
    mailbox_id = create(aws, bob, "Receipts")

    response = aws.api("DELETE", f"/mailboxes/{mailbox_id}", bob)

    assert response.status == 200
    assert response.json() == {"id": mailbox_id, "deleted": True, "mailbox_id": None}
    assert aws.api("GET", "/mailboxes", bob).json() == {"mailboxes": SYSTEM}
    assert aws.api("GET", f"/mailboxes/{mailbox_id}/messages", bob).status == 404


def test_system_mailboxes_cannot_be_deleted(aws, bob):
    for mailbox_id in ("inbox", "junk", "trash", "sent", "drafts"):
        response = aws.api("DELETE", f"/mailboxes/{mailbox_id}", bob)

        assert response.status == 409
        assert error_of(response)["message"].endswith("is a system mailbox and cannot be deleted")
    assert aws.api("GET", "/mailboxes", bob).json() == {"mailboxes": SYSTEM}


def test_mailbox_holding_messages_cannot_be_deleted(aws, bob):
    # Given a mailbox with one message in it
    mailbox_id = create(aws, bob, "Receipts")
    deliver(aws)
    aws.api("PATCH", f"/messages/{only_id(aws, bob)}", bob, {"mailbox_id": mailbox_id})

    response = aws.api("DELETE", f"/mailboxes/{mailbox_id}", bob)

    assert response.status == 409
    assert error_of(response) == {
        "code": "Conflict",
        "message": "the mailbox still holds messages; move or delete them first",
    }
    assert counts(aws, bob)[mailbox_id] == (1, 1)


def test_counts_follow_seen_move_and_delete(aws, bob):
    # Given two unread messages in the inbox and an empty folder
    folder = create(aws, bob, "Receipts")
    deliver(aws, message("One", "one@example.org"))
    deliver(aws, message("Two", "two@example.org"))
    first, second = (m["id"] for m in aws.api("GET", "/mailboxes/inbox/messages", bob).json()["messages"])
    assert counts(aws, bob)["inbox"] == (2, 2)

    aws.api("PATCH", f"/messages/{first}", bob, {"seen": True})
    assert counts(aws, bob)["inbox"] == (2, 1)

    aws.api("PATCH", f"/messages/{first}", bob, {"seen": False})
    assert counts(aws, bob)["inbox"] == (2, 2)

    aws.api("PATCH", f"/messages/{second}", bob, {"mailbox_id": folder, "seen": True})
    assert (counts(aws, bob)["inbox"], counts(aws, bob)[folder]) == ((1, 1), (1, 0))

    aws.api("DELETE", f"/messages/{first}", bob)
    assert (counts(aws, bob)["inbox"], counts(aws, bob)["trash"]) == ((0, 0), (1, 1))

    aws.api("DELETE", f"/messages/{first}", bob)
    aws.api("DELETE", f"/messages/{second}", bob)
    assert counts(aws, bob) == {
        "drafts": (0, 0),
        "inbox": (0, 0),
        "junk": (0, 0),
        "sent": (0, 0),
        "trash": (1, 0),
        folder: (0, 0),
    }
