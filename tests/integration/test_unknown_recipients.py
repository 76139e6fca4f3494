"""Mail SES accepted for an address with no account is answered with a bounce, never a loop."""

from __future__ import annotations

from tests.integration.helpers import deliver, message


def test_unknown_recipient_at_hosted_domain_is_bounced_once(aws):
    # Given mail for a known and an unknown address at the hosted domain
    outcome = deliver(aws, message(message_id="u-1@example.org"), ("bob@demo.test", "ghost@demo.test"))

    # Then bob has it and the unknown address is answered with one bounce naming it
    assert outcome == {"bob@demo.test": "stored", "ghost@demo.test": "unknown_recipient"}
    assert len(aws.bounces.sent) == 1
    assert aws.bounces.sent[0]["to"] == ["ghost@demo.test"]
    assert aws.bounces.sent[0]["sender"] == "mailer-daemon@demo.test"


def test_automatic_mail_and_spam_are_not_answered(aws):
    auto_reply = message(message_id="u-2@example.org", headers="Auto-Submitted: auto-replied\r\n")
    deliver(aws, auto_reply, ("ghost@demo.test",))
    deliver(aws, message(message_id="u-3@example.org"), ("ghost@demo.test",), verdicts={"spam": "FAIL"})
    report = message(
        message_id="u-4@example.org",
        headers='Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n',
        body="--b\r\n\r\nx\r\n--b--",
    )
    deliver(aws, report, ("ghost@demo.test",))

    assert aws.bounces.sent == []
