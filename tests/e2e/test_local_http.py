"""Local mode's HTTP server at its edges: bodies that are not UTF-8, and lengths it cannot trust."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from local.http_api import MAX_BODY
from local.service import LocalService
from tests.conftest import ApiResponse
from tests.e2e.helpers import Reader

LATIN_1 = "café naïve".encode("latin-1")
RAW_8BIT = (
    b"From: alice@demo.test\r\nTo: carol@example.org\r\nSubject: caf\xe9\r\n"
    b"Content-Type: text/plain; charset=latin-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncr\xe8me\r\n"
)


def post(reader: Reader, path: str, body: bytes, headers: dict[str, str]) -> ApiResponse:
    """POST exactly these headers: urllib would add a form content type where none is given."""
    host, port = reader.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body, {"Authorization": f"Bearer {reader.token}", **headers})
        response = connection.getresponse()
        return ApiResponse(response.status, dict(response.headers), response.read())
    finally:
        connection.close()


def exchange(service: LocalService, request: bytes) -> tuple[bytes, dict]:
    """The status line and JSON body answered to a raw request, read until the server closes."""
    answer = b""
    with socket.create_connection((service.host, service.http_port), timeout=5) as connection:
        connection.sendall(request)
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], json.loads(body)


def test_a_latin1_text_upload_arrives_unchanged(alice: Reader):
    response = post(alice, "/uploads?filename=latin1.txt", LATIN_1, {"content-type": "text/plain"})

    assert response.status == 201
    assert response.json()["size"] == 10


def test_an_8bit_raw_message_without_content_type_is_sent_byte_for_byte(alice: Reader):
    # When alice sends a Latin-1 message with no content type at all
    response = post(alice, "/outbox/raw", RAW_8BIT, {})

    # Then her Sent copy holds the very bytes she sent
    assert response.status == 202
    assert alice.get(f"/messages/{response.json()['id']}/raw").body == RAW_8BIT


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "5, 6"])
def test_an_unreadable_content_length_is_answered_400_and_the_connection_closed(
    service: LocalService, length: str
):
    request = f"POST /outbox HTTP/1.1\r\nHost: local\r\nContent-Length: {length}\r\n\r\nhello"

    status, body = exchange(service, request.encode())

    assert status == b"HTTP/1.1 400 Bad Request"
    assert body == {"message": "Bad Request"}


def test_two_different_content_lengths_are_answered_400(service: LocalService):
    request = b"POST /outbox HTTP/1.1\r\nHost: local\r\nContent-Length: 5\r\nContent-Length: 2\r\n\r\nhello"

    status, body = exchange(service, request)

    assert status == b"HTTP/1.1 400 Bad Request"
    assert body == {"message": "Bad Request"}


def test_a_chunked_body_is_answered_411_and_the_connection_closed(service: LocalService):
    head = b"POST /outbox HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: chunked\r\n\r\n"
    request = head + b"5\r\nhello\r\n0\r\n\r\n"

    status, body = exchange(service, request)

    assert status == b"HTTP/1.1 411 Length Required"
    assert body == {"message": "Length Required"}


def test_a_body_over_the_limit_is_answered_413_before_it_is_sent(service: LocalService):
    # Given a client that announces a body one byte over 10 MB, and sends none of it
    request = f"POST /uploads?filename=big HTTP/1.1\r\nHost: local\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n"

    # When the server answers, it has waited for no body, and closes the connection
    status, body = exchange(service, request.encode())

    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert body == {"message": "Request Entity Too Large"}


def test_a_body_over_the_limit_is_refused_instead_of_continued(service: LocalService):
    # Given a client that asks whether to send its body, as curl does for large ones
    request = (
        f"POST /uploads?filename=big HTTP/1.1\r\nHost: local\r\nContent-Length: {MAX_BODY + 1}\r\n"
        "Expect: 100-continue\r\n\r\n"
    )

    status, body = exchange(service, request.encode())

    # Then the first answer is the refusal, not 100 Continue
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert body == {"message": "Request Entity Too Large"}
