"""Fixtures shared by the suites: AWS on moto, the demo accounts, and API calls as a user."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

import local  # noqa: F401 - sets the Powertools environment before functions are imported
from local import resources, ses
from local.http_api import http_event
from local.lambda_context import LocalContext
from mailcore import bounces, directory
from mailcore.repository import Bucket, Table

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
CORPUS = ROOT.parent / "shared" / "corpus"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Aws:
    """One region's resources on moto, seeded with the demo domain and two accounts."""

    resources: resources.Resources
    accounts: dict[str, str]
    table: Table
    bucket: Bucket

    def api(
        self,
        method: str,
        path: str,
        account: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        """Call the API function as API Gateway would for a caller signed in as `account`."""
        from functions.api import handler as api_function

        data = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        sent = {"content-type": "application/json", **(headers or {})}
        claims = {"custom:account_id": account} if account else {}
        event = http_event(method, path, sent, data, claims)
        response = api_function.handler(event, LocalContext("api"))
        raw = response.get("body") or ""
        content = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        return ApiResponse(response["statusCode"], response.get("headers") or {}, content)

    def account(self, address: str) -> str:
        return self.accounts[address]

    @property
    def bounces(self) -> ses.RecordedBounces:
        recorded = bounces.get_bouncer()
        assert isinstance(recorded, ses.RecordedBounces)
        return recorded


@pytest.fixture(autouse=True)
def recorded_bounces() -> Iterator[ses.RecordedBounces]:
    """moto has no SendBounce; every test keeps the bounces SES would have sent."""
    recorded = ses.RecordedBounces()
    bounces.use_bouncer(recorded)
    directory.forget_cached_domains()
    yield recorded
    bounces.use_bouncer(None)


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        created = resources.create("us-east-1")
        accounts = resources.seed_demo(created)
        yield Aws(
            resources=created,
            accounts=accounts,
            table=Table(created.table_name, created.region),
            bucket=Bucket(created.bucket_name, created.region),
        )


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}; it ships beside the repository")
    return CORPUS
