"""Requests a hostile or careless client sends, answered 4xx with a JSON error."""

from __future__ import annotations

from tests.integration.helpers import deliver


def test_deeply_nested_json_is_a_400_not_a_500(aws):
    bob = aws.account("bob@demo.test")

    response = aws.api("POST", "/mailboxes", bob, body=b"[" * 5000)

    assert response.status == 400
    assert response.json()["error"]["message"] == "the JSON body nests too deeply"


def test_suppression_can_be_removed_by_its_url_encoded_address(aws):
    from mailcore.delivery import suppression_key

    bob = aws.account("bob@demo.test")
    pk, sk = suppression_key(bob, "bounce@simulator.amazonses.com")
    aws.table.put(
        {
            "pk": pk,
            "sk": sk,
            "kind": "suppression",
            "address": "bounce@simulator.amazonses.com",
            "reason": "bounced",
            "created_at": "2026-03-02T10:00:00Z",
        }
    )

    response = aws.api("DELETE", "/suppressions/bounce%40simulator.amazonses.com", bob)

    assert response.status == 200
    assert response.json() == {"address": "bounce@simulator.amazonses.com", "suppressed": False}
    assert aws.api("GET", "/suppressions", bob).json() == {"suppressions": []}


def test_nul_in_a_subject_is_refused(aws):
    bob = aws.account("bob@demo.test")

    response = aws.api("POST", "/outbox", bob, body={"to": ["alice@demo.test"], "subject": "nul\u0000byte"})

    assert response.status == 422
    assert "control characters" in response.json()["error"]["message"]


def test_recipients_differing_by_case_are_one_recipient(aws):
    bob = aws.account("bob@demo.test")
    body = {"to": ["alice@demo.test"], "bcc": ["ALICE@demo.test"], "subject": "once"}

    response = aws.api("POST", "/outbox", bob, body=body)

    assert response.status == 202
    assert response.json()["recipients"] == {"alice@demo.test": "queued"}


def test_received_mail_cannot_be_moved_into_drafts(aws):
    deliver(aws)
    bob = aws.account("bob@demo.test")
    message_id = aws.api("GET", "/mailboxes/inbox/messages", bob).json()["messages"][0]["id"]

    response = aws.api("PATCH", f"/messages/{message_id}", bob, body={"mailbox_id": "drafts"})

    assert response.status == 409
    assert response.json()["error"]["code"] == "Conflict"


def test_a_json_body_that_is_not_utf8_is_a_400(aws):
    bob = aws.account("bob@demo.test")
    latin1 = '{"name": "caf\u00e9"}'.encode("latin-1")

    response = aws.api("POST", "/mailboxes", bob, body=latin1)

    assert response.status == 400
    assert response.json()["error"] == {"code": "InvalidRequest", "message": "the JSON body is not UTF-8"}


def test_a_json_number_too_long_to_read_is_a_400(aws):
    bob = aws.account("bob@demo.test")

    response = aws.api("POST", "/mailboxes", bob, body=b'{"name": 1' + b"0" * 5000 + b"}")

    assert response.status == 400
    assert response.json()["error"] == {
        "code": "InvalidRequest",
        "message": "the JSON body holds a number too long to read",
    }
