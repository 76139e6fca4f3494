"""Mailbox API function: behind the HTTP API, after its Cognito JWT authorizer."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from mailcore.errors import MailError
from mailcore.mailboxes import MailService
from mailcore.models import (
    Deleted,
    Mailbox,
    MailboxList,
    MailboxRename,
    MessageChange,
    MessageDetail,
    MessagePage,
    MessageSummary,
    NewMailbox,
)
from mailcore.observability import logger
from mailcore.repository import Bucket, Table

# Larger bodies do not fit a Lambda response once base64-encoded.
MAX_INLINE_DOWNLOAD = 4 * 1024 * 1024
ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]

app = APIGatewayHttpResolver(enable_validation=True)


def _json_bodies_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """Every body this API takes is JSON; a form or text body would be misread as one."""
    event = app.current_event
    content_type = (event.headers or {}).get("content-type", "")
    if event.body and not content_type.lower().startswith("application/json"):
        return _error(
            415, "UnsupportedMediaType", "send the body as JSON, with content-type application/json"
        )
    return next_middleware(app)


app.use(middlewares=[_json_bodies_only])


class Unauthorized(MailError):
    status = 401


def _service() -> MailService:
    return MailService(Table(), Bucket())


def _account() -> str:
    """The caller's account, from the claims the JWT authorizer verified."""
    context = app.current_event.request_context
    claims = (context.authorizer.jwt_claim if context.authorizer else None) or {}
    account_id = claims.get("custom:account_id")
    if not isinstance(account_id, str) or not account_id:
        raise Unauthorized("the token names no account")
    logger.append_keys(account_id=account_id)
    return account_id


@app.get("/mailboxes")
def list_mailboxes() -> MailboxList:
    return MailboxList(mailboxes=_service().list_mailboxes(_account()))


@app.post("/mailboxes")
def create_mailbox(body: NewMailbox) -> Response[Mailbox]:
    mailbox = _service().create_mailbox(_account(), body.name)
    return Response(201, content_types.APPLICATION_JSON, mailbox)


@app.patch("/mailboxes/<mailbox_id>")
def rename_mailbox(mailbox_id: ID, body: MailboxRename) -> Mailbox:
    return _service().rename_mailbox(_account(), mailbox_id, body.name)


@app.delete("/mailboxes/<mailbox_id>")
def delete_mailbox(mailbox_id: ID) -> Deleted:
    return _service().delete_mailbox(_account(), mailbox_id)


@app.get("/mailboxes/<mailbox_id>/messages")
def list_messages(
    mailbox_id: ID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> MessagePage:
    return _service().list_messages(_account(), mailbox_id, limit, cursor)


@app.get("/messages/<message_id>")
def get_message(message_id: ID) -> MessageDetail:
    return _service().get_message(_account(), message_id)


@app.patch("/messages/<message_id>")
def change_message(message_id: ID, body: MessageChange) -> MessageSummary:
    return _service().change_message(_account(), message_id, body)


@app.delete("/messages/<message_id>")
def delete_message(message_id: ID, permanent: Annotated[bool, Query()] = False) -> Deleted:
    return _service().delete_message(_account(), message_id, permanent)


@app.get("/messages/<message_id>/raw")
def raw_message(message_id: ID) -> Response[bytes]:
    data = _service().raw_message(_account(), message_id)
    return _download(data, "message/rfc822", f"{message_id}.eml")


@app.get("/messages/<message_id>/attachments/<index>")
def attachment(message_id: ID, index: Annotated[int, Path(ge=0, le=10_000)]) -> Response[bytes]:
    described, data = _service().attachment(_account(), message_id, index)
    return _download(data, described.content_type, described.filename)


@app.get("/openapi.json")
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(title="Mail API", version="1.0.0")
    return Response(200, content_types.APPLICATION_JSON, schema)


def _download(data: bytes, content_type: str, filename: str) -> Response[bytes]:
    if len(data) > MAX_INLINE_DOWNLOAD:
        raise MailTooLargeForResponse(
            f"the content is {len(data)} bytes; this API returns at most {MAX_INLINE_DOWNLOAD}"
        )
    disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(200, content_type, data, headers={"Content-Disposition": disposition})


class MailTooLargeForResponse(MailError):
    status = 413


@app.exception_handler(MailError)
def _mail_error(error: MailError) -> Response[dict]:
    if error.status >= 500:
        logger.exception("request failed")
    return _error(error.status, type(error).__name__, str(error))


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[dict]:
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", e.get("type"))}
        for e in error.errors()
    ]
    summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
    response = _error(422, "InvalidRequest", summary)
    response.body["error"]["details"] = problems
    return response


@app.not_found
def _no_route(_: Exception) -> Response[dict]:
    return _error(404, "NotFound", f"no route {app.current_event.http_method} {app.current_event.path}")


def _error(status: int, code: str, message: str) -> Response[dict]:
    return Response(status, content_types.APPLICATION_JSON, {"error": {"code": code, "message": message}})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
