"""Sending end to end on moto: API, delivery queue, delivery function, SES, feedback function."""

from __future__ import annotations

import base64
import json
from email import message_from_bytes, policy
from typing import Any

import pytest

from tests.integration.send_support import ALICE, BOB, Pipeline, drain, receive_from_outside, start

CAROL = "carol@example.org"


@pytest.fixture
def pipeline(aws, monkeypatch):
    yield from start(aws, monkeypatch)


def test_mail_between_two_local_accounts_lands_in_the_inbox(pipeline: Pipeline):
    # Given alice writes to bob
    sent = pipeline.send(pipeline.alice, {"to": [BOB], "subject": "Lunch?", "text": "At noon.\n"})

    # When the delivery function takes it off the queue
    pipeline.run()

    # Then bob has it, alice's Sent copy says delivered, and SES was never asked
    inbox = pipeline.listing(pipeline.bob, "inbox")
    opened = pipeline.message(pipeline.bob, inbox[0]["id"])
    copy = pipeline.message(pipeline.alice, sent.json()["id"])
    assert sent.status == 202
    assert sent.json()["recipients"] == {BOB: "queued"}
    assert [m["subject"] for m in inbox] == ["Lunch?"]
    assert opened["from"] == [{"name": "", "address": ALICE}]
    assert opened["to"] == [{"name": "", "address": BOB}]
    assert opened["text"] == "At noon.\r\n"
    assert set(opened["verdicts"].values()) == {"PASS"}
    assert copy["mailbox_id"] == "sent"
    assert copy["delivery"] == {BOB: {"status": "delivered", "detail": "stored"}}
    assert copy["send_status"] == "sent"
    assert pipeline.ses.outbox == []


def test_mail_to_an_outside_address_goes_through_ses(pipeline: Pipeline):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "Hello", "text": "Hi Carol"})
    message_id = sent.json()["id"]

    pipeline.run()

    [out] = pipeline.ses.outbox
    [in_moto] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert out["from"] == ALICE
    assert out["to"] == ["carol@example.org"]
    assert out["tags"] == {"account": pipeline.alice, "message": message_id}
    assert in_moto.source == ALICE
    assert message_from_bytes(in_moto.raw_data.encode(), policy=policy.default)["Subject"] == "Hello"
    assert pipeline.depth(pipeline.aws.resources.delivery_queue_url) == 0


def test_sent_copy_moves_from_queued_to_sent_to_delivered(pipeline: Pipeline):
    # Given a message to one local and one outside recipient
    sent = pipeline.send(pipeline.alice, {"to": [BOB, "carol@example.org"], "subject": "Both"})
    message_id = sent.json()["id"]
    queued = pipeline.message(pipeline.alice, message_id)

    # When delivery runs, and then SES's Delivery event comes back through the feedback queue
    drain(pipeline.delivery)
    after_delivery = pipeline.message(pipeline.alice, message_id)
    drain(pipeline.feedback)
    after_feedback = pipeline.message(pipeline.alice, message_id)

    # Then each recipient's status moves forward, and the summary follows
    statuses = [
        {r: s["status"] for r, s in m["delivery"].items()} for m in (queued, after_delivery, after_feedback)
    ]
    assert sent.json() == {
        "id": message_id,
        "mailbox_id": "sent",
        "status": "queued",
        "recipients": {BOB: "queued", "carol@example.org": "queued"},
    }
    assert statuses == [
        {BOB: "queued", "carol@example.org": "queued"},
        {BOB: "delivered", "carol@example.org": "sent"},
        {BOB: "delivered", "carol@example.org": "delivered"},
    ]
    assert after_delivery["delivery"][CAROL]["ses_message_id"] == pipeline.ses.outbox[0]["ses_message_id"]
    assert [m["send_status"] for m in (queued, after_delivery, after_feedback)] == ["queued", "sent", "sent"]
    assert [m["subject"] for m in pipeline.listing(pipeline.alice, "sent")] == ["Both"]


def test_bcc_recipients_get_the_mail_but_not_the_header(pipeline: Pipeline):
    pipeline.send(pipeline.alice, {"to": ["carol@example.org"], "bcc": [BOB], "subject": "Quiet"})

    pipeline.run()

    [received] = pipeline.listing(pipeline.bob, "inbox")
    raw = pipeline.raw(pipeline.bob, received["id"])
    assert received["subject"] == "Quiet"
    assert b"bob@demo.test" not in raw
    assert pipeline.ses.outbox[0]["to"] == ["carol@example.org"]


def test_a_reply_carries_in_reply_to_and_references(pipeline: Pipeline):
    # Given bob received alice's message, which itself answered an older one
    first = pipeline.send(pipeline.alice, {"to": [BOB], "subject": "Plan"}).json()["id"]
    pipeline.run()
    [plan] = pipeline.listing(pipeline.bob, "inbox")
    pipeline.send(pipeline.bob, {"to": [ALICE], "subject": "Re: Plan", "in_reply_to": plan["id"]})
    pipeline.run()
    [answer] = pipeline.listing(pipeline.alice, "inbox")

    # When alice answers bob's reply
    again = pipeline.send(
        pipeline.alice, {"to": [BOB], "subject": "Re: Plan", "in_reply_to": answer["id"], "text": "ok"}
    )
    pipeline.run()

    # Then the raw message names the whole thread, oldest first
    headers = message_from_bytes(pipeline.raw(pipeline.alice, again.json()["id"]), policy=policy.default)
    plan_id = f"<{first}@demo.test>"
    answer_id = pipeline.message(pipeline.alice, answer["id"])["message_id"]
    assert again.status == 202
    assert headers["In-Reply-To"] == answer_id
    assert headers["References"] == f"{plan_id} {answer_id}"
    assert pipeline.message(pipeline.alice, answer["id"])["in_reply_to"] == plan_id


def outside_mail(message_id: str, references: str = "") -> bytes:
    """Mail from carol to bob, with a Message-ID (and References) as the sender's software wrote them."""
    head = f"From: {CAROL}\r\nTo: {BOB}\r\nSubject: Plan\r\nMessage-ID: {message_id}\r\n"
    if references:
        head += f"References: {references}\r\n"
    return f"{head}\r\nHello\r\n".encode()


def reply_to_outside_mail(pipeline: Pipeline, raw: bytes) -> tuple[int, bytes]:
    """Bob answers the one message carol sent him: the status, and the reply as sent (or the error)."""
    receive_from_outside(pipeline.aws, raw, CAROL, [BOB])
    [plan] = pipeline.listing(pipeline.bob, "inbox")
    reply = pipeline.send(pipeline.bob, {"to": [CAROL], "subject": "Re: Plan", "in_reply_to": plan["id"]})
    if reply.status != 202:
        return reply.status, reply.body
    return reply.status, pipeline.raw(pipeline.bob, reply.json()["id"])


def headers_of(raw: bytes) -> Any:
    return message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize(
    "malformed",
    [
        "<plan\u2028x@example.org>",
        "<plan\u2029x@example.org>",
        "<plan\x85x@example.org>",
        "plan\u2028x@example.org",
        "<plan\x00x@example.org>",
        'not even brackets ; "quoted" (comment)',
        "=?utf-8?q?=3Cplan=E2=80=A8x=40example=2Eorg=3E?=",
        "<=?utf-8?q?plan?=@example.org>",
        "<plan x@example.org>",
        "<plan@>",
        "<plän@example.org>",
    ],
    ids=[
        "U+2028",
        "U+2029",
        "NEL",
        "U+2028 bare",
        "NUL",
        "comment",
        "encoded word",
        "encoded left",
        "space",
        "no right",
        "not ASCII",
    ],
)
def test_a_reply_leaves_out_a_malformed_message_id_from_outside(pipeline: Pipeline, malformed: str):
    # Given carol's message, whose Message-ID is malformed, in a thread of well-formed ones
    raw = outside_mail(malformed, f"<root@example.org> {malformed} <last@example.org>")

    # When bob replies to it
    status, sent = reply_to_outside_mail(pipeline, raw)

    # Then the reply goes out, naming only the well-formed ids of the thread
    assert status == 202, sent
    headers = headers_of(sent)
    assert headers["In-Reply-To"] is None
    assert headers["References"] == "<root@example.org> <last@example.org>"


def test_a_reply_to_mail_with_no_well_formed_id_names_no_thread(pipeline: Pipeline):
    status, sent = reply_to_outside_mail(pipeline, outside_mail("<plan\u2028x@example.org>"))

    assert status == 202, sent
    headers = headers_of(sent)
    assert (headers["In-Reply-To"], headers["References"]) == (None, None)


def test_a_reply_keeps_a_long_message_id_as_it_was(pipeline: Pipeline):
    # Given carol's message with a Message-ID longer than a folded line, as Outlook's are
    long_id = "<BN6PR1101MB2132D4E5F3BBC0A2E4C1D9D4A1230@BN6PR1101MB2132.namprd11.prod.outlook.com>"

    # When bob replies to it
    status, sent = reply_to_outside_mail(pipeline, outside_mail(long_id, "<root@example.org>"))

    # Then the id is copied as it is, not turned into encoded words
    assert status == 202, sent
    headers = headers_of(sent)
    assert headers["In-Reply-To"] == long_id
    assert headers["References"].split() == ["<root@example.org>", long_id]
    assert f"In-Reply-To: {long_id}\r\n".encode() in sent


def test_a_reply_in_a_long_thread_names_its_first_and_latest_messages(pipeline: Pipeline):
    # Given carol's message in a thread of thirty (the stored copy keeps the first and latest 19)
    thread = [f"<m{i}@example.org>" for i in range(30)]

    # When bob replies to it
    status, sent = reply_to_outside_mail(pipeline, outside_mail("<plan@example.org>", " ".join(thread)))

    # Then References names the thread's first, the latest, and carol's, twenty in all
    assert status == 202, sent
    headers = headers_of(sent)
    assert headers["In-Reply-To"] == "<plan@example.org>"
    assert headers["References"].split() == [thread[0], *thread[12:], "<plan@example.org>"]


def test_uploaded_attachment_reaches_the_recipient_byte_for_byte(pipeline: Pipeline):
    # Given alice uploads a binary file
    content = bytes(range(256)) * 64
    uploaded = pipeline.upload(pipeline.alice, "figures.pdf", content, "application/pdf")

    # When she sends it to bob with an inline attachment beside it
    note = base64.b64encode("Grüße\n".encode()).decode()
    pipeline.send(
        pipeline.alice,
        {
            "to": [BOB],
            "subject": "Figures",
            "text": "Attached.",
            "upload_ids": [uploaded.json()["id"]],
            "attachments": [{"filename": "note.txt", "content_type": "text/plain", "content_base64": note}],
        },
    )
    pipeline.run()

    # Then bob sees both, with their names, types and bytes
    [received] = pipeline.listing(pipeline.bob, "inbox")
    opened = pipeline.message(pipeline.bob, received["id"])
    first = pipeline.aws.api("GET", f"/messages/{received['id']}/attachments/0", pipeline.bob)
    second = pipeline.aws.api("GET", f"/messages/{received['id']}/attachments/1", pipeline.bob)
    assert uploaded.status == 201
    assert uploaded.json()["filename"] == "figures.pdf"
    assert uploaded.json()["size"] == len(content)
    assert [(a["filename"], a["content_type"], a["size"]) for a in opened["attachments"]] == [
        ("figures.pdf", "application/pdf", len(content)),
        ("note.txt", "text/plain", len("Grüße\n".encode())),
    ]
    assert first.body == content
    assert first.headers["Content-Disposition"] == "attachment; filename*=UTF-8''figures.pdf"
    assert second.body == "Grüße\n".encode()
    assert received["attachment_count"] == 2


def test_the_api_function_publishes_its_own_metrics(pipeline: Pipeline, capsys):
    capsys.readouterr()

    pipeline.send(pipeline.alice, {"to": [BOB], "subject": "Counted"})

    printed = capsys.readouterr().out.splitlines()
    emitted = [json.loads(line) for line in printed if line.startswith('{"_aws"')]
    assert [(doc["MessagesQueued"], doc["_aws"]["CloudWatchMetrics"][0]["Namespace"]) for doc in emitted] == [
        ([1.0], "Mail")
    ]


def test_an_address_at_our_domain_without_a_mailbox_fails_at_once(pipeline: Pipeline):
    # Given alice mistypes bob's address at the domain we host
    sent = pipeline.send(pipeline.alice, {"to": ["bobb@demo.test", BOB], "subject": "Typo"})

    # When delivery runs
    pipeline.run()

    # Then it is not sent out to come back as a bounce: it fails here, and alice is told
    copy = pipeline.message(pipeline.alice, sent.json()["id"])
    [report] = [
        m for m in pipeline.listing(pipeline.alice, "inbox") if m["subject"].startswith("Undelivered")
    ]
    assert copy["delivery"]["bobb@demo.test"] == {"status": "failed", "detail": "no such mailbox here"}
    assert copy["delivery"][BOB]["status"] == "delivered"
    assert pipeline.ses.outbox == []
    assert "  bobb@demo.test: no such mailbox here" in pipeline.message(pipeline.alice, report["id"])["text"]


def test_deleting_a_sent_message_for_good_removes_its_delivery_statuses(pipeline):
    from mailcore import statuses

    message_id = pipeline.send(pipeline.alice, {"to": [BOB], "subject": "gone"}).json()["id"]
    pipeline.run()
    keys = statuses.keys(pipeline.alice, message_id, [BOB])
    assert keys[0] in pipeline.aws.table.get_many(keys)

    deleted = pipeline.aws.api("DELETE", f"/messages/{message_id}?permanent=true", pipeline.alice)

    assert deleted.json() == {"id": message_id, "deleted": True, "mailbox_id": None}
    assert pipeline.aws.table.get_many(keys) == {}


def test_sent_mail_is_dated_in_utc_with_its_offset(pipeline: Pipeline):
    sent = pipeline.send(pipeline.alice, {"to": [CAROL], "subject": "When", "text": "Now."})

    raw = pipeline.raw(pipeline.alice, sent.json()["id"])

    assert str(headers_of(raw)["Date"]).endswith(" +0000")
    assert pipeline.message(pipeline.alice, sent.json()["id"])["date"].endswith("+00:00")


def test_a_report_of_undelivered_mail_is_dated_in_utc_with_its_offset(pipeline: Pipeline):
    pipeline.send(pipeline.alice, {"to": ["bobb@demo.test"], "subject": "Typo"})
    pipeline.run()

    [report] = [
        m for m in pipeline.listing(pipeline.alice, "inbox") if m["subject"].startswith("Undelivered")
    ]

    assert report["date"].endswith("+00:00")
