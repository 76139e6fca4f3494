"""Check a token as the HTTP API's authorizer does, with moto's signing key."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp

from mailcore import tokens


class MotoKeys(tokens.KeySource):
    """moto signs every token with one bundled key; its public half is shipped beside it."""

    def key(self, pool: tokens.Pool, kid: str) -> Any:
        found = _moto_signing_keys().get(kid)
        if found is None:
            raise tokens.TokenRejectedError("token signed with an unknown key")
        return found


@cache
def _moto_signing_keys() -> dict[str, Any]:
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    jwks = json.loads(gzip.decompress(path.read_bytes()))
    return {key["kid"]: jwt.PyJWK(key).key for key in jwks["keys"]}


def verify_any(authorization: str | None, pools: list[tokens.Pool]) -> dict[str, Any]:
    """The claims of an ID token from any of the regions' pools, as the authorizer checks it."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise tokens.TokenRejectedError("missing bearer token")
    claims = tokens.verify(authorization.split(" ", 1)[1].strip(), pools, MotoKeys())
    if claims.get("token_use") != "id":
        raise tokens.TokenRejectedError("not an ID token")
    return claims
