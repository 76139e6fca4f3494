"""Sending as a user does it: real tokens, HTTP to the local API, the pollers and simulated SES running."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from local.service import LocalService
from tests.conftest import ApiResponse
from tests.e2e.helpers import ALICE, BOB, Reader

BOUNCE = "bounce@simulator.amazonses.com"


def post(reader: Reader, path: str, body: dict[str, Any]) -> ApiResponse:
    request = urllib.request.Request(
        reader.base + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {reader.token}", "content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return ApiResponse(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return ApiResponse(error.code, dict(error.headers), error.read())


def eventually(check: Callable[[], Any], seconds: float = 20) -> Any:
    """The first truthy answer of `check`, polled while the pipeline works in the background."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing after {seconds} s")


def test_alice_writes_to_bob_and_bob_reads_it(service: LocalService, alice: Reader, bob: Reader):
    # Given alice and bob signed in with their own tokens
    subject = f"Dinner {time.time_ns()}"

    # When alice sends over HTTP
    sent = post(alice, "/outbox", {"to": [BOB], "subject": subject, "text": "Thursday at eight?"})

    # Then bob finds it in his Inbox, and alice's Sent copy says delivered
    found = eventually(lambda: [m for m in bob.listing("inbox") if m["subject"] == subject])
    opened = bob.get(f"/messages/{found[0]['id']}").json()
    copy = alice.get(f"/messages/{sent.json()['id']}").json()
    assert sent.status == 202
    assert opened["from"] == [{"name": "", "address": ALICE}]
    assert opened["text"] == "Thursday at eight?\r\n"
    assert copy["delivery"] == {BOB: {"status": "delivered", "detail": "stored"}}
    assert bob.get(f"/messages/{sent.json()['id']}").status == 404


def test_one_send_to_the_bounce_simulator_ends_in_suppression(service: LocalService, alice: Reader):
    # When alice writes to SES's bounce simulator
    sent = post(alice, "/outbox", {"to": [BOUNCE], "subject": "Will bounce"})
    message_id = sent.json()["id"]

    # Then SES's Bounce event comes back, the address is suppressed, and the Sent copy (updated
    # before the list) says so
    def suppressed() -> list[dict[str, Any]]:
        return [s for s in alice.get("/suppressions").json()["suppressions"] if s["address"] == BOUNCE]

    [entry] = eventually(suppressed)
    copy = alice.get(f"/messages/{message_id}").json()
    assert sent.status == 202
    assert (entry["reason"], entry["detail"]) == ("bounced", "smtp; 550 5.1.1 user unknown")
    assert copy["delivery"][BOUNCE]["status"] == "bounced"
    assert copy["send_status"] == "failed"
    assert [m["to"] for m in service.ses.outbox if m["tags"]["message"] == message_id] == [[BOUNCE]]
