"""Sending, drafts, attachment uploads and the suppression list."""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from mailcore import aws, feedback
from mailcore.api.app import account
from mailcore.compose import MAX_INLINE_ATTACHMENT_BYTES, Compose
from mailcore.errors import InvalidRequestError, MailError, PayloadTooLargeError
from mailcore.outbound import Outbound
from mailcore.repository import Bucket, Table
from mailcore.settings import current_region, get_settings

ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]
IdempotencyKey = Annotated[
    str | None, Header(alias="idempotency-key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
]
# Retries of one request are recognised for a day.
IDEMPOTENCY_SECONDS = 24 * 3600
# The routes that share Idempotency-Keys: a key used on one is refused on the other.
OUTBOX = "/outbox"
OUTBOX_RAW = "/outbox/raw"

router = APIGatewayHttpRouter()


def _outbound() -> Outbound:
    return Outbound(Table(), Bucket())


def _accepted(receipt: dict[str, Any]) -> Response[dict]:
    return Response(202, content_types.APPLICATION_JSON, receipt)


@router.post("/outbox")
def send(body: Compose, idempotency_key: IdempotencyKey = None) -> Response[dict]:
    """Send a composed message; a repeated Idempotency-Key sends once and answers the same."""
    request = {
        "account": account(),
        "key": idempotency_key,
        "route": OUTBOX,
        "body": body.model_dump(by_alias=True),
    }
    if idempotency_key is None:
        return _accepted(_send_once(request=request))
    return _accepted(_keyed(request))


@router.post("/outbox/raw")
def send_raw(idempotency_key: IdempotencyKey = None) -> Response[dict]:
    """Send a raw RFC 5322 message (content-type message/rfc822)."""
    data = _body_bytes()
    if not data:
        raise InvalidRequestError("send the message as the body, with content-type message/rfc822")
    digest = hashlib.sha256(data).hexdigest()
    request = {"account": account(), "key": idempotency_key, "route": OUTBOX_RAW, "body": digest, "raw": data}
    if idempotency_key is None:
        return _accepted(_send_once(request=request))
    return _accepted(_keyed(request))


def _body_bytes() -> bytes:
    """The body as the client sent it; Powertools' `decoded_body` would decode it as UTF-8 text."""
    event = router.current_event
    if event.is_base64_encoded:
        return base64.b64decode(event.body or "")
    return (event.body or "").encode("utf-8", "surrogateescape")


def _send_once(request: dict[str, Any]) -> dict[str, Any]:
    """Either route's send: one function, so that both keep their keys in one idempotency record."""
    if request["route"] == OUTBOX_RAW:
        return _outbound().send_raw(request["account"], request["raw"], request["key"])
    compose = Compose.model_validate(request["body"])
    return _outbound().send(request["account"], compose, request["key"])


class RequestInProgressError(MailError):
    status = 409
    code = "RequestInProgress"


class IdempotencyKeyReusedError(MailError):
    status = 422
    code = "IdempotencyKeyReused"


def _keyed(request: dict[str, Any]) -> dict[str, Any]:
    """Send once per account and key; the Lambda context bounds how long a try holds the key.
    Powertools' idempotency is imported here only: it brings boto3 into the cold start."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    idempotent, config = _idempotent(*_idempotency_store())
    config.register_lambda_context(router.lambda_context)
    try:
        return idempotent(request=request)
    except IdempotencyAlreadyInProgressError as error:
        raise RequestInProgressError(
            "a request with this Idempotency-Key is being handled; retry shortly"
        ) from error
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was used with a different request body"
        ) from error


def _idempotency_store() -> tuple[str, str | None]:
    return get_settings().idempotency_table_name, current_region()


@cache
def _idempotent(table_name: str, region: str | None) -> tuple[Any, Any]:
    """Powertools idempotency on the account and key; the same key with another route or body is
    refused."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws.client("dynamodb", region))
    config = IdempotencyConfig(
        event_key_jmespath="[account, key]",
        payload_validation_jmespath="[route, body]",
        expires_after_seconds=IDEMPOTENCY_SECONDS,
    )
    # Without the Lambda context, a try cut off by the function's timeout would hold the key, and
    # refuse every retry with 409, until the record expires a day later.
    idempotent = idempotent_function(
        _send_once, data_keyword_argument="request", persistence_store=persistence, config=config
    )
    return idempotent, config


@router.post("/uploads")
def upload(filename: Annotated[str, Query(min_length=1, max_length=255)]) -> Response[dict]:
    """Upload an attachment to name later in `upload_ids`; the body is the file itself."""
    data = _body_bytes()
    if len(data) > MAX_INLINE_ATTACHMENT_BYTES:
        raise PayloadTooLargeError(f"an upload holds at most {MAX_INLINE_ATTACHMENT_BYTES} bytes")
    content_type = (router.current_event.headers or {}).get("content-type") or "application/octet-stream"
    result = _outbound().upload(account(), filename, content_type.split(";")[0].strip(), data)
    return Response(201, content_types.APPLICATION_JSON, result)


@router.post("/drafts")
def create_draft(body: Compose) -> Response[dict]:
    return Response(201, content_types.APPLICATION_JSON, _outbound().save_draft(account(), body))


@router.get("/drafts/<draft_id>")
def get_draft(draft_id: ID) -> dict:
    return _outbound().draft(account(), draft_id).model_dump(by_alias=True)


@router.put("/drafts/<draft_id>")
def update_draft(draft_id: ID, body: Compose) -> dict:
    outbound = _outbound()
    outbound.draft_item(account(), draft_id)
    return outbound.save_draft(account(), body, draft_id)


@router.delete("/drafts/<draft_id>")
def delete_draft(draft_id: ID) -> dict:
    _outbound().delete_draft(account(), draft_id)
    return {"id": draft_id, "deleted": True}


@router.post("/drafts/<draft_id>/send")
def send_draft(draft_id: ID) -> Response[dict]:
    return _accepted(_outbound().send_draft(account(), draft_id))


@router.get("/suppressions")
def list_suppressions() -> dict:
    return {"suppressions": feedback.list_suppressions(Table(), account())}


@router.delete("/suppressions/<address>")
def remove_suppression(address: Annotated[str, Path(min_length=3, max_length=320)]) -> dict:
    address = unquote(address)
    feedback.remove_suppression(Table(), account(), address)
    return {"address": address, "suppressed": False}
