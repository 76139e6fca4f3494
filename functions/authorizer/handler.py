"""Authorizer function: the HTTP API's Lambda authorizer (simple responses, cached by token).

It accepts an ID token from any region's user pool, so sign-in survives a region outage.
"""

from __future__ import annotations

import time
from typing import Any

from mailcore import tokens
from mailcore.observability import logger
from mailcore.repository import Table

# The list of pools changes when a region is added; reading it again now and then is enough.
POOLS_REFRESH_SECONDS = 600
_pools: tuple[float, list[tokens.Pool]] = (0.0, [])


def _trusted_pools() -> list[tokens.Pool]:
    global _pools
    fetched, pools = _pools
    if not pools or time.time() - fetched > POOLS_REFRESH_SECONDS:
        _pools = (time.time(), tokens.registered_pools(Table()))
    return _pools[1]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    header = (event.get("headers") or {}).get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    try:
        claims = tokens.verify(token, _trusted_pools(), tokens.cognito_keys())
    except tokens.TokenRejectedError as error:
        logger.info("token refused", reason=str(error))
        return {"isAuthorized": False}
    account_id = claims.get("custom:account_id")
    if claims.get("token_use") != "id" or not isinstance(account_id, str) or not account_id:
        logger.info("token refused", reason="not an ID token naming an account")
        return {"isAuthorized": False}
    return {"isAuthorized": True, "context": {"account_id": account_id, "sub": str(claims.get("sub", ""))}}
