"""Delivery when SES says "not now" or "never": backoff, partial batch failures, DLQ, re-drive."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.delivery import handler as delivery_function
from local.lambda_context import LocalContext
from mailcore import aws as mail_aws
from mailcore import delivery
from scripts.redrive import redrive
from tests.integration.send_support import ALICE, BOB, Pipeline, reports, start

CAROL = "carol@example.org"
THROTTLED = delivery.TransientDeliveryError("ThrottlingException")
REFUSED = delivery.PermanentDeliveryError("refused")


class Flaky:
    """SES that answers with `error` (Throttling) `failures` times, then passes the send on."""

    def __init__(self, real: delivery.Sender, failures: int, error: Exception = THROTTLED) -> None:
        self.real = real
        self.failures = failures
        self.error = error
        self.calls: list[list[str]] = []

    def send(self, sender: str, recipients: list[str], raw: bytes, tags: dict[str, str]) -> str:
        self.calls.append(list(recipients))
        if len(self.calls) <= self.failures:
            raise type(self.error)(*self.error.args)
        return self.real.send(sender, recipients, raw, tags)


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


def visibility_changes() -> list[dict[str, Any]]:
    """From now on, every ChangeMessageVisibility call the functions make, with its parameters.

    The hook sits on the cached SQS client, which the next `aws.reset()` forgets.
    """
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append({"QueueUrl": params["QueueUrl"], "VisibilityTimeout": params["VisibilityTimeout"]})

    mail_aws.client("sqs").meta.events.register("provide-client-params.sqs.ChangeMessageVisibility", record)
    return calls


def received(pipeline: Pipeline) -> list[dict[str, Any]]:
    """Take the waiting messages off the delivery queue as the event source mapping would."""
    return mail_aws.client("sqs").receive_message(
        QueueUrl=pipeline.aws.resources.delivery_queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]


def as_event(pipeline: Pipeline, messages: list[dict[str, Any]], receive_count: int) -> dict[str, Any]:
    poller = pipeline.delivery
    records = [poller._record(m) for m in messages]
    for record in records:
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return {"Records": records}


def test_throttled_send_is_retried_with_growing_delays_then_sent_once(pipeline: Pipeline, monkeypatch):
    # Given SES throttles the first three tries, and the deployed delays between tries
    monkeypatch.setenv("RETRY_DELAYS", "10,30,90,270,810")
    mail_aws.reset()
    changes = visibility_changes()
    flaky = Flaky(pipeline.ses, failures=3)
    delivery.use_sender(flaky)
    message_id = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Retry me"}).json()["id"]
    [message] = received(pipeline)

    # When the function gets the record on the 1st, 2nd, 3rd and 4th receive
    answers = [
        delivery_function.handler(as_event(pipeline, [message], count), LocalContext("delivery"))
        for count in (1, 2, 3, 4)
    ]

    # Then the first three are partial batch failures, each hiding the message a little longer
    failed = {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert answers == [failed, failed, failed, {"batchItemFailures": []}]
    assert changes == [
        {"QueueUrl": pipeline.aws.resources.delivery_queue_url, "VisibilityTimeout": delay}
        for delay in (10, 30, 90)
    ]
    assert flaky.calls == [[CAROL]] * 4
    assert [m["tags"]["message"] for m in pipeline.ses.outbox] == [message_id]
    assert pipeline.message(pipeline.alice, message_id)["delivery"][CAROL]["status"] == "sent"


def test_after_the_last_try_the_job_is_not_hidden_so_it_reaches_the_dlq_at_once(
    pipeline: Pipeline, monkeypatch
):
    # Given SES throttles every try, and the deployed delays between tries
    monkeypatch.setenv("RETRY_DELAYS", "10,30,90,270,810")
    mail_aws.reset()
    changes = visibility_changes()
    delivery.use_sender(Flaky(pipeline.ses, failures=10**6))
    pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Never"})
    [message] = received(pipeline)

    # When the function fails it on the 4th receive, then on the 5th and last
    for count in (4, 5):
        delivery_function.handler(as_event(pipeline, [message], count), LocalContext("delivery"))

    # Then the 4th hides it for the 4th delay, and the last not at all
    assert [c["VisibilityTimeout"] for c in changes] == [270, 0]


def test_through_the_queue_a_throttled_message_is_sent_once(pipeline: Pipeline):
    changes = visibility_changes()
    flaky = Flaky(pipeline.ses, failures=2)
    delivery.use_sender(flaky)
    sent = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Retry me"})

    pipeline.run()

    assert len(flaky.calls) == 3
    assert [v["VisibilityTimeout"] for v in changes] == [0, 0]
    assert len(pipeline.ses.outbox) == 1
    assert pipeline.message(pipeline.alice, sent.json()["id"])["delivery"][CAROL]["status"] == "delivered"
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0
    assert pipeline.depth(pipeline.aws.resources.delivery_dlq_url) == 0


def test_only_the_throttled_record_of_a_batch_is_retried(pipeline: Pipeline):
    # Given a batch of two: one to bob (stored here), one to carol (SES throttles)
    delivery.use_sender(Flaky(pipeline.ses, failures=1))
    to_bob = pipeline.send(pipeline.alice, {"to": [BOB], "subject": "Local"}).json()["id"]
    to_carol = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Remote"}).json()["id"]
    messages = received(pipeline)
    by_job = {json.loads(m["Body"])["message_id"]: m["MessageId"] for m in messages}

    # When the function takes the batch
    answer = delivery_function.handler(as_event(pipeline, messages, 1), LocalContext("delivery"))

    # Then only carol's record comes back to the queue
    assert answer == {"batchItemFailures": [{"itemIdentifier": by_job[to_carol]}]}
    assert pipeline.message(pipeline.alice, to_bob)["delivery"][BOB]["status"] == "delivered"
    assert pipeline.message(pipeline.alice, to_carol)["delivery"][CAROL]["status"] == "queued"


def test_a_retry_does_not_deliver_twice_to_recipients_already_done(pipeline: Pipeline):
    # Given a message to bob (local) and carol (SES throttles once)
    flaky = Flaky(pipeline.ses, failures=1)
    delivery.use_sender(flaky)
    sent = pipeline.send(pipeline.alice, {"to": [BOB, CAROL], "subject": "Both"})

    # When delivery tries, fails for carol, and tries again
    pipeline.run()

    # Then bob has one copy, carol was sent one, and both are recorded
    statuses = pipeline.message(pipeline.alice, sent.json()["id"])["delivery"]
    assert len(pipeline.listing(pipeline.bob, "inbox")) == 1
    assert flaky.calls == [[CAROL], [CAROL]]
    assert len(pipeline.ses.outbox) == 1
    assert {r: s["status"] for r, s in statuses.items()} == {BOB: "delivered", CAROL: "delivered"}


def test_a_message_handed_over_twice_is_sent_once(pipeline: Pipeline):
    # Given the queue hands the same message over twice (at-least-once delivery)
    pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Once"})
    [message] = received(pipeline)
    event = as_event(pipeline, [message], 1)

    # When the function runs on it twice
    first = delivery_function.handler(event, LocalContext("delivery"))
    second = delivery_function.handler(event, LocalContext("delivery"))

    # Then SES got it once
    assert first == second == {"batchItemFailures": []}
    assert len(pipeline.ses.outbox) == 1


def test_a_permanent_refusal_fails_the_recipient_and_reports_it(pipeline: Pipeline):
    # Given SES refuses the send for good
    delivery.use_sender(Flaky(pipeline.ses, failures=1, error=REFUSED))
    sent = pipeline.send(pipeline.alice, {"to": [CAROL, BOB], "subject": "Refused"})

    # When delivery runs
    pipeline.run()

    # Then carol is failed, bob still delivered, nothing retried, and alice has a readable report
    copy = pipeline.message(pipeline.alice, sent.json()["id"])
    [report] = reports(pipeline, pipeline.alice)
    assert copy["delivery"][CAROL] == {"status": "failed", "detail": "refused"}
    assert copy["delivery"][BOB]["status"] == "delivered"
    assert copy["send_status"] == "partial"
    assert report["from"] == [{"name": "Mail Delivery System", "address": "mailer-daemon@demo.test"}]
    assert report["to"] == [{"name": "", "address": ALICE}]
    assert "  carol@example.org: refused\n" in report["text"].replace("\r\n", "\n")
    assert [a["content_type"] for a in report["attachments"]] == ["text/rfc822-headers"]
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


def test_ses_message_rejected_fails_the_recipient_with_ses_reason(pipeline: Pipeline):
    # Given the sending domain is no longer verified in SES
    mail_aws.client("ses").delete_identity(Identity="demo.test")
    sent = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Unverified"})

    # When delivery runs
    pipeline.run()

    # Then SES's MessageRejected is a permanent failure, named in the report
    status = pipeline.message(pipeline.alice, sent.json()["id"])["delivery"][CAROL]
    [report] = reports(pipeline, pipeline.alice)
    assert status["status"] == "failed"
    assert status["detail"].startswith("MessageRejected: ")
    assert f"  {CAROL}: MessageRejected: " in report["text"]
    assert pipeline.ses.outbox == []
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


def test_after_five_throttled_tries_the_message_waits_in_the_dlq_until_redriven(pipeline: Pipeline):
    # Given SES throttles every try
    flaky = Flaky(pipeline.ses, failures=10**6)
    delivery.use_sender(flaky)
    sent = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Patience"}).json()["id"]
    resources = pipeline.aws.resources

    # When the queue hands it over until SQS gives up on it
    pipeline.run()

    # Then it was tried five times, and waits in the dead-letter queue, shown to alice as deferred
    assert len(flaky.calls) == 5
    assert pipeline.depth(resources.delivery_queue_url) == 0
    assert pipeline.depth(resources.delivery_dlq_url) == 1
    held = pipeline.message(pipeline.alice, sent)
    assert held["send_status"] == "deferred"
    assert held["delivery"][CAROL]["status"] == "deferred"
    assert held["delivery"][CAROL]["detail"].startswith("not sent after the last try (")
    assert held["delivery"][CAROL]["detail"].endswith("); held until an operator re-drives it")

    # When SES recovers and an operator re-drives the dead-letter queue
    flaky.failures = 0
    moved = redrive(resources.delivery_dlq_url, resources.delivery_queue_url, resources.region)
    pipeline.run()

    # Then the message is sent exactly once and both queues are empty
    assert moved == 1
    assert [m["tags"]["message"] for m in pipeline.ses.outbox] == [sent]
    assert pipeline.message(pipeline.alice, sent)["delivery"][CAROL]["status"] == "delivered"
    assert pipeline.depth(resources.delivery_queue_url) == 0
    assert pipeline.depth(resources.delivery_dlq_url) == 0


def test_a_redrive_of_an_empty_dlq_moves_nothing(pipeline: Pipeline):
    resources = pipeline.aws.resources

    assert redrive(resources.delivery_dlq_url, resources.delivery_queue_url, resources.region) == 0


def test_a_suppressed_recipient_is_reported_even_when_the_rest_is_throttled(pipeline: Pipeline):
    # Given the bounce simulator is suppressed, and SES throttles the send to dave once
    pipeline.send(pipeline.alice, {"to": ["bounce@simulator.amazonses.com"], "subject": "First"})
    pipeline.run()
    flaky = Flaky(pipeline.ses, failures=1)
    delivery.use_sender(flaky)

    # When alice writes to both
    sent = pipeline.send(
        pipeline.alice, {"to": ["bounce@simulator.amazonses.com", "dave@example.net"], "subject": "Second"}
    )
    pipeline.run()

    # Then the suppressed address is skipped and reported once, and dave gets the mail once
    statuses = pipeline.message(pipeline.alice, sent.json()["id"])["delivery"]
    about_second = [r for r in reports(pipeline, pipeline.alice) if "suppression list" in r["text"]]
    assert {r: s["status"] for r, s in statuses.items()} == {
        "bounce@simulator.amazonses.com": "suppressed",
        "dave@example.net": "delivered",
    }
    assert len(about_second) == 1
    assert flaky.calls == [["dave@example.net"], ["dave@example.net"]]


def test_the_local_poller_leaves_failed_records_on_the_queue(pipeline: Pipeline):
    delivery.use_sender(Flaky(pipeline.ses, failures=1))
    pipeline.send(pipeline.alice, {"to": [CAROL]})

    handled = pipeline.delivery.drain_once()

    assert handled == 1
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 1
