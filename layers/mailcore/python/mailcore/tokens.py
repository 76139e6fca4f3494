"""Check Cognito ID tokens from any region's user pool.

User pools are regional. Each region's pool holds every account's user (the admin command
creates them everywhere), and each region's API accepts a token from any of the pools, so
a client that signed in before a region failed keeps working, and one signing in now can
use any region's pool. Each stack registers its pool in the global table under `POOLS`;
the authorizer reads that list and the pools' public keys once per container.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt

from mailcore.repository import Table

POOLS_PK = "POOLS"
# Public keys are fetched again at most this often, for a key the cache does not know.
KEY_REFRESH_SECONDS = 300


class TokenRejectedError(Exception):
    pass


@dataclass(frozen=True)
class Pool:
    region: str
    user_pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def register_pool(table: Table, pool: Pool) -> None:
    table.put({"pk": POOLS_PK, "sk": pool.region, "kind": "pool", **vars(pool)})


def registered_pools(table: Table) -> list[Pool]:
    return [
        Pool(item["region"], item["user_pool_id"], item["client_id"])
        for item in table.query_prefix(POOLS_PK, "")
    ]


def verify(token: str, pools: list[Pool], keys: KeySource) -> dict[str, Any]:
    """The claims of an unexpired ID token issued by one of `pools` for its app client."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        kid = jwt.get_unverified_header(token).get("kid", "")
    except jwt.PyJWTError as error:
        raise TokenRejectedError(f"not a token: {error}") from error
    pool = next((p for p in pools if p.issuer == unverified.get("iss")), None)
    if pool is None:
        raise TokenRejectedError("token from an issuer this service does not trust")
    try:
        return jwt.decode(
            token,
            keys.key(pool, kid),
            algorithms=["RS256"],
            audience=pool.client_id,
            issuer=pool.issuer,
            options={"require": ["exp", "iss", "aud", "token_use"]},
        )
    except jwt.PyJWTError as error:
        raise TokenRejectedError(str(error)) from error


class KeySource:
    """Public signing keys by pool and key id."""

    def key(self, pool: Pool, kid: str) -> Any:
        raise NotImplementedError


class CognitoKeys(KeySource):
    """Keys from each pool's published JWKS document, cached and refetched for unknown ids."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], Any] = {}
        self._fetched: dict[str, float] = {}

    def key(self, pool: Pool, kid: str) -> Any:
        found = self._keys.get((pool.issuer, kid))
        if found is None and time.time() - self._fetched.get(pool.issuer, 0) > KEY_REFRESH_SECONDS:
            self._fetch(pool)
            found = self._keys.get((pool.issuer, kid))
        if found is None:
            raise TokenRejectedError("token signed with an unknown key")
        return found

    def _fetch(self, pool: Pool) -> None:
        with urllib.request.urlopen(f"{pool.issuer}/.well-known/jwks.json", timeout=3) as response:
            document = json.load(response)
        for entry in document.get("keys", []):
            self._keys[(pool.issuer, entry["kid"])] = jwt.PyJWK(entry).key
        self._fetched[pool.issuer] = time.time()


@cache
def cognito_keys() -> CognitoKeys:
    return CognitoKeys()
