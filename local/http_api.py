"""An HTTP server that does API Gateway's part: check the token, build the v2 event, answer."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local import auth
from local.lambda_context import LocalContext
from local.resources import Resources
from mailcore import tokens
from mailcore.observability import logger

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
# Content types whose bodies reach the function as text, when they are valid UTF-8.
TEXT_TYPES = ("application/json", "text/")
# Routes the HTTP API serves without its authorizer.
UNAUTHENTICATED_PATHS = {"/health"}
Function = Callable[[dict[str, Any], Any], dict[str, Any]]
TokenIssuer = Callable[[str, str], str]


def http_event(
    method: str, target: str, headers: dict[str, str], body: bytes, claims: dict[str, Any]
) -> dict[str, Any]:
    """The payload format 2.0 event an HTTP API with a JWT authorizer sends its function."""
    url = urlsplit(target)
    query: dict[str, str] = {}
    for key, value in parse_qsl(url.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    text = _as_text(body, headers.get("content-type", ""))
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path,
        "rawQueryString": url.query,
        "headers": headers,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "authorizer": {"jwt": {"claims": {k: _claim(v) for k, v in claims.items()}, "scopes": None}},
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": (text if text is not None else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and text is None,
    }


def _as_text(body: bytes, content_type: str) -> str | None:
    """The body as text where API Gateway passes it so: valid UTF-8 of a textual type; else None."""
    if content_type and not content_type.lower().startswith(TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _claim(value: Any) -> str:
    """API Gateway hands every claim to the function as a string."""
    return value if isinstance(value, str) else json.dumps(value)


class _Handler(BaseHTTPRequestHandler):
    server: LocalHttpApi
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        if self.path.startswith("/local/token") and self.command == "POST":
            self._issue_token(body)
            return
        if self.path.startswith("/local/outbox") and self.command == "GET":
            self._reply(200, {"sent": self.server.outbox()})
            return
        claims: dict[str, Any] = {}
        try:
            if urlsplit(self.path).path not in UNAUTHENTICATED_PATHS:
                claims = auth.verify_any(self.headers.get("authorization"), self.server.pools)
        except tokens.TokenRejectedError:
            self._reply(401, {"message": "Unauthorized"})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        event = http_event(self.command, self.path, headers, body, claims)
        try:
            response = self.server.function(event, LocalContext("api"))
        except Exception:  # noqa: BLE001 - API Gateway answers a failed invocation with this 500
            logger.exception("api function failed", path=urlsplit(self.path).path)
            self._reply(500, {"message": "Internal Server Error"})
            return
        self._write_lambda_response(response)

    def handle_expect_100(self) -> bool:
        """Refuse before the client sends a body that would be refused after."""
        refusal = self._refusal()
        if refusal is not None:
            self._refuse(*refusal)
            return False
        return super().handle_expect_100()

    def _read_body(self) -> bytes | None:
        """The body its Content-Length announces; None once a refusal has been answered."""
        refusal = self._refusal()
        if refusal is not None:
            self._refuse(*refusal)
            return None
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _refusal(self) -> tuple[int, str] | None:
        """What API Gateway answers a body it would not pass on: unmeasured, unreadable, too big."""
        if "transfer-encoding" in self.headers:
            return 411, "Length Required"
        lengths = {value.strip() for value in self.headers.get_all("content-length", [])}
        if len(lengths) > 1 or not all(value.isascii() and value.isdigit() for value in lengths):
            return 400, "Bad Request"
        if lengths and int(lengths.pop()) > MAX_BODY:
            return 413, "Request Entity Too Large"
        return None

    def _refuse(self, status: int, message: str) -> None:
        """Answer and close: the body is left unread, so what follows on the connection is no request."""
        reply_json(self, status, {"message": message}, {"connection": "close"})

    def _issue_token(self, body: bytes) -> None:
        try:
            request = json.loads(body or b"{}")
            token = self.server.issue_token(request["username"], request["password"])
        except (ValueError, KeyError, TypeError):
            self._reply(400, {"message": 'send {"username": ..., "password": ...}'})
            return
        except Exception as error:  # noqa: BLE001 - Cognito's refusal, passed on as a 401
            self._reply(401, {"message": type(error).__name__})
            return
        self._reply(200, {"id_token": token})

    def _write_lambda_response(self, response: dict[str, Any]) -> None:
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        self.send_response(response.get("statusCode", 200))
        for name, value in (response.get("headers") or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        reply_json(self, status, payload)


def reply_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


class LocalHttpApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        function: Function,
        trusted: list[Resources],
        issue_token: TokenIssuer,
        outbox: Callable[[], list[dict[str, Any]]],
    ) -> None:
        super().__init__(address, _Handler)
        self.function = function
        self.outbox = outbox
        self.issue_token = issue_token
        self.pools = [tokens.Pool(r.region, r.user_pool_id, r.client_id) for r in trusted]
        self.port = self.server_address[1]

    def start(self) -> None:
        threading.Thread(target=self.serve_forever, name="http-api", daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
