"""Signing in locally matches addresses in any case, as the user pools on AWS do."""

from __future__ import annotations

import sys

import pytest

from local import auth, resources
from local import token as token_command
from local.service import LocalService
from mailcore import tokens
from tests.e2e.helpers import BOB, sign_in

EVE = "Eve@Example.com"
EVE_PASSWORD = "S3cret-pass!1"


@pytest.fixture(scope="module")
def eve(service: LocalService) -> str:
    """An account added with capitals in its address, as `make admin ARGS="account add ..."` does."""
    with service.scope:
        resources.add_domain(service.resources, "example.com")
        return resources.add_user(service.resources, EVE, EVE_PASSWORD)


@pytest.mark.parametrize("written", ["Eve@Example.com", "eve@example.com", "EVE@EXAMPLE.COM"])
def test_an_account_added_with_capitals_signs_in_in_any_case(
    service: LocalService, eve: str, written: str, monkeypatch: pytest.MonkeyPatch, capsys
):
    # When its owner asks for a token, spelling the address this way
    api = f"http://{service.host}:{service.http_port}"
    monkeypatch.setattr(sys, "argv", ["local.token", written, "--password", EVE_PASSWORD, "--api", api])
    token_command.main()

    # Then the token names eve's account
    claims = _claims(service, capsys.readouterr().out.strip())
    assert claims["custom:account_id"] == eve


def test_a_demo_account_signs_in_with_capitals(service: LocalService):
    reader = sign_in(service, BOB.title())

    assert _claims(service, reader.token)["custom:account_id"] == service.accounts[BOB]
    assert reader.get("/mailboxes").status == 200


def _claims(service: LocalService, id_token: str) -> dict:
    pool = tokens.Pool(service.region, service.resources.user_pool_id, service.resources.client_id)
    return auth.verify_any(f"Bearer {id_token}", [pool])
