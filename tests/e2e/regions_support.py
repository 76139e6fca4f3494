"""Helpers for the multi-region scenarios: a client per region, mail over SMTP, waiting on replication."""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from local.http_api import http_event
from local.lambda_context import LocalContext
from local.multi import LocalMultiRegion
from local.resources import DEMO_PASSWORD
from local.service import LocalService
from tests.conftest import ApiResponse
from tests.e2e.helpers import BOB, SENDER

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
MAILBOXES = ("inbox", "junk", "trash", "sent", "drafts")
T = TypeVar("T")


def message(subject: str, message_id: str | None = None, body: str = "Hello.", to: str = BOB) -> bytes:
    """A plain message; smtplib sends it, and the listener stores it, byte for byte."""
    head = f"From: Carol <carol@example.org>\r\nTo: {to}\r\nSubject: {subject}\r\n"
    if message_id:
        head += f"Message-ID: {message_id}\r\n"
    return f"{head}\r\n{body}\r\n".encode()


def send(service: LocalService, raw: bytes, recipients: tuple[str, ...] = (BOB,)) -> int:
    """Deliver as a mail server would; returns the reply code to DATA (250 when accepted)."""
    with smtplib.SMTP(service.host, service.smtp_port, timeout=30) as client:
        client.ehlo("mx-test.example.org")
        client.mail(SENDER)
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            assert code == 250, reply
        code, _ = client.data(raw)
    return code


@dataclass
class Client:
    """An account holder's app talking to one region's HTTP API with an ID token."""

    base: str
    token: str

    def call(self, method: str, path: str, body: Any = None) -> ApiResponse:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "content-type": "application/json"}
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return ApiResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, dict(error.headers), error.read())

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        response = self.call(method, path, body)
        assert response.status == 200, (method, path, response.status, response.body)
        return response.json()

    def change(self, message_id: str, **change: Any) -> dict[str, Any]:
        return self.ok("PATCH", f"/messages/{message_id}", change)

    def listing(self, mailbox: str = "inbox") -> list[dict[str, Any]]:
        """Every message of the mailbox, newest first."""
        found: list[dict[str, Any]] = []
        path = f"/mailboxes/{mailbox}/messages?limit=200"
        while path:
            page = self.ok("GET", path)
            found += page["messages"]
            cursor = page["next_cursor"]
            path = f"/mailboxes/{mailbox}/messages?limit=200&cursor={cursor}" if cursor else ""
        return found

    def counts(self) -> dict[str, tuple[int, int]]:
        """(total, unread) per mailbox, as GET /mailboxes reports them."""
        return {m["id"]: (m["total"], m["unread"]) for m in self.ok("GET", "/mailboxes")["mailboxes"]}

    def true_counts(self) -> dict[str, tuple[int, int]]:
        """(total, unread) per mailbox, counted from the listings themselves."""
        listed = {mailbox: self.listing(mailbox) for mailbox in MAILBOXES}
        return {mb: (len(found), sum(not m["seen"] for m in found)) for mb, found in listed.items()}

    def view(self) -> dict[str, Any]:
        """Everything the account sees: counts and every mailbox's listing."""
        return {"counts": self.counts(), **{mb: self.listing(mb) for mb in MAILBOXES}}

    def ids_by_subject(self, mailbox: str = "inbox") -> dict[str, str]:
        return {m["subject"]: m["id"] for m in self.listing(mailbox)}


def sign_in(service: LocalService, address: str) -> Client:
    """Sign in over HTTP at the region, with its user pool, as `python -m local.token` does."""
    body = json.dumps({"username": address, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(
        f"{api_base(service)}/local/token",
        data=body,
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return Client(api_base(service), json.load(response)["id_token"])


def api_base(service: LocalService) -> str:
    return f"http://{service.host}:{service.http_port}"


def at(service: LocalService, client: Client) -> Client:
    """The same token, used at another region's API."""
    return Client(api_base(service), client.token)


def call_function(service: LocalService, account_id: str, method: str, path: str, body: Any = None) -> Any:
    """Call a region's API function directly under its scope: a client of a region whose ports are cut."""
    from functions.api import handler as api_function

    data = b"" if body is None else json.dumps(body).encode()
    event = http_event(
        method, path, {"content-type": "application/json"}, data, {"custom:account_id": account_id}
    )
    with service.scope:
        response = api_function.handler(event, LocalContext("api"))
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def message_items(multi: LocalMultiRegion, region: str, account_id: str, kind: str = "MSG#") -> dict:
    """The region's raw table items of one kind (MSG# or TOMB#) for the account, by sort key."""
    pk = f"ACCT#{account_id}"
    return {sk: item for (p, sk), item in multi.snapshot(region).items() if p == pk and sk.startswith(kind)}


def wait_for(check: Callable[[], T], what: str, timeout: float = 20.0) -> T:
    """Poll until `check` returns something truthy; fail naming `what` if it never does."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}")
