"""The resolver, the caller's identity, and the one place errors become HTTP answers."""

from __future__ import annotations

from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from mailcore.errors import MailError
from mailcore.observability import logger
from mailcore.repository import Bucket
from mailcore.settings import current_region

# Larger bodies do not fit a Lambda response once base64-encoded.
MAX_INLINE_DOWNLOAD = 4 * 1024 * 1024
# Larger downloads are offered by a signed S3 URL, valid this long.
DOWNLOAD_URL_SECONDS = 900
# Routes whose body is not JSON: a raw message and an attachment upload.
BINARY_BODY_PATHS = ("/outbox/raw", "/uploads")

app = APIGatewayHttpResolver(enable_validation=True)


class UnauthorizedError(MailError):
    status = 401


def account() -> str:
    """The caller's account, from what the authorizer verified: a Lambda authorizer's context
    on AWS (tokens from any region's pool), or a JWT authorizer's claims."""
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    granted = (authorizer.get_lambda if authorizer else None) or {}
    account_id = granted.get("account_id") or claims.get("custom:account_id")
    if not isinstance(account_id, str) or not account_id:
        raise UnauthorizedError("the token names no account")
    logger.append_keys(account_id=account_id)
    return account_id


class Download(Response):
    """Bytes sent as they are, whatever their type: Powertools would serialize a body typed
    application/json as JSON, and fail (a 500) on one that is not UTF-8."""

    def is_json(self) -> bool:
        return False


def download(data: bytes, content_type: str, filename: str, spill_key: str) -> Response:
    """The content itself, or past what a Lambda response holds, a redirect to a signed S3 URL."""
    disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    if len(data) <= MAX_INLINE_DOWNLOAD:
        return Download(200, content_type, data, headers={"Content-Disposition": disposition})
    bucket = Bucket()
    bucket.put(spill_key, data)
    url = bucket.presigned_get(spill_key, content_type, disposition, DOWNLOAD_URL_SECONDS)
    return Response(303, content_types.APPLICATION_JSON, {"location": url}, headers={"Location": url})


def error(status: int, code: str, message: str) -> Response[dict]:
    return Response(status, content_types.APPLICATION_JSON, {"error": {"code": code, "message": message}})


def _json_bodies_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """Bodies are JSON except on the binary routes; a form body would be misread as JSON."""
    if _body_not_json():
        return _unsupported_media_type()
    return next_middleware(app)


def _body_not_json() -> bool:
    event = app.current_event
    content_type = (event.headers or {}).get("content-type", "")
    binary = event.path.startswith(BINARY_BODY_PATHS)
    return bool(event.body) and not binary and not content_type.lower().startswith("application/json")


def _unsupported_media_type() -> Response[dict]:
    return error(415, "UnsupportedMediaType", "send the body as JSON, with content-type application/json")


app.use(middlewares=[_json_bodies_only])


@app.exception_handler(MailError)
def _mail_error(failure: MailError) -> Response[dict]:
    if failure.status >= 500:
        logger.exception("request failed")
    return error(failure.status, failure.code or type(failure).__name__.removesuffix("Error"), str(failure))


@app.exception_handler(RequestUnsupportedContentType)
def _not_json(_: Exception) -> Response[dict]:
    return _unsupported_media_type()


@app.exception_handler(RequestValidationError)
def _invalid_request(failure: RequestValidationError) -> Response[dict]:
    # Powertools validates before any middleware runs, reading a form body as if it were JSON.
    if _body_not_json():
        return _unsupported_media_type()
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", e.get("type"))}
        for e in failure.errors()
    ]
    summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
    body = {"error": {"code": "InvalidRequest", "message": summary, "details": problems}}
    return Response(422, content_types.APPLICATION_JSON, body)


@app.exception_handler(RecursionError)
def _nested_too_deeply(_: RecursionError) -> Response[dict]:
    """json refuses to read past a few hundred levels of nesting, by raising RecursionError."""
    return error(400, "InvalidRequest", "the JSON body nests too deeply")


@app.exception_handler(UnicodeDecodeError)
def _not_utf8(_: UnicodeDecodeError) -> Response[dict]:
    return error(400, "InvalidRequest", "the JSON body is not UTF-8")


@app.exception_handler(ValueError)
def _number_too_long(failure: ValueError) -> Response[dict]:
    """json refuses an integer of more than 4,300 digits with a plain ValueError; others are ours."""
    if "integer string conversion" not in str(failure):
        raise failure
    return error(400, "InvalidRequest", "the JSON body holds a number too long to read")


@app.not_found
def _no_route(_: Exception) -> Response[dict]:
    return error(404, "NotFound", f"no route {app.current_event.http_method} {app.current_event.path}")


@app.get("/health")
def health() -> dict[str, str]:
    """For Route 53 health checks; the HTTP API routes it without an authorizer."""
    return {"status": "ok", "region": current_region() or ""}


@app.get("/openapi.json")
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(title="Mail API", version="1.0.0")
    return Response(200, content_types.APPLICATION_JSON, schema)
