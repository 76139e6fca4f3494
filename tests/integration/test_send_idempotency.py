"""An Idempotency-Key makes a retried send safe: one message, one queue entry, the same answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.http_api import http_event
from local.lambda_context import LocalContext
from mailcore import aws as mail_aws
from mailcore.outbound import Outbound
from tests.integration.send_support import ALICE, BOB, Pipeline, start

MESSAGE = {"to": [BOB, "carol@example.org"], "subject": "Invoice 42", "text": "Attached soon."}
RAW = b"From: alice@demo.test\r\nTo: carol@example.org\r\nSubject: raw\r\n\r\nHello\r\n"


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


def test_the_same_key_twice_sends_once_and_answers_the_same(pipeline: Pipeline):
    # Given a send that the client retries with the same key (the first answer was lost)
    key = {"idempotency-key": "invoice-42-attempt"}
    first = pipeline.send(pipeline.alice, MESSAGE, key)
    queued = pipeline.depth(pipeline.aws.resources.delivery_queue_url)
    second = pipeline.send(pipeline.alice, MESSAGE, key)

    # When everything queued is delivered
    pipeline.run()

    # Then one Sent copy, one queue message, one delivery each, and the same answer twice
    assert first.status == second.status == 202
    assert first.json() == second.json()
    assert queued == 1
    assert [m["id"] for m in pipeline.listing(pipeline.alice, "sent")] == [first.json()["id"]]
    assert len(pipeline.listing(pipeline.bob, "inbox")) == 1
    assert [m["to"] for m in pipeline.ses.outbox] == [["carol@example.org"]]


def test_the_same_key_with_another_body_is_refused(pipeline: Pipeline):
    key = {"idempotency-key": "invoice-42"}
    pipeline.send(pipeline.alice, MESSAGE, key)

    changed = pipeline.send(pipeline.alice, {**MESSAGE, "subject": "Invoice 43"}, key)

    assert changed.status == 422
    assert changed.json() == {
        "error": {
            "code": "IdempotencyKeyReused",
            "message": "this Idempotency-Key was used with a different request body",
        }
    }
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 1
    assert [m["subject"] for m in pipeline.listing(pipeline.alice, "sent")] == ["Invoice 42"]


def test_a_key_belongs_to_one_account(pipeline: Pipeline):
    key = {"idempotency-key": "monday-report"}

    by_alice = pipeline.send(pipeline.alice, {"to": ["carol@example.org"], "subject": "Report"}, key)
    by_bob = pipeline.send(pipeline.bob, {"to": ["carol@example.org"], "subject": "Report"}, key)
    pipeline.run()

    assert by_alice.status == by_bob.status == 202
    assert by_alice.json()["id"] != by_bob.json()["id"]
    assert sorted(m["from"] for m in pipeline.ses.outbox) == [ALICE, BOB]


def test_without_a_key_a_repeated_send_is_two_messages(pipeline: Pipeline):
    first = pipeline.send(pipeline.alice, MESSAGE)
    second = pipeline.send(pipeline.alice, MESSAGE)

    assert first.json()["id"] != second.json()["id"]
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 2


def test_a_raw_send_with_the_same_key_twice_sends_once(pipeline: Pipeline):
    headers = {"idempotency-key": "raw-1"}

    first = pipeline.send_raw(pipeline.alice, RAW, headers)
    second = pipeline.send_raw(pipeline.alice, RAW, headers)
    changed = pipeline.send_raw(pipeline.alice, RAW + b"PS\r\n", headers)
    pipeline.run()

    assert first.status == second.status == 202
    assert first.json() == second.json()
    assert changed.status == 422
    assert changed.json()["error"]["code"] == "IdempotencyKeyReused"
    assert len(pipeline.ses.outbox) == 1


def test_a_key_reused_after_the_message_was_delivered_answers_with_its_status(pipeline: Pipeline):
    # Given a keyed send that has been delivered
    key = {"idempotency-key": "late-retry"}
    first = pipeline.send(pipeline.alice, MESSAGE, key)
    pipeline.run()

    # When the client retries much later
    again = pipeline.send(pipeline.alice, MESSAGE, key)
    pipeline.run()

    # Then nothing is sent again
    assert again.status == 202
    assert again.json()["id"] == first.json()["id"]
    assert len(pipeline.ses.outbox) == 1
    assert len(pipeline.listing(pipeline.bob, "inbox")) == 1


class CutOff(BaseException):
    """What the Lambda runtime does at the timeout: the code stops, no handler runs."""


def stopped(*args, **kwargs):
    raise CutOff


class AtDeadline(LocalContext):
    def get_remaining_time_in_millis(self) -> int:
        return 0


def test_a_try_cut_off_by_the_timeout_does_not_hold_the_key(pipeline: Pipeline, monkeypatch):
    # Given a keyed send whose function is stopped by its timeout half-way
    from functions.api import handler as api_function

    headers = {"content-type": "application/json", "idempotency-key": "cut-off"}
    claims = {"custom:account_id": pipeline.alice}
    event = http_event("POST", "/outbox", headers, json.dumps(MESSAGE).encode(), claims)
    with monkeypatch.context() as patched:
        patched.setattr(Outbound, "send", stopped)
        with pytest.raises(CutOff):
            api_function.handler(event, AtDeadline("api"))

    # When the client retries with the same key
    retry = pipeline.send(pipeline.alice, MESSAGE, {"idempotency-key": "cut-off"})

    # Then the retry sends (rather than 409 until the key expires a day later)
    assert retry.status == 202, retry.body
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 1


def test_a_send_the_queue_refused_is_sent_when_retried_with_its_key(pipeline: Pipeline):
    # Given SQS refuses the first SendMessage
    refusals = [ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "later"}}, "SendMessage")]

    def refuse_once(**_: Any) -> None:
        if refusals:
            raise refusals.pop()

    mail_aws.client("sqs").meta.events.register("before-call.sqs.SendMessage", refuse_once)
    key = {"idempotency-key": "queue-hiccup"}

    # When the client sends, is told to try again, and retries with the same key
    first = pipeline.send(pipeline.alice, MESSAGE, key)
    retry = pipeline.send(pipeline.alice, MESSAGE, key)
    pipeline.run()

    # Then the first answer is a clear 503, and the retry is queued and delivered
    assert first.status == 503
    assert first.json() == {
        "error": {
            "code": "Storage",
            "message": "the message could not be queued and was not sent; try again",
        }
    }
    assert retry.status == 202
    assert len(pipeline.listing(pipeline.alice, "sent")) == 1
    assert len(pipeline.listing(pipeline.bob, "inbox")) == 1
    assert [m["to"] for m in pipeline.ses.outbox] == [["carol@example.org"]]


KEY_REUSED = {
    "error": {
        "code": "IdempotencyKeyReused",
        "message": "this Idempotency-Key was used with a different request body",
    }
}


def test_a_key_used_for_a_composed_send_is_refused_for_a_raw_one(pipeline: Pipeline):
    key = {"idempotency-key": "shared-key"}
    composed = pipeline.send(pipeline.alice, MESSAGE, key)

    raw = pipeline.send_raw(pipeline.alice, RAW, key)
    pipeline.run()

    assert composed.status == 202
    assert raw.status == 422
    assert raw.json() == KEY_REUSED
    assert [m["subject"] for m in pipeline.listing(pipeline.alice, "sent")] == ["Invoice 42"]
    assert [m["to"] for m in pipeline.ses.outbox] == [["carol@example.org"]]


def test_a_key_used_for_a_raw_send_is_refused_for_a_composed_one(pipeline: Pipeline):
    key = {"idempotency-key": "shared-key"}
    raw = pipeline.send_raw(pipeline.alice, RAW, key)

    composed = pipeline.send(pipeline.alice, MESSAGE, key)
    pipeline.run()

    assert raw.status == 202
    assert composed.status == 422
    assert composed.json() == KEY_REUSED
    assert [m["subject"] for m in pipeline.listing(pipeline.alice, "sent")] == ["raw"]
    assert pipeline.listing(pipeline.bob, "inbox") == []


def test_a_key_reused_on_the_other_route_after_a_day_sends_its_own_message(pipeline: Pipeline):
    # Given a composed send with a key, whose idempotency record has expired
    key = {"idempotency-key": "yesterday"}
    composed = pipeline.send(pipeline.alice, MESSAGE, key)
    forget_idempotency_records(pipeline)

    # When the same key comes with a raw message
    raw = pipeline.send_raw(pipeline.alice, RAW, key)
    pipeline.run()

    # Then the raw message is a message of its own, and is sent
    assert raw.status == 202
    assert raw.json()["id"] != composed.json()["id"]
    assert sorted(m["subject"] for m in pipeline.listing(pipeline.alice, "sent")) == ["Invoice 42", "raw"]
    assert len(pipeline.ses.outbox) == 2


def test_a_key_named_after_a_draft_does_not_stand_in_for_sending_it(pipeline: Pipeline):
    # Given a draft, and a composed send whose key happens to name it
    draft = pipeline.aws.api("POST", "/drafts", pipeline.alice, {"to": [BOB], "subject": "Draft"})
    draft_id = draft.json()["id"]
    composed = pipeline.send(pipeline.alice, MESSAGE, {"idempotency-key": f"draft:{draft_id}"})

    # When the draft is sent
    sent = pipeline.aws.api("POST", f"/drafts/{draft_id}/send", pipeline.alice)
    pipeline.run()

    # Then it goes out as a message of its own
    assert sent.status == 202
    assert sent.json()["id"] != composed.json()["id"]
    assert sorted(m["subject"] for m in pipeline.listing(pipeline.bob, "inbox")) == ["Draft", "Invoice 42"]


def forget_idempotency_records(pipeline: Pipeline) -> None:
    """What DynamoDB's time to live does to the records a day later."""
    ddb = mail_aws.client("dynamodb")
    table = pipeline.aws.resources.idempotency_table_name
    for item in ddb.scan(TableName=table, ProjectionExpression="id")["Items"]:
        ddb.delete_item(TableName=table, Key=item)
