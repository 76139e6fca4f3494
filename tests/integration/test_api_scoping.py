"""Every call is scoped to the caller: alice, holding bob's ids, reads and changes nothing of his."""

from __future__ import annotations

from typing import Any

import pytest

from mailcore import aws as mail_aws
from mailcore.repository import account_pk
from tests.integration.helpers import error_of

# (method, path, body); {message}, {mailbox} and {cursor} are bob's, {own} is alice's message.
ROUTES_WITH_BOBS_IDS = [
    ("PATCH", "/mailboxes/{mailbox}", {"name": "Taken over"}),
    ("DELETE", "/mailboxes/{mailbox}", None),
    ("GET", "/mailboxes/{mailbox}/messages", None),
    ("GET", "/mailboxes/{mailbox}/messages?limit=1&cursor={cursor}", None),
    ("GET", "/messages/{message}", None),
    ("PATCH", "/messages/{message}", {"seen": True, "flagged": True}),
    ("PATCH", "/messages/{message}", {"mailbox_id": "trash"}),
    ("PATCH", "/messages/{own}", {"mailbox_id": "{mailbox}"}),
    ("DELETE", "/messages/{message}", None),
    ("DELETE", "/messages/{message}?permanent=true", None),
    ("GET", "/messages/{message}/raw", None),
    ("GET", "/messages/{message}/attachments/0", None),
]


def fill(template: Any, world) -> Any:
    ids = {"message": world.bob_message, "mailbox": world.bob_mailbox, "cursor": world.bob_cursor}
    if isinstance(template, str):
        return template.format(own=world.alice_message, **ids)
    if isinstance(template, dict):
        return {key: fill(value, world) for key, value in template.items()}
    return template


def everything_of(world, account: str) -> list[dict[str, Any]]:
    """Every item stored under the account: what every listing, count and read is made of."""
    return mail_aws.client("dynamodb").query(
        TableName=world.aws.table.name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": account_pk(account)}},
    )["Items"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES_WITH_BOBS_IDS)
def test_other_accounts_ids_are_not_found(world, method, path, body):
    # Given what bob and alice have
    bobs_before, alices_before = everything_of(world, world.bob), everything_of(world, world.alice)

    # When alice calls with bob's ids
    response = world.aws.api(method, fill(path, world), world.alice, fill(body, world))

    # Then she is told nothing exists, and nothing of either changed
    assert response.status == 404, response.body
    assert error_of(response)["code"] == "NotFound"
    assert everything_of(world, world.bob) == bobs_before
    assert everything_of(world, world.alice) == alices_before


def test_listing_mailboxes_shows_only_the_callers(world):
    mailboxes = world.aws.api("GET", "/mailboxes", world.alice).json()["mailboxes"]

    assert world.bob_mailbox not in [m["id"] for m in mailboxes]
    assert {m["id"]: (m["total"], m["unread"]) for m in mailboxes}["inbox"] == (1, 1)


def test_creating_a_mailbox_does_not_see_other_accounts_names(world):
    bobs_before = everything_of(world, world.bob)

    response = world.aws.api("POST", "/mailboxes", world.alice, {"name": "Private"})

    assert response.status == 201
    assert everything_of(world, world.bob) == bobs_before
    world.aws.api("DELETE", f"/mailboxes/{response.json()['id']}", world.alice)


def test_another_accounts_cursor_is_refused_on_the_callers_mailbox(world):
    response = world.aws.api("GET", f"/mailboxes/inbox/messages?cursor={world.bob_cursor}", world.alice)

    assert response.status == 400
    assert error_of(response) == {
        "code": "InvalidRequest",
        "message": "cursor belongs to another listing",
    }


def test_bobs_ids_work_for_bob(world):
    """The ids used above are real: the 404s come from scoping, not from bad ids."""
    aws = world.aws

    assert aws.api("GET", f"/messages/{world.bob_message}/attachments/0", world.bob).status == 200
    assert aws.api("GET", f"/mailboxes/{world.bob_mailbox}/messages", world.bob).json()["messages"]
    page = aws.api("GET", f"/mailboxes/inbox/messages?limit=1&cursor={world.bob_cursor}", world.bob)
    assert len(page.json()["messages"]) == 1
