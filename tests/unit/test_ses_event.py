"""The SES receipt event: read as leniently as SES writes it, refused when it is not one."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from mailcore import ses_event
from mailcore.inbound import Verdicts
from tests.conftest import load_event

SES_ID = "r4k2m9q1v7c3x8b5n0d6f2h4j8l1p3s5t7w9y0z2"


def sample() -> dict:
    return copy.deepcopy(load_event("ses_receipt.json"))


def mail_of(event: dict) -> dict:
    return event["Records"][0]["ses"]["mail"]


def receipt_of(event: dict) -> dict:
    return event["Records"][0]["ses"]["receipt"]


def test_sample_event():
    (delivery,) = ses_event.deliveries(sample(), "inbound/")

    assert delivery.ses_message_id == SES_ID
    assert delivery.object_key == f"inbound/{SES_ID}"
    assert delivery.received_at == "2026-03-02T09:15:04.318Z"
    assert delivery.recipients == ["bob@demo.test"]
    assert delivery.source == "carol@example.org"
    assert delivery.verdicts == Verdicts(spam="PASS", virus="PASS", spf="PASS", dkim="PASS", dmarc="PASS")


@pytest.mark.parametrize(
    ("name", "spam", "virus"),
    [("ses_receipt_spam.json", "FAIL", "PASS"), ("ses_receipt_virus.json", "PASS", "FAIL")],
)
def test_variant_events(name, spam, virus):
    (delivery,) = ses_event.deliveries(load_event(name), "inbound/")

    assert (delivery.verdicts.spam, delivery.verdicts.virus) == (spam, virus)


@pytest.mark.parametrize("header", ["from", "to", "date", "subject", "returnPath", "messageId"])
def test_missing_common_headers_are_accepted(header):
    event = sample()
    del mail_of(event)["commonHeaders"][header]

    assert len(ses_event.deliveries(event, "inbound/")) == 1


def test_event_without_any_headers_is_accepted():
    event = sample()
    for key in ("commonHeaders", "headers", "destination", "headersTruncated", "source"):
        del mail_of(event)[key]

    (delivery,) = ses_event.deliveries(event, "inbound/")

    assert delivery.source == ""


def test_missing_verdicts_are_gray():
    event = sample()
    for verdict in ("spam", "virus", "spf", "dkim", "dmarc"):
        del receipt_of(event)[f"{verdict}Verdict"]

    (delivery,) = ses_event.deliveries(event, "inbound/")

    assert delivery.verdicts == Verdicts()
    assert set(vars(delivery.verdicts).values()) == {"GRAY"}


def test_dmarc_policy_and_other_new_fields_are_ignored():
    event = sample()
    receipt_of(event)["dmarcPolicy"] = "reject"
    receipt_of(event)["dmarcVerdict"] = {"status": "FAIL"}
    mail_of(event)["somethingNew"] = {"x": 1}

    (delivery,) = ses_event.deliveries(event, "inbound/")

    assert delivery.verdicts.dmarc == "FAIL"


def test_one_delivery_per_record():
    event = sample()
    second = copy.deepcopy(event["Records"][0])
    second["ses"]["mail"]["messageId"] = "second0000000000000000000000000000000000"
    event["Records"].append(second)

    deliveries = ses_event.deliveries(event, "mail/")

    assert [d.object_key for d in deliveries] == [
        f"mail/{SES_ID}",
        "mail/second0000000000000000000000000000000000",
    ]


@pytest.mark.parametrize("source", ["aws:sns", "aws:s3", "", "AWS:SES"])
def test_other_event_sources_are_refused(source):
    event = sample()
    event["Records"][0]["eventSource"] = source

    with pytest.raises(ValidationError):
        ses_event.deliveries(event, "inbound/")


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": []},
        {"Records": [{"eventSource": "aws:ses"}]},
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "{}"}}]},
    ],
)
def test_what_is_not_a_receipt_event_is_refused(event):
    with pytest.raises(ValidationError):
        ses_event.deliveries(event, "inbound/")


def test_no_recipients_is_refused():
    event = sample()
    receipt_of(event)["recipients"] = []

    with pytest.raises(ValidationError):
        ses_event.deliveries(event, "inbound/")


@pytest.mark.parametrize("message_id", ["", "../../other/key", "a/b", "a b", "x" * 257])
def test_message_ids_that_are_no_object_name_are_refused(message_id):
    event = sample()
    mail_of(event)["messageId"] = message_id

    with pytest.raises(ValidationError):
        ses_event.deliveries(event, "inbound/")


def test_timestamp_must_be_a_time():
    event = sample()
    mail_of(event)["timestamp"] = "yesterday"

    with pytest.raises(ValidationError):
        ses_event.deliveries(event, "inbound/")
