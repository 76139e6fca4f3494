"""Bad input on every route: a 4xx with a JSON error that says what is wrong, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.api import handler as api_function
from local.lambda_context import LocalContext
from tests.conftest import load_event
from tests.integration.helpers import error_of

TEXT = {"content-type": "text/plain"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
XML = {"content-type": "application/xml"}
MAILBOX_LIST = "/mailboxes/inbox/messages"
# Nested deeper than the JSON parser goes: this raised RecursionError, a 500.
DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 1500).decode()
LIST_CURSOR = base64.urlsafe_b64encode(b"[1, 2]").decode()

# 422 InvalidRequest: (id, method, path, body, what the message says); {message}, {mailbox} are bob's.
INVALID = [
    ("post-broken-json", "POST", "/mailboxes", b'{"name": ', "body.9: JSON decode error"),
    ("rename-broken-json", "PATCH", "/mailboxes/{mailbox}", b"{", "JSON decode error"),
    ("change-broken-json", "PATCH", "/messages/{message}", b'{"seen": tru', "JSON decode error"),
    ("post-name-number", "POST", "/mailboxes", {"name": 5}, "body.name: Input should be a valid string"),
    ("post-list-body", "POST", "/mailboxes", ["Receipts"], "body"),
    ("rename-name-null", "PATCH", "/mailboxes/{mailbox}", {"name": None}, "body.name: Input should be"),
    ("change-seen-word", "PATCH", "/messages/{message}", {"seen": "maybe"}, "body.seen: Input should be"),
    ("change-flagged-list", "PATCH", "/messages/{message}", {"flagged": [1]}, "body.flagged: Input should"),
    ("change-mailbox-number", "PATCH", "/messages/{message}", {"mailbox_id": 7}, "body.mailbox_id: Input"),
    ("post-extra", "POST", "/mailboxes", {"name": "R", "role": "inbox"}, "body.role: Extra inputs"),
    ("rename-extra", "PATCH", "/mailboxes/{mailbox}", {"name": "R", "id": "x"}, "body.id: Extra inputs"),
    ("change-extra", "PATCH", "/messages/{message}", {"seen": True, "gone": 1}, "body.gone: Extra inputs"),
    ("change-empty", "PATCH", "/messages/{message}", {}, "give at least one of seen, flagged, mailbox_id"),
    ("change-nulls", "PATCH", "/messages/{message}", {"seen": None}, "give at least one of seen, flagged"),
    ("change-no-body", "PATCH", "/messages/{message}", None, "body: Field required"),
    ("rename-empty", "PATCH", "/mailboxes/{mailbox}", {}, "body.name: Field required"),
    ("post-no-body", "POST", "/mailboxes", None, "body: Field required"),
    ("change-mailbox-empty", "PATCH", "/messages/{message}", {"mailbox_id": ""}, "at least 1 character"),
    ("post-huge-name", "POST", "/mailboxes", {"name": "x" * 10_000}, "body.name: String should have at most"),
    ("rename-huge-name", "PATCH", "/mailboxes/{mailbox}", {"name": "y" * 101}, "at most 100 characters"),
    ("post-empty-name", "POST", "/mailboxes", {"name": ""}, "body.name: String should have at least 1"),
    ("post-slash-name", "POST", "/mailboxes", {"name": "a/b"}, "body.name: String should match pattern"),
    ("post-newline-name", "POST", "/mailboxes", {"name": "a\nb"}, "body.name: String should match pattern"),
    ("limit-zero", "GET", f"{MAILBOX_LIST}?limit=0", None, "query.limit: Input should be greater than"),
    ("limit-too-big", "GET", f"{MAILBOX_LIST}?limit=201", None, "query.limit: Input should be less than"),
    ("limit-negative", "GET", f"{MAILBOX_LIST}?limit=-3", None, "query.limit: Input should be greater"),
    ("limit-word", "GET", f"{MAILBOX_LIST}?limit=ten", None, "query.limit: Input should be a valid integer"),
    ("cursor-too-long", "GET", f"{MAILBOX_LIST}?cursor={'A' * 2049}", None, "query.cursor: String should"),
    ("permanent-word", "DELETE", "/messages/{message}?permanent=maybe", None, "query.permanent: Input"),
    ("message-id-dash", "GET", "/messages/abc-def", None, "path.message_id: String should match pattern"),
    ("message-id-long", "GET", "/messages/" + "a" * 65, None, "path.message_id: String should have at most"),
    ("message-id-path", "GET", "/messages/..%2F..%2Fetc/raw", None, "path.message_id: String should match"),
    ("message-id-unicode", "PATCH", "/messages/%C3%A9t%C3%A9", {"seen": True}, "path.message_id: String"),
    ("mailbox-id-hash", "GET", "/mailboxes/inbox%23x/messages", None, "path.mailbox_id: String should"),
    ("mailbox-id-space", "DELETE", "/mailboxes/in%20box", None, "path.mailbox_id: String should match"),
    ("mailbox-id-long", "PATCH", "/mailboxes/" + "m" * 65, {"name": "X"}, "path.mailbox_id: String should"),
    ("attachment-huge", "GET", "/messages/{message}/attachments/10001", None, "path.index: Input should be"),
    ("attachment-negative", "GET", "/messages/{message}/attachments/-1", None, "path.index: Input should"),
    ("attachment-word", "GET", "/messages/{message}/attachments/first", None, "path.index: Input should be"),
]

# 400 InvalidRequestError: (id, method, path, body, message)
REFUSED = [
    ("cursor-garbage", "GET", f"{MAILBOX_LIST}?cursor=not-a-cursor", None, "cursor is not one this API"),
    ("cursor-not-base64", "GET", f"{MAILBOX_LIST}?cursor=%E2%9C%93%25", None, "cursor is not one this API"),
    ("cursor-nested-deep", "GET", f"{MAILBOX_LIST}?cursor={DEEP_CURSOR}", None, "cursor is not one this API"),
    ("cursor-json-list", "GET", f"{MAILBOX_LIST}?cursor={LIST_CURSOR}", None, "cursor belongs to another"),
    ("cursor-other-mailbox", "GET", "/mailboxes/{mailbox}/messages?cursor={cursor}", None, "cursor belongs"),
    ("post-blank-name", "POST", "/mailboxes", {"name": "   "}, "a mailbox name cannot be blank"),
]

# 415 UnsupportedMediaType: (id, method, path, body, headers)
NOT_JSON = [
    ("post-text", "POST", "/mailboxes", b"Receipts", TEXT),
    ("post-json-as-text", "POST", "/mailboxes", b'{"name": "Receipts"}', TEXT),
    ("post-form", "POST", "/mailboxes", b"name=Receipts", FORM),
    ("post-xml", "POST", "/mailboxes", b"<name>Receipts</name>", XML),
    ("rename-form", "PATCH", "/mailboxes/{mailbox}", b"name", FORM),
    ("change-text", "PATCH", "/messages/{message}", b"seen", TEXT),
    ("delete-with-text-body", "DELETE", "/messages/{message}", b"now", TEXT),
    ("list-with-form-body", "GET", "/mailboxes", b"a=b", FORM),
]

# 404: (id, method, path, body, code, message)
MISSING = [
    ("no-message", "GET", "/messages/abc123", None, "NotFound", "no message abc123"),
    ("no-message-raw", "GET", "/messages/abc123/raw", None, "NotFound", "no message abc123"),
    ("no-message-attachment", "GET", "/messages/abc123/attachments/0", None, "NotFound", "no message"),
    ("no-message-change", "PATCH", "/messages/abc123", {"seen": True}, "NotFound", "no message abc123"),
    ("no-message-delete", "DELETE", "/messages/abc123", None, "NotFound", "no message abc123"),
    ("no-mailbox-list", "GET", "/mailboxes/nosuch/messages", None, "NotFound", "no mailbox nosuch"),
    ("no-mailbox-rename", "PATCH", "/mailboxes/nosuch", {"name": "X"}, "NotFound", "no mailbox nosuch"),
    ("no-mailbox-delete", "DELETE", "/mailboxes/nosuch", None, "NotFound", "no mailbox nosuch"),
    ("move-to-odd-id", "PATCH", "/messages/{message}", {"mailbox_id": "a#b"}, "NotFound", "no mailbox"),
    ("attachment-past-end", "GET", "/messages/{message}/attachments/1", None, "NotFound", "no attach"),
    ("unknown-route", "GET", "/nothing/here", None, "NotFound", "no route GET /nothing/here"),
    ("unknown-method", "PUT", "/mailboxes", {"name": "X"}, "NotFound", "no route PUT /mailboxes"),
    ("post-to-message", "POST", "/messages/{message}", {"seen": True}, "NotFound", "no route POST"),
]

# Every route, called correctly; only the missing account claim is wrong.
ROUTES = [
    ("GET", "/mailboxes", None),
    ("POST", "/mailboxes", {"name": "Receipts"}),
    ("PATCH", "/mailboxes/{mailbox}", {"name": "Renamed"}),
    ("DELETE", "/mailboxes/{mailbox}", None),
    ("GET", "/mailboxes/{mailbox}/messages", None),
    ("GET", "/messages/{message}", None),
    ("PATCH", "/messages/{message}", {"seen": True}),
    ("DELETE", "/messages/{message}", None),
    ("GET", "/messages/{message}/raw", None),
    ("GET", "/messages/{message}/attachments/0", None),
]


def fill(path: str, world) -> str:
    return path.format(message=world.bob_message, mailbox=world.bob_mailbox, cursor=world.bob_cursor)


def sent(body: Any) -> Any:
    return body if body is None or isinstance(body, bytes) else json.dumps(body).encode()


def by_id(cases: list[tuple]) -> dict[str, Any]:
    return {"argvalues": [case[1:] for case in cases], "ids": [case[0] for case in cases]}


def call(world, method: str, path: str, body: Any, headers: dict[str, str] | None = None):
    return world.aws.api(method, fill(path, world), world.bob, sent(body), headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "says"), **by_id(INVALID))
def test_invalid_input_is_422(world, method, path, body, says):
    response = call(world, method, path, body)

    assert response.status == 422, response.body
    error = error_of(response)
    assert (error["code"], says in error["message"]) == ("InvalidRequest", True), error
    assert error["details"] and all(set(d) == {"where", "problem"} for d in error["details"])


@pytest.mark.parametrize(("method", "path", "body", "says"), **by_id(REFUSED))
def test_refused_input_is_400(world, method, path, body, says):
    response = call(world, method, path, body)

    assert response.status == 400, response.body
    assert error_of(response)["code"] == "InvalidRequest"
    assert says in error_of(response)["message"]


@pytest.mark.parametrize(("method", "path", "body", "headers"), **by_id(NOT_JSON))
def test_body_that_is_not_json_is_415(world, method, path, body, headers):
    # A form body used to be read as JSON first (a 422 about the wrong thing), and a text body
    # got Powertools' own error shape.
    response = call(world, method, path, body, headers)

    assert response.status == 415, response.body
    assert error_of(response) == {
        "code": "UnsupportedMediaType",
        "message": "send the body as JSON, with content-type application/json",
    }


@pytest.mark.parametrize(("method", "path", "body", "code", "says"), **by_id(MISSING))
def test_what_does_not_exist_is_404(world, method, path, body, code, says):
    response = call(world, method, path, body)

    assert response.status == 404, response.body
    assert error_of(response)["code"] == code
    assert says in error_of(response)["message"]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_a_token_without_an_account_is_unauthorized(world, method, path, body):
    response = world.aws.api(method, fill(path, world), None, body)

    assert response.status == 401
    assert error_of(response) == {"code": "Unauthorized", "message": "the token names no account"}


def test_an_event_without_an_authorizer_is_unauthorized(world):
    event = load_event("api_list_messages.json")
    del event["requestContext"]["authorizer"]

    response = api_function.handler(event, LocalContext("api"))

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "Unauthorized"


def test_the_sample_api_event_lists_bobs_inbox(world):
    response = api_function.handler(load_event("api_list_messages.json"), LocalContext("api"))

    assert response["statusCode"] == 200
    listed = json.loads(response["body"])["messages"]
    assert [m["subject"] for m in listed] == ["Quarterly figures", "Second"]


def test_openapi_lists_every_route(world):
    response = world.aws.api("GET", "/openapi.json", world.bob)

    paths = json.loads(response.body)["paths"]
    listed = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    assert response.status == 200
    assert {
        ("GET", "/mailboxes"),
        ("POST", "/mailboxes"),
        ("PATCH", "/mailboxes/{mailbox_id}"),
        ("DELETE", "/mailboxes/{mailbox_id}"),
        ("GET", "/mailboxes/{mailbox_id}/messages"),
        ("GET", "/messages/{message_id}"),
        ("PATCH", "/messages/{message_id}"),
        ("DELETE", "/messages/{message_id}"),
        ("GET", "/messages/{message_id}/raw"),
        ("GET", "/messages/{message_id}/attachments/{index}"),
    } <= listed
    registered = [*api_function.app._static_routes, *api_function.app._dynamic_routes]
    assert {(route.method.upper(), route.openapi_path) for route in registered} <= listed
