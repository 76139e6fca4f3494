"""The listing cursor: opaque to callers, refused when forged or borrowed from another listing."""

from __future__ import annotations

import base64
import json

import pytest

from mailcore import dynamo
from mailcore.errors import InvalidRequestError
from mailcore.repository import _decode_cursor, _encode_cursor

LISTING = "MBX#a6b53632df02a56ffb4c9#inbox"
KEY = {
    "pk": "ACCT#a6b53632df02a56ffb4c9",
    "sk": "MSG#0f3c",
    "gsi1pk": LISTING,
    "gsi1sk": "2026-03-02T10:00:05.000Z#0f3c",
}


def encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_round_trip():
    cursor = _encode_cursor(dynamo.to_item(KEY))

    assert _decode_cursor(cursor, LISTING) == dynamo.to_item(KEY)
    assert cursor.isascii() and "/" not in cursor and "+" not in cursor


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        "é",
        encoded("a string"),
        encoded(None),
        base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
        base64.urlsafe_b64encode(b"[" * 5000).decode(),  # deeper than json goes: RecursionError
        base64.urlsafe_b64encode(b'{"pk": ' * 2000).decode(),
        encoded({**KEY, "gsi1sk": 5}),
        encoded({k: v for k, v in KEY.items() if k != "sk"}),
        encoded({**KEY, "pk": ["ACCT#x"]}),
    ],
)
def test_forged_cursor_is_refused(cursor):
    with pytest.raises(InvalidRequestError):
        _decode_cursor(cursor, LISTING)


def test_tampered_cursor_is_refused():
    cursor = _encode_cursor(dynamo.to_item(KEY))
    tampered = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]

    with pytest.raises(InvalidRequestError):
        _decode_cursor(tampered, LISTING)


def test_cursor_of_another_listing_is_refused():
    cursor = _encode_cursor(dynamo.to_item(KEY))

    with pytest.raises(InvalidRequestError, match="cursor belongs to another listing"):
        _decode_cursor(cursor, "MBX#a983df01fdf60ee437484#inbox")


def test_only_the_key_is_passed_on():
    cursor = encoded({**KEY, "extra": "ignored", "subject": "x"})

    assert _decode_cursor(cursor, LISTING) == dynamo.to_item(KEY)
