"""Receiving: SES receipt events through the inbound function, on moto."""

from __future__ import annotations

import pytest

from local import ses
from mailcore import directory
from mailcore.errors import NotFoundError
from mailcore.repository import account_pk
from tests.conftest import load_event
from tests.integration.helpers import (
    SAMPLE,
    counts,
    deliver,
    emptied_region,  # noqa: F401 - this module's `aws`
    error_of,
    invoke,
    listing,
    message,
    only_id,
    ses_event,
)

EMPTY = {"drafts": (0, 0), "inbox": (0, 0), "junk": (0, 0), "sent": (0, 0), "trash": (0, 0)}


def stored_items(aws, account: str, prefix: str = "MSG#") -> list[dict]:
    return aws.table.query_prefix(account_pk(account), prefix)


def relayed(raw: bytes, region: str) -> bytes:
    """The same message as another region's SES stores it: other trace headers on top."""
    trace = (
        f"Return-Path: <carol@example.org>\r\n"
        f"Received: from mail.example.org by inbound-smtp.{region}.amazonaws.com with SMTP id\r\n"
        f" {region}-{ses.new_message_id()}; Mon, 02 Mar 2026 09:15:0{len(region) % 10} +0000\r\n"
        f"X-SES-Spam-Verdict: PASS\r\n"
        f"X-SES-Virus-Verdict: PASS\r\n"
        f"Received-SPF: pass (spfCheck: {region}) client-ip=192.0.2.{len(region)};\r\n"
        f"Authentication-Results: amazonses.com; spf=pass; dkim=pass; region={region}\r\n"
        f"X-SES-RECEIPT: {region.upper()}RECEIPT\r\n"
    )
    return trace.encode() + raw


def test_sample_event_is_stored_in_the_inbox(aws, bob):
    # Given the sample event, with the raw message where SES's S3 action put it
    event = load_event("ses_receipt.json")
    ses_id = event["Records"][0]["ses"]["mail"]["messageId"]
    aws.bucket.put(f"inbound/{ses_id}", SAMPLE)

    # When the inbound function handles it
    results = invoke(event)

    # Then bob has it, unread, in his inbox
    assert results == {ses_id: {"bob@demo.test": "stored"}}
    (summary,) = listing(aws, bob)
    assert summary["subject"] == "Quarterly figures"
    assert summary["from"] == [{"name": "Carol Example", "address": "carol@example.org"}]
    assert summary["received_at"] == "2026-03-02T09:15:04.318Z"
    assert summary["attachment_count"] == 1
    assert (summary["seen"], summary["unparsable"]) == (False, False)
    assert counts(aws, bob) == {**EMPTY, "inbox": (1, 1)}


def test_same_event_twice_is_one_message(aws, bob):
    event = load_event("ses_receipt.json")
    ses_id = event["Records"][0]["ses"]["mail"]["messageId"]
    aws.bucket.put(f"inbound/{ses_id}", SAMPLE)

    first, second = invoke(event), invoke(event)

    assert first == {ses_id: {"bob@demo.test": "stored"}}
    assert second == {ses_id: {"bob@demo.test": "duplicate"}}
    assert len(listing(aws, bob)) == 1
    assert counts(aws, bob)["inbox"] == (1, 1)


def test_same_message_received_in_two_regions_is_one_message(aws, bob):
    # Given one message that SES stored twice, under different ids and trace headers
    first = deliver(aws, relayed(SAMPLE, "us-east-1"))
    second = deliver(aws, relayed(SAMPLE, "eu-west-1"))

    assert (first, second) == ({"bob@demo.test": "stored"}, {"bob@demo.test": "duplicate"})
    assert len(listing(aws, bob)) == 1


def test_message_without_message_id_received_twice_is_one_message(aws, bob):
    raw = message("No id", message_id=None)

    first = deliver(aws, relayed(raw, "us-east-1"))
    second = deliver(aws, relayed(raw, "us-west-2"))

    assert (first, second) == ({"bob@demo.test": "stored"}, {"bob@demo.test": "duplicate"})
    assert [m["subject"] for m in listing(aws, bob)] == ["No id"]


def test_two_messages_without_message_id_are_two_messages(aws, bob):
    deliver(aws, message("First", message_id=None))
    deliver(aws, message("Second", message_id=None))

    assert sorted(m["subject"] for m in listing(aws, bob)) == ["First", "Second"]


def test_alias_and_primary_address_in_one_event_are_one_message(aws, bob):
    directory.add_alias(aws.table, "robert@demo.test", "bob@demo.test")

    outcome = deliver(aws, recipients=("robert@demo.test", "bob@demo.test"))

    assert outcome == {"robert@demo.test": "stored", "bob@demo.test": "duplicate"}
    assert len(listing(aws, bob)) == 1


def test_one_message_to_two_accounts_is_stored_for_each(aws, alice, bob):
    outcome = deliver(aws, recipients=("alice@demo.test", "bob@demo.test"))

    assert outcome == {"alice@demo.test": "stored", "bob@demo.test": "stored"}
    assert only_id(aws, alice) != only_id(aws, bob)


def test_plus_tag_is_delivered_to_the_user(aws, bob):
    outcome = deliver(aws, recipients=("bob+invoices@demo.test",))

    assert outcome == {"bob+invoices@demo.test": "stored"}
    detail = aws.api("GET", f"/messages/{only_id(aws, bob)}", bob).json()
    assert detail["recipient"] == "bob+invoices@demo.test"


def test_address_case_does_not_matter(aws, bob):
    outcome = deliver(aws, recipients=("Bob@DEMO.Test",))

    assert outcome == {"Bob@DEMO.Test": "stored"}
    assert len(listing(aws, bob)) == 1


def test_catch_all_receives_unknown_local_parts(aws, alice, bob):
    directory.set_catch_all(aws.table, "demo.test", "alice@demo.test")

    outcome = deliver(aws, recipients=("sales@demo.test", "bob@demo.test"))

    assert outcome == {"sales@demo.test": "stored", "bob@demo.test": "stored"}
    assert len(listing(aws, alice)) == 1
    assert len(listing(aws, bob)) == 1


def test_unknown_recipient_stores_nothing(aws, alice, bob):
    outcome = deliver(aws, recipients=("nobody@demo.test", "bob@elsewhere.example"))

    assert outcome == {"nobody@demo.test": "unknown_recipient", "bob@elsewhere.example": "unknown_recipient"}
    assert stored_items(aws, alice) == stored_items(aws, bob) == []


def test_unknown_recipient_beside_a_known_one(aws, bob):
    outcome = deliver(aws, recipients=("nobody@demo.test", "bob@demo.test"))

    assert outcome == {"nobody@demo.test": "unknown_recipient", "bob@demo.test": "stored"}
    assert len(listing(aws, bob)) == 1


def test_spam_goes_to_junk(aws, bob):
    event = load_event("ses_receipt_spam.json")
    ses_id = event["Records"][0]["ses"]["mail"]["messageId"]
    aws.bucket.put(f"inbound/{ses_id}", SAMPLE)

    assert invoke(event) == {ses_id: {"bob@demo.test": "stored"}}
    assert listing(aws, bob) == []
    assert [m["subject"] for m in listing(aws, bob, "junk")] == ["Quarterly figures"]
    assert counts(aws, bob) == {**EMPTY, "junk": (1, 1)}


def test_virus_is_quarantined_in_no_mailbox(aws, bob):
    event = load_event("ses_receipt_virus.json")
    ses_id = event["Records"][0]["ses"]["mail"]["messageId"]
    aws.bucket.put(f"inbound/{ses_id}", SAMPLE)

    assert invoke(event) == {ses_id: {"bob@demo.test": "quarantined"}}

    # Then it is listed nowhere and counted nowhere, but recorded
    assert all(listing(aws, bob, mailbox) == [] for mailbox in EMPTY)
    assert counts(aws, bob) == EMPTY
    assert stored_items(aws, bob) == []
    (quarantined,) = stored_items(aws, bob, "QUAR#")
    assert quarantined["kind"] == "quarantined"
    assert quarantined["verdicts"]["virus"] == "FAIL"
    assert quarantined["raw_key"] == f"inbound/{ses_id}"
    assert aws.api("GET", f"/messages/{quarantined['message_id']}", bob).status == 404


def test_authentication_verdicts_are_stored_and_returned(aws, bob):
    verdicts = {"spf": "FAIL", "dkim": "GRAY", "dmarc": "PROCESSING_FAILED"}

    deliver(aws, verdicts=verdicts)

    message_id = only_id(aws, bob)
    expected = {"spam": "PASS", "virus": "PASS", **verdicts}
    assert aws.api("GET", f"/messages/{message_id}", bob).json()["verdicts"] == expected
    assert aws.table.get(account_pk(bob), f"MSG#{message_id}")["verdicts"] == expected


def test_verdicts_missing_from_the_event_are_gray(aws, bob):
    ses_id = ses.new_message_id()
    aws.bucket.put(f"inbound/{ses_id}", SAMPLE)
    event = ses_event(["bob@demo.test"], ses_id)
    receipt = event["Records"][0]["ses"]["receipt"]
    for verdict in ("spam", "virus", "spf", "dkim", "dmarc"):
        del receipt[f"{verdict}Verdict"]

    assert invoke(event) == {ses_id: {"bob@demo.test": "stored"}}
    verdicts = aws.api("GET", f"/messages/{only_id(aws, bob)}", bob).json()["verdicts"]
    assert set(verdicts.values()) == {"GRAY"}


def test_message_without_headers_is_stored_listed_and_downloadable(aws, bob):
    # Given bytes that are no message at all
    garbage = bytes(range(256)) * 3 + b"\x00\xff\r\n\r\n\xfe"

    outcome = deliver(aws, garbage)

    # Then it is stored, listed as unparsable, and its raw bytes come back exactly
    assert outcome == {"bob@demo.test": "stored"}
    (summary,) = listing(aws, bob)
    assert (summary["unparsable"], summary["subject"], summary["size"]) == (True, "", len(garbage))
    detail = aws.api("GET", f"/messages/{summary['id']}", bob)
    assert detail.status == 200
    assert detail.json()["unparsable"] is True
    raw = aws.api("GET", f"/messages/{summary['id']}/raw", bob)
    assert (raw.status, raw.body) == (200, garbage)


def test_empty_message_is_stored_as_unparsable(aws, bob):
    assert deliver(aws, b"") == {"bob@demo.test": "stored"}

    (summary,) = listing(aws, bob)
    assert (summary["unparsable"], summary["size"]) == (True, 0)


def test_eight_bit_headers_are_stored_and_shown(aws, bob):
    raw = (
        b"From: Ren\xc3\xa9e <renee@example.org>\r\n"
        b"Subject: R\xe9sum\xe9 attached\r\n"
        b"Message-ID: <caf\xe9@example.org>\r\n"
        b"References: <r\xe9f@example.org>\r\n"
        b"\r\n"
        b"Body\r\n"
    )

    assert deliver(aws, raw) == {"bob@demo.test": "stored"}

    detail = aws.api("GET", f"/messages/{only_id(aws, bob)}", bob)
    assert detail.status == 200
    assert detail.json()["subject"] == "Résumé attached"
    assert detail.json()["from"] == [{"name": "Renée", "address": "renee@example.org"}]
    assert detail.json()["message_id"] == "<café@example.org>"
    assert detail.json()["references"] == ["<réf@example.org>"]


def test_broken_message_id_keeps_the_other_headers(aws, bob):
    # The standard library's Message-ID parser raises IndexError on "<"; the message lost
    # its subject and sender, and reading it answered 500.
    raw = b"From: carol@example.org\r\nSubject: Truncated id\r\nMessage-ID: <\r\n\r\nBody\r\n"

    deliver(aws, raw)

    (summary,) = listing(aws, bob)
    assert (summary["subject"], summary["unparsable"]) == ("Truncated id", False)
    detail = aws.api("GET", f"/messages/{summary['id']}", bob)
    assert detail.status == 200
    assert detail.json()["message_id"] == "<"


def test_encoded_word_in_a_binary_codec_is_read_as_utf8(aws, bob):
    # "base64" is a Python codec, but not a text encoding: decoding with it raised LookupError.
    raw = b"From: carol@example.org\r\nSubject: =?base64?q?Hi_there?=\r\n\r\nBody\r\n"

    deliver(aws, raw)

    (summary,) = listing(aws, bob)
    assert (summary["subject"], summary["unparsable"]) == ("Hi there", False)
    assert aws.api("GET", f"/messages/{summary['id']}", bob).status == 200


def test_mime_nested_too_deep_is_stored_and_readable(aws, bob):
    inner = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for level in range(1100):
        boundary = f"b{level}".encode()
        inner = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + inner
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    raw = b"From: carol@example.org\r\nSubject: Deep\r\n" + inner

    assert deliver(aws, raw) == {"bob@demo.test": "stored"}

    (summary,) = listing(aws, bob)
    assert summary["unparsable"] is True
    assert aws.api("GET", f"/messages/{summary['id']}", bob).status == 200
    assert error_of(aws.api("GET", f"/messages/{summary['id']}/attachments/0", bob))["code"] == ("NotFound")
    assert aws.api("GET", f"/messages/{summary['id']}/raw", bob).body == raw


def test_event_whose_message_is_not_in_the_bucket_fails_loudly(aws, bob):
    # The function must fail, so that Lambda retries it, rather than drop the message
    event = ses_event(["bob@demo.test"], ses.new_message_id())

    with pytest.raises(NotFoundError):
        invoke(event)
    assert stored_items(aws, bob) == []


def test_every_recipient_of_a_crowded_event_is_resolved(aws, bob):
    # 34 recipients need 102 lookups, more than one BatchGetItem takes: bob's came last.
    strangers = tuple(f"user{n}+x@elsewhere{n}.example" for n in range(33))

    outcome = deliver(aws, recipients=(*strangers, "bob@demo.test"))

    assert outcome["bob@demo.test"] == "stored"
    assert set(outcome.values()) == {"unknown_recipient", "stored"}
    assert len(listing(aws, bob)) == 1
