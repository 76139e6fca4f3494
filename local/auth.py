"""Check a token as the HTTP API's Cognito JWT authorizer does."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import moto.cognitoidp


class TokenRejected(Exception):
    pass


@cache
def _moto_signing_keys() -> dict[str, Any]:
    """moto signs every token with one bundled key; its public half is shipped beside it."""
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    jwks = json.loads(gzip.decompress(path.read_bytes()))
    return {key["kid"]: jwt.PyJWK(key).key for key in jwks["keys"]}


def verify(authorization: str | None, region: str, user_pool_id: str, client_id: str) -> dict:
    """The token's claims if it is an unexpired ID token of this pool and client."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise TokenRejected("missing bearer token")
    token = authorization.split(" ", 1)[1].strip()
    try:
        kid = jwt.get_unverified_header(token).get("kid", "")
        key = _moto_signing_keys().get(kid)
        if key is None:
            raise TokenRejected("token signed with an unknown key")
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=client_id,
            issuer=f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}",
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(str(error)) from error
    return claims


def verify_any(authorization: str | None, pools: list[dict[str, str]]) -> dict:
    """Accept an ID token from any of the regions' pools, so sign-in survives a region outage."""
    failure = TokenRejected("no user pool to check against")
    for pool in pools:
        try:
            return verify(authorization, **pool)
        except TokenRejected as error:
            failure = error
    raise failure
