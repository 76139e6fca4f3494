"""Clients for the local stack, as a user and as the internet's mail servers meet it."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from local.resources import DEMO_PASSWORD
from local.service import LocalService
from tests.conftest import ApiResponse

SENDER = "sender@example.org"
ALICE = "alice@demo.test"
BOB = "bob@demo.test"


@dataclass
class Reader:
    """An account holder's client: a Cognito ID token, and plain HTTP to the local API."""

    base: str
    token: str

    def get(self, path: str) -> ApiResponse:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return ApiResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, dict(error.headers), error.read())

    def listing(self, mailbox: str = "inbox") -> list[dict[str, Any]]:
        """Every message of the mailbox, page by page (50 a page), newest first."""
        found: list[dict[str, Any]] = []
        path = f"/mailboxes/{mailbox}/messages?limit=50"
        while path:
            response = self.get(path)
            assert response.status == 200, response.body
            page = response.json()
            found += page["messages"]
            cursor = page["next_cursor"]
            path = f"/mailboxes/{mailbox}/messages?limit=50&cursor={cursor}" if cursor else ""
        return found


def sign_in(service: LocalService, address: str) -> Reader:
    """Sign in over HTTP, as `python -m local.token` does."""
    base = f"http://{service.host}:{service.http_port}"
    body = json.dumps({"username": address, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(
        f"{base}/local/token", data=body, headers={"content-type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return Reader(base, json.load(response)["id_token"])


def smtp_client(service: LocalService) -> smtplib.SMTP:
    client = smtplib.SMTP(service.host, service.smtp_port, timeout=60)
    client.ehlo("e2e.example.org")
    return client
