"""Deliver mail the way SES does and read it back the way an app does."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from functions.inbound import handler as inbound_function
from local import ses
from local.lambda_context import LocalContext
from local.resources import DEMO_ACCOUNTS, DEMO_DOMAIN
from mailcore import aws as mail_aws
from mailcore import directory
from tests.conftest import EVENTS, load_event

SAMPLE = (EVENTS / "ses_receipt.eml").read_bytes()
SAMPLE_CSV = b"quarter,total\r\nQ1,120\r\nQ2,135\r\n"


def ses_event(
    recipients: list[str],
    ses_id: str,
    timestamp: str | None = None,
    verdicts: dict[str, str] | None = None,
    name: str = "ses_receipt.json",
) -> dict[str, Any]:
    """The sample receipt event, addressed to `recipients`, naming the object at inbound/<ses_id>."""
    event = copy.deepcopy(load_event(name))
    record = event["Records"][0]["ses"]
    record["mail"]["messageId"] = ses_id
    record["mail"]["destination"] = recipients
    record["receipt"]["recipients"] = recipients
    if timestamp:
        record["mail"]["timestamp"] = record["receipt"]["timestamp"] = timestamp
    for verdict, status in (verdicts or {}).items():
        record["receipt"][f"{verdict}Verdict"] = {"status": status}
    return event


def deliver(
    aws: Any,
    raw: bytes = SAMPLE,
    recipients: tuple[str, ...] = ("bob@demo.test",),
    timestamp: str | None = None,
    verdicts: dict[str, str] | None = None,
) -> dict[str, str]:
    """Do what SES receiving does: store the raw message, then invoke the inbound function."""
    ses_id = ses.new_message_id()
    aws.bucket.put(f"inbound/{ses_id}", raw)
    event = ses_event(list(recipients), ses_id, timestamp, verdicts)
    return invoke(event)[ses_id]


def invoke(event: dict[str, Any]) -> dict[str, dict[str, str]]:
    return inbound_function.handler(event, LocalContext("inbound"))["results"]


def message(
    subject: str = "Hello",
    message_id: str | None = None,
    body: str = "Hello Bob.",
    headers: str = "",
) -> bytes:
    """A small plain-text message; `message_id=None` leaves the Message-ID header out."""
    lines = ["From: Carol <carol@example.org>", "To: bob@demo.test", f"Subject: {subject}"]
    if message_id:
        lines.append(f"Message-ID: <{message_id}>")
    head = "\r\n".join(lines) + "\r\n" + headers
    return f"{head}\r\n{body}\r\n".encode()


def at(second: int) -> str:
    """SES's receipt timestamp, `second` seconds after a fixed minute."""
    return f"2026-03-02T10:{second // 60:02d}:{second % 60:02d}.000Z"


def listing(aws: Any, account: str, mailbox: str = "inbox", query: str = "") -> list[dict[str, Any]]:
    response = aws.api("GET", f"/mailboxes/{mailbox}/messages{query}", account)
    assert response.status == 200, response.body
    return response.json()["messages"]


def counts(aws: Any, account: str) -> dict[str, tuple[int, int]]:
    """(total, unread) of every mailbox, by id."""
    mailboxes = aws.api("GET", "/mailboxes", account).json()["mailboxes"]
    return {m["id"]: (m["total"], m["unread"]) for m in mailboxes}


def only_id(aws: Any, account: str, mailbox: str = "inbox") -> str:
    (found,) = listing(aws, account, mailbox)
    return found["id"]


def error_of(response: Any) -> dict[str, Any]:
    """The error body every 4xx answer carries, after checking its shape."""
    assert response.headers.get("Content-Type") == "application/json", response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message"} <= set(body["error"]), body
    assert body["error"]["message"], body
    return body["error"]


@pytest.fixture(name="aws")
def emptied_region(region: Any) -> Any:
    """The module's region with nothing in it but the demo domain and accounts (see conftest)."""
    _empty_table(region.table.name)
    _empty_bucket(region.bucket.name)
    directory.add_domain(region.table, DEMO_DOMAIN)
    for address in DEMO_ACCOUNTS:
        directory.add_account(region.table, address)
    return region


def _empty_table(name: str) -> None:
    ddb = mail_aws.client("dynamodb")
    for page in ddb.get_paginator("scan").paginate(TableName=name, ProjectionExpression="pk, sk"):
        for key in page["Items"]:
            ddb.delete_item(TableName=name, Key=key)


def _empty_bucket(name: str) -> None:
    s3 = mail_aws.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            s3.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
