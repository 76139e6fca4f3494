"""Mail that machines send back (auto-replies, bounces) is stored and never answered."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from tests.integration.send_support import ALICE, Pipeline, receive_from_outside, start

AUTO_REPLY = (
    b"From: Carol <carol@example.org>\r\n"
    b"To: alice@demo.test\r\n"
    b"Subject: Out of office: Plan\r\n"
    b"Message-ID: <ooo-1@example.org>\r\n"
    b"In-Reply-To: <plan-1@demo.test>\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"Precedence: auto_reply\r\n"
    b"Date: Mon, 02 Mar 2026 09:30:00 +0000\r\n"
    b"\r\n"
    b"I am away until Monday.\r\n"
)

BOUNCE = (
    b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>\r\n"
    b"To: alice@demo.test\r\n"
    b"Subject: Delivery Status Notification (Failure)\r\n"
    b"Message-ID: <dsn-1@mx.example.org>\r\n"
    b"Auto-Submitted: auto-replied\r\n"
    b"Date: Mon, 02 Mar 2026 09:31:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Your message to nobody@example.org could not be delivered.\r\n"
    b"--b1\r\n"
    b"Content-Type: message/delivery-status\r\n"
    b"\r\n"
    b"Reporting-MTA: dns; mx.example.org\r\n"
    b"\r\n"
    b"Final-Recipient: rfc822; nobody@example.org\r\n"
    b"Action: failed\r\n"
    b"Status: 5.1.1\r\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
    b"--b1\r\n"
    b"Content-Type: text/rfc822-headers\r\n"
    b"\r\n"
    b"From: alice@demo.test\r\n"
    b"To: nobody@example.org\r\n"
    b"Subject: Plan\r\n"
    b"--b1--\r\n"
)


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


@pytest.mark.parametrize(
    ("raw", "sender", "subject"),
    [
        (AUTO_REPLY, "carol@example.org", "Out of office: Plan"),
        (BOUNCE, "", "Delivery Status Notification (Failure)"),
    ],
    ids=["auto-reply", "bounce"],
)
def test_machine_mail_arriving_causes_no_mail_going_out(pipeline: Pipeline, raw, sender, subject):
    # Given alice has sent mail before
    pipeline.send(pipeline.alice, {"to": ["carol@example.org"], "subject": "Plan"})
    pipeline.run()
    sent_before = list(pipeline.ses.outbox)

    # When an auto-reply or a bounce arrives for her through SES receiving
    outcome = receive_from_outside(pipeline.aws, raw, sender, [ALICE])
    pipeline.run()

    # Then it is in her Inbox, and nothing was queued or sent because of it
    assert outcome == {ALICE: "stored"}
    assert [m["subject"] for m in pipeline.listing(pipeline.alice, "inbox")] == [subject]
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0
    assert pipeline.depth(pipeline.aws.resources.feedback_queue_url) == 0
    assert pipeline.ses.outbox == sent_before
    assert len(pipeline.listing(pipeline.alice, "sent")) == 1


def test_a_delivery_report_is_stored_never_sent(pipeline: Pipeline):
    # Given a send that SES refuses for good
    pipeline.send(pipeline.alice, {"to": ["bounce@simulator.amazonses.com"], "subject": "Plan"})

    # When delivery and feedback run
    pipeline.run()

    # Then the report is in alice's Inbox as an auto-reply, and only the original went out
    [report] = pipeline.listing(pipeline.alice, "inbox")
    headers = message_from_bytes(pipeline.raw(pipeline.alice, report["id"]), policy=policy.default)
    assert headers["Auto-Submitted"] == "auto-replied"
    assert [m["to"] for m in pipeline.ses.outbox] == [["bounce@simulator.amazonses.com"]]
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0
