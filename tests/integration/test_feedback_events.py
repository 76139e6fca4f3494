"""SES feedback through the feedback function: delivery, bounces, complaints, and the suppression list.

The events are the samples in events/, as SES event publishing sends them through SNS (raw
message delivery) to the feedback queue; only their tags are pointed at a real Sent copy.
"""

from __future__ import annotations

import json

import pytest

from functions.feedback import handler as feedback_function
from local.lambda_context import LocalContext
from mailcore import aws as mail_aws
from tests.conftest import load_event
from tests.integration.send_support import ALICE, Pipeline, drain, feedback_event, reports, start

NOBODY = "nobody@example.com"
ANNOYED = "annoyed@example.net"
RECIPIENT = "recipient@example.com"
DIAGNOSTIC = "smtp; 550 5.1.1 <nobody@example.com>: user unknown"
FULL = "smtp; 452 4.2.2 mailbox full"
BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


def sent_to(pipeline: Pipeline, address: str, subject: str = "Quarterly figures") -> str:
    """A message alice sent through SES; what SES says about it comes from a sample event instead."""
    message_id = pipeline.send(pipeline.alice, {"to": [address], "subject": subject}).json()["id"]
    drain(pipeline.delivery)
    mail_aws.client("sqs").purge_queue(QueueUrl=pipeline.aws.resources.feedback_queue_url)
    assert status_of(pipeline, message_id, address)["status"] == "sent"
    return message_id


def feed(pipeline: Pipeline, name: str, message_id: str) -> dict:
    event = feedback_event(name, pipeline.alice, message_id)
    return feedback_function.handler(event, LocalContext("feedback"))


def status_of(pipeline: Pipeline, message_id: str, address: str) -> dict[str, str]:
    found = dict(pipeline.message(pipeline.alice, message_id)["delivery"][address])
    found.pop("at", None)
    return found


def test_the_sample_events_are_what_sns_delivers_raw_to_sqs():
    for name, kind in [
        ("ses_event_bounce.json", "Bounce"),
        ("ses_event_complaint.json", "Complaint"),
        ("ses_event_delivery.json", "Delivery"),
    ]:
        [record] = load_event(name)["Records"]
        body = json.loads(record["body"])
        assert record["eventSource"] == "aws:sqs"
        assert body["eventType"] == kind
        assert "Type" not in body
        assert body["mail"]["tags"]["ses:configuration-set"] == ["mail-sending"]


def test_a_delivery_event_marks_the_recipient_delivered(pipeline: Pipeline):
    message_id = sent_to(pipeline, RECIPIENT)

    answer = feed(pipeline, "ses_event_delivery.json", message_id)

    assert answer == {"batchItemFailures": []}
    assert status_of(pipeline, message_id, RECIPIENT) == {"status": "delivered"}
    assert pipeline.message(pipeline.alice, message_id)["send_status"] == "sent"
    assert pipeline.suppressions(pipeline.alice) == []


def test_a_hard_bounce_suppresses_the_address_and_reports_it(pipeline: Pipeline):
    # Given alice sent to an address that does not exist
    message_id = sent_to(pipeline, NOBODY)

    # When SES publishes the permanent bounce
    answer = feed(pipeline, "ses_event_bounce.json", message_id)

    # Then the Sent copy says bounced, the address is suppressed, and alice has a report
    [suppressed] = pipeline.suppressions(pipeline.alice)
    [report] = reports(pipeline, pipeline.alice)
    assert answer == {"batchItemFailures": []}
    assert status_of(pipeline, message_id, NOBODY) == {"status": "bounced", "detail": DIAGNOSTIC}
    assert pipeline.message(pipeline.alice, message_id)["send_status"] == "failed"
    assert {k: v for k, v in suppressed.items() if k != "since"} == {
        "address": NOBODY,
        "reason": "bounced",
        "detail": DIAGNOSTIC,
    }
    assert report["subject"] == "Undelivered Mail Returned to Sender"
    assert report["to"] == [{"name": "", "address": ALICE}]
    assert f"  {NOBODY}: {DIAGNOSTIC}" in report["text"]


def test_a_complaint_suppresses_the_address_without_a_report(pipeline: Pipeline):
    message_id = sent_to(pipeline, ANNOYED)

    answer = feed(pipeline, "ses_event_complaint.json", message_id)

    [suppressed] = pipeline.suppressions(pipeline.alice)
    assert answer == {"batchItemFailures": []}
    assert status_of(pipeline, message_id, ANNOYED) == {"status": "complained", "detail": "abuse"}
    assert {k: v for k, v in suppressed.items() if k != "since"} == {
        "address": ANNOYED,
        "reason": "complained",
        "detail": "abuse",
    }
    assert reports(pipeline, pipeline.alice) == []


def test_a_soft_bounce_fails_the_recipient_without_suppressing_it(pipeline: Pipeline):
    # Given SES gave up on a full mailbox after retrying (a Transient bounce is its last word)
    message_id = sent_to(pipeline, NOBODY)
    event = feedback_event("ses_event_bounce.json", pipeline.alice, message_id)
    record = json.loads(event["Records"][0]["body"])
    record["bounce"].update(bounceType="Transient", bounceSubType="MailboxFull")
    record["bounce"]["bouncedRecipients"][0].update(status="4.2.2", diagnosticCode=FULL)
    event["Records"][0]["body"] = json.dumps(record)

    # When the feedback function reads it
    feedback_function.handler(event, LocalContext("feedback"))

    # Then the message is failed for that recipient (not queued forever), reported, not suppressed
    assert status_of(pipeline, message_id, NOBODY) == {"status": "failed", "detail": FULL}
    assert pipeline.message(pipeline.alice, message_id)["send_status"] == "failed"
    assert pipeline.suppressions(pipeline.alice) == []
    assert [f"  {NOBODY}: {FULL}" in r["text"] for r in reports(pipeline, pipeline.alice)] == [True]


def test_the_same_event_twice_changes_nothing_more(pipeline: Pipeline):
    message_id = sent_to(pipeline, NOBODY)

    feed(pipeline, "ses_event_bounce.json", message_id)
    feed(pipeline, "ses_event_bounce.json", message_id)

    assert [s["address"] for s in pipeline.suppressions(pipeline.alice)] == [NOBODY]
    assert status_of(pipeline, message_id, NOBODY)["status"] == "bounced"


def test_an_event_for_mail_we_did_not_tag_is_ignored(pipeline: Pipeline):
    event = load_event("ses_event_bounce.json")
    record = json.loads(event["Records"][0]["body"])
    del record["mail"]["tags"]["account"]
    event["Records"][0]["body"] = json.dumps(record)

    answer = feedback_function.handler(event, LocalContext("feedback"))

    assert answer == {"batchItemFailures": []}
    assert pipeline.suppressions(pipeline.alice) == []


def test_an_event_for_a_deleted_sent_copy_still_suppresses(pipeline: Pipeline):
    message_id = sent_to(pipeline, NOBODY)
    pipeline.aws.api("DELETE", f"/messages/{message_id}?permanent=true", pipeline.alice)

    answer = feed(pipeline, "ses_event_bounce.json", message_id)

    assert answer == {"batchItemFailures": []}
    assert [s["address"] for s in pipeline.suppressions(pipeline.alice)] == [NOBODY]


def test_only_an_unreadable_record_of_a_batch_is_a_batch_item_failure(pipeline: Pipeline):
    message_id = sent_to(pipeline, RECIPIENT)
    good = feedback_event("ses_event_delivery.json", pipeline.alice, message_id)["Records"][0]
    bad = {**good, "messageId": "4b1c0de2-0000-4000-8000-000000000001", "body": "{not json"}

    answer = feedback_function.handler({"Records": [good, bad]}, LocalContext("feedback"))

    assert answer == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert status_of(pipeline, message_id, RECIPIENT) == {"status": "delivered"}


def test_a_later_send_to_a_suppressed_address_is_skipped_and_reported(pipeline: Pipeline):
    # Given nobody@example.com bounced hard
    feed(pipeline, "ses_event_bounce.json", sent_to(pipeline, NOBODY))
    outbox_before = len(pipeline.ses.outbox)

    # When alice writes to it again
    again = pipeline.send(pipeline.alice, {"to": [NOBODY], "subject": "Second try"})
    pipeline.run()

    # Then SES is not asked, the Sent copy says suppressed, and a report says why
    message_id = again.json()["id"]
    about_it = [r for r in reports(pipeline, pipeline.alice) if "suppression list" in r["text"]]
    assert len(pipeline.ses.outbox) == outbox_before
    assert status_of(pipeline, message_id, NOBODY) == {
        "status": "suppressed",
        "detail": "address is on the suppression list",
    }
    assert pipeline.message(pipeline.alice, message_id)["send_status"] == "failed"
    assert len(about_it) == 1
    assert f"  {NOBODY}: address is on the suppression list" in about_it[0]["text"]


def test_a_lifted_suppression_lets_mail_through_again(pipeline: Pipeline):
    # Given nobody@example.com bounced hard
    feed(pipeline, "ses_event_bounce.json", sent_to(pipeline, NOBODY))

    # When alice removes it from her list (in other case) and writes again
    lifted = pipeline.aws.api("DELETE", "/suppressions/Nobody@Example.com", pipeline.alice)
    again = pipeline.send(pipeline.alice, {"to": [NOBODY], "subject": "Fixed now"})
    pipeline.run()

    # Then the list is empty and the mail went through SES
    assert lifted.status == 200
    assert lifted.json() == {"address": "Nobody@Example.com", "suppressed": False}
    assert pipeline.suppressions(pipeline.alice) == []
    assert pipeline.ses.outbox[-1]["tags"]["message"] == again.json()["id"]
    assert status_of(pipeline, again.json()["id"], NOBODY)["status"] == "delivered"


def test_lifting_an_address_that_is_not_suppressed_is_not_found(pipeline: Pipeline):
    response = pipeline.aws.api("DELETE", "/suppressions/someone@example.com", pipeline.alice)

    assert response.status == 404
    assert response.json() == {
        "error": {"code": "NotFound", "message": "someone@example.com is not suppressed"}
    }


def test_the_simulator_addresses_bounce_and_complain_through_the_whole_path(pipeline: Pipeline):
    # Given alice writes to SES's bounce and complaint simulator addresses
    bounce = pipeline.send(pipeline.alice, {"to": [BOUNCE]}).json()["id"]
    complaint = pipeline.send(pipeline.alice, {"to": [COMPLAINT]}).json()["id"]

    # When SES's events come back through SNS and the feedback queue
    pipeline.run()

    # Then both end on the suppression list with their reasons
    listed = {s["address"]: s["reason"] for s in pipeline.suppressions(pipeline.alice)}
    assert listed == {BOUNCE: "bounced", COMPLAINT: "complained"}
    assert status_of(pipeline, bounce, BOUNCE)["status"] == "bounced"
    assert status_of(pipeline, complaint, COMPLAINT)["status"] == "complained"
