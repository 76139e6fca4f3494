"""Composing: what may go into a header, which attachment types a part can have, how a reply threads."""

from __future__ import annotations

import base64
import sys

import pytest
from pydantic import ValidationError

from mailcore import compose, mime
from mailcore.compose import InlineAttachment, Thread

HI = base64.b64encode(b"hi").decode()


def splitlines_breaks() -> list[str]:
    """Every character that str.splitlines() ends a line at; the email package refuses them in headers."""
    return [chr(c) for c in range(sys.maxunicode + 1) if len(f"a{chr(c)}b".splitlines()) == 2]


def test_the_line_breaks_are_the_ones_python_knows():
    assert splitlines_breaks() == ["\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("line_break", splitlines_breaks(), ids=lambda c: f"U+{ord(c):04X}")
def test_a_header_field_with_any_line_break_is_refused(line_break: str):
    with pytest.raises(ValidationError, match="header fields cannot contain CR, LF or other control"):
        InlineAttachment(filename=f"a{line_break}b.txt", content_base64=HI)


@pytest.mark.parametrize(
    ("content_type", "kept"),
    [
        ("application/pdf", "application/pdf"),
        ("Text/Plain", "text/plain"),
        ("image/svg+xml", "image/svg+xml"),
        ("application/vnd.ms-excel", "application/vnd.ms-excel"),
    ],
)
def test_an_attachment_type_is_kept_in_lower_case(content_type: str, kept: str):
    assert compose.attachment_type(content_type) == kept


@pytest.mark.parametrize(
    ("content_type", "problem"),
    [
        ("garbage", "'garbage' is not a content type of the form type/subtype"),
        ("text/", "'text/' is not a content type of the form type/subtype"),
        ("tëxt/plain", "'tëxt/plain' is not a content type of the form type/subtype"),
        ("multipart/mixed", "an attachment cannot be of type multipart/mixed"),
        ("MESSAGE/rfc822", "an attachment cannot be of type message/rfc822"),
    ],
)
def test_an_attachment_type_that_cannot_make_a_part_is_refused(content_type: str, problem: str):
    with pytest.raises(ValueError, match=problem):
        compose.attachment_type(content_type)


@pytest.mark.parametrize(
    "msg_id",
    [
        "<a@example.org>",
        "<1.2.3$x@mail.example.org>",
        "<a+b/c=d?e@[192.0.2.1]>",
        "<!#$%&'*+-/?=^_`{|}~@x>",
    ],
)
def test_a_well_formed_message_id_is_kept(msg_id: str):
    assert compose.well_formed_id(msg_id)


@pytest.mark.parametrize(
    "msg_id",
    [
        "a@example.org",
        "<a@example.org",
        "<a@example.org> trailing",
        "<@example.org>",
        "<a@>",
        "<a b@example.org>",
        "<a\x00b@example.org>",
        "<a\u2028b@example.org>",
        "<a\x85b@example.org>",
        "<ä@example.org>",
        '<"quoted"@example.org>',
        "<a(comment)@example.org>",
        "<=?utf-8?q?a?=@example.org>",
        "<a@b@example.org>",
        "<a;b@example.org>",
        "<" + "a" * 990 + "@x>",
    ],
    ids=lambda value: ascii(value)[:40],
)
def test_a_malformed_message_id_is_left_out(msg_id: str):
    assert not compose.well_formed_id(msg_id)


def test_a_reply_names_the_well_formed_ids_of_its_thread_once():
    thread = Thread(message_id="<c@x>", references=["<a@x>", "<bad id>", "<b@x>", "<a@x>", "<c@x>"])

    assert (thread.in_reply_to(), thread.chain()) == ("<c@x>", ["<a@x>", "<b@x>", "<c@x>"])


def test_a_reply_to_a_malformed_id_keeps_the_rest_of_its_thread():
    thread = Thread(message_id="not an id", references=["<a@x>"])

    assert (thread.in_reply_to(), thread.chain()) == (None, ["<a@x>"])


def test_references_keep_the_first_and_the_latest_of_a_long_thread():
    ids = [f"<m{i}@x>" for i in range(40)]

    chain = Thread(message_id="<last@x>", references=ids).chain()

    assert len(chain) == mime.MAX_REFERENCES == 20
    assert chain == [ids[0], *ids[-18:], "<last@x>"]
