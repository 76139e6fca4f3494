"""Mailbox API function: behind the HTTP API, after its Cognito JWT authorizer."""

from __future__ import annotations

from typing import Any

from mailcore.api import mailbox_routes, sending_routes
from mailcore.api.app import app
from mailcore.observability import logger, metrics

app.include_router(mailbox_routes.router)
app.include_router(sending_routes.router)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
