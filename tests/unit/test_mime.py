"""Parsing raw messages: headers, bodies, attachments, and what to do when they break the rules."""

from __future__ import annotations

import base64

import pytest

from mailcore import mime
from mailcore.mime import Address


def headers_only(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\nBody\r\n"


def multipart(*parts: bytes, boundary: bytes = b"part") -> bytes:
    head = b"From: carol@example.org\r\nSubject: Parts\r\nMIME-Version: 1.0\r\n"
    head += b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n'
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return head + body + b"--" + boundary + b"--\r\n"


# Encoded words


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        ("=?utf-8?q?Caf=C3=A9_cr=C3=A8me?=", "Café crème"),
        ("=?UTF-8?B?w6l0w6k=?=", "été"),
        ("=?utf-8?b?w6l0w6k?=", "été"),  # padding left off
        ("=?utf-8?q?one?= =?utf-8?q?_two?=", "one two"),  # space between words is dropped
        ("Re: =?iso-8859-1?q?r=E9sum=E9?= (2)", "Re: résumé (2)"),
        ("=?iso-8859-8-i?q?=F9=EC=E5=ED?=", "שלום"),  # a label Python knows by another name
        ("=?utf-8*en?q?hello?=", "hello"),  # RFC 2231 language tag
        ("plain text", "plain text"),
    ],
)
def test_encoded_words(value, decoded):
    assert mime.decode_words(value) == decoded


@pytest.mark.parametrize(
    "charset",
    ["x-no-such-charset", "base64", "zlib", "rot13", "hex", "undefined", "idna", "ut\x00f-8"],
)
def test_encoded_word_in_a_charset_that_cannot_decode_text_is_read_as_utf8(charset):
    # Binary codecs (base64, zlib), strict-only ones (idna, undefined) and NUL in the label raised.
    assert mime.decode_words(f"=?{charset}?q?caf=C3=A9?=") == "café"
    assert mime.decode_words(f"=?{charset}?b?Y2Fmw6k=?=") == "café"


def test_broken_base64_word_is_left_as_it_is():
    assert mime.decode_words("=?utf-8?b?Y?=") == "=?utf-8?b?Y?="


def test_raw_utf8_subject():
    parsed = mime.parse(headers_only(b"Subject: Caf\xc3\xa9 \xe2\x98\x95"))

    assert parsed.subject == "Café ☕"


def test_raw_8bit_subject_in_the_declared_charset():
    raw = headers_only(b"Subject: Gr\xfc\xdfe", b"Content-Type: text/plain; charset=iso-8859-1")

    assert mime.parse(raw).subject == "Grüße"


def test_raw_8bit_subject_without_a_charset_is_read_as_windows_1252():
    assert mime.parse(headers_only(b"Subject: \x93quoted\x94")).subject == "\u201cquoted\u201d"


def test_raw_8bit_inside_an_encoded_word():
    raw = headers_only(b"Subject: =?iso-8859-1?q?caf\xe9?=", b"Content-Type: text/plain; charset=iso-8859-1")

    assert mime.parse(raw).subject == "café"


# Addresses


def test_address_list():
    raw = headers_only(
        b'To: "Doe, Jane" <jane@example.org>, bob@demo.test,',
        b" =?utf-8?q?Ren=C3=A9e?= <renee@example.org>",
        b"Cc: Team <team@example.org>",
        b"Reply-To: <replies@example.org>",
    )

    parsed = mime.parse(raw)

    assert parsed.to == [
        Address("Doe, Jane", "jane@example.org"),
        Address("", "bob@demo.test"),
        Address("Renée", "renee@example.org"),
    ]
    assert parsed.cc == [Address("Team", "team@example.org")]
    assert parsed.reply_to == [Address("", "replies@example.org")]


def test_comma_inside_an_encoded_name_does_not_split_the_address():
    raw = headers_only(b"From: =?utf-8?q?Doe=2C_Jane?= <jane@example.org>")

    assert mime.parse(raw).from_ == [Address("Doe, Jane", "jane@example.org")]


def test_address_written_as_a_display_name():
    raw = headers_only(b"From: alice@example.com <bob@example.com>")

    assert mime.parse(raw).from_ == [Address("alice@example.com", "bob@example.com")]


def test_group_syntax():
    raw = headers_only(b"To: team: a@example.org, b@example.org;")

    assert mime.parse(raw).to == [Address("", "a@example.org"), Address("", "b@example.org")]


def test_thousands_of_addresses():
    many = b", ".join(b"user%d@example.org" % n for n in range(3000))

    parsed = mime.parse(headers_only(b"To: " + many))

    assert len(parsed.to) == 3000
    assert parsed.to[-1] == Address("", "user2999@example.org")


def test_missing_address_headers_are_empty():
    parsed = mime.parse(headers_only(b"Subject: Nobody"))

    assert (parsed.from_, parsed.to, parsed.cc, parsed.reply_to) == ([], [], [], [])


# Other headers


def test_date_and_ids():
    raw = headers_only(
        b"Date: Mon, 2 Mar 2026 09:15:01 +0100",
        b"Message-ID: <one@example.org>",
        b"In-Reply-To: <zero@example.org>",
        b"References: <minus@example.org>\r\n <zero@example.org>",
    )

    parsed = mime.parse(raw)

    assert parsed.date == "2026-03-02T09:15:01+01:00"
    assert (parsed.message_id, parsed.in_reply_to) == ("<one@example.org>", "<zero@example.org>")
    assert parsed.references == ["<minus@example.org>", "<zero@example.org>"]


def test_unreadable_date_is_none():
    assert mime.parse(headers_only(b"Date: the day before yesterday")).date is None


@pytest.mark.parametrize(
    ("header", "message_id"),
    [
        (b"<", "<"),
        (b"<@>", "<@>"),
        (b"< <x@y>", "<x@y>"),
        (b"<a@", "<a@"),
        (b"no-brackets@x", "no-brackets@x"),
    ],
)
def test_malformed_message_id_is_kept_as_written(header, message_id):
    # The standard library's Message-ID parser raised IndexError on the first four.
    parsed = mime.parse(headers_only(b"Subject: Still here", b"Message-ID: " + header))

    assert (parsed.message_id, parsed.subject, parsed.unparsable) == (message_id, "Still here", False)


def test_8bit_message_id_is_decoded():
    parsed = mime.parse(headers_only(b"Message-ID: <caf\xe9@example.org>", b"References: <\xc3\xa9@x>"))

    assert (parsed.message_id, parsed.references) == ("<café@example.org>", ["<é@x>"])


# Bodies


def test_plain_and_html_alternatives():
    alternative = (
        b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        b"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello   there,\r\n  Bob\r\n"
        b"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>Bob</b></p>\r\n"
        b"--alt--"
    )

    parsed = mime.parse(multipart(alternative))

    assert parsed.text == "Hello   there,\r\n  Bob"
    assert parsed.html == "<p>Hello <b>Bob</b></p>"
    assert parsed.snippet == "Hello there, Bob"
    assert parsed.attachments == []


def test_body_in_an_unknown_charset_is_read_as_utf8():
    raw = b"Content-Type: text/plain; charset=x-martian\r\n\r\nCaf\xc3\xa9 \xff\r\n"

    assert mime.parse(raw).text == "Café \ufffd\r\n"


def test_quoted_printable_body():
    raw = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    raw += b"Caf=C3=A9 =\r\nau lait\r\n"

    assert mime.parse(raw).text == "Café au lait\r\n"


def test_snippet_of_an_html_only_message_leaves_out_scripts_and_styles():
    raw = (
        b"Content-Type: text/html\r\n\r\n<style>p {color: red}</style><p>Hi&nbsp;Bob</p><script>x()</script>"
    )

    assert mime.parse(raw).snippet == "Hi Bob"


def test_snippet_is_at_most_200_characters():
    assert len(mime.parse(b"Subject: Long\r\n\r\n" + b"word " * 100).snippet) == 200


# HTML sanitizing


@pytest.mark.parametrize(
    ("html", "clean"),
    [
        ("<p>Hi</p><script>alert(1)</script>", "<p>Hi</p>"),
        ('<p onclick="x()" onmouseover="y()">Hi</p>', "<p>Hi</p>"),
        ('<img src="logo.png" onerror="x()">', '<img src="logo.png">'),
        ('<a href="javascript:alert(1)">a</a>', '<a rel="noopener noreferrer nofollow">a</a>'),
        ('<a href=" JaVaScRiPt:alert(1)">a</a>', '<a rel="noopener noreferrer nofollow">a</a>'),
        ('<a href="data:text/html,x">a</a>', '<a rel="noopener noreferrer nofollow">a</a>'),
        ('<iframe src="https://evil.example/"></iframe>After', "After"),
        ('<form action="https://evil.example/"><input name="pw"><button>Go</button></form>', "Go"),
        ('<object data="x.swf"></object><embed src="x.swf">', ""),
        ('<meta http-equiv="refresh" content="0;url=https://evil.example/">', ""),
        ("<style>body {display: none}</style><p>Shown</p>", "<p>Shown</p>"),
        (
            '<a href="https://example.org/" target="_blank">Site</a>',
            '<a href="https://example.org/" rel="noopener noreferrer nofollow">Site</a>',
        ),
    ],
)
def test_sanitize_html(html, clean):
    assert mime.sanitize_html(html) == clean


def test_inline_images_keep_their_cid_reference():
    # Stripping `cid:` left inline images (listed with their content_id) with nowhere to go.
    assert mime.sanitize_html('<img src="cid:logo@example.org">') == '<img src="cid:logo@example.org">'


# Attachments


def test_attachment_listing():
    pdf = b"%PDF-1.4 figures"
    png = b"\x89PNG\r\n\x1a\n"
    parts = [
        b"Content-Type: text/plain\r\n\r\nSee attached.",
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="report.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(pdf),
        b"Content-Type: image/png\r\nContent-Disposition: inline\r\nContent-ID: <logo@example.org>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(png),
        b"Content-Type: message/rfc822\r\n\r\nFrom: dave@example.org\r\nSubject: Inner\r\n\r\nInner body",
    ]

    parsed = mime.parse(multipart(*parts))

    assert [(a.index, a.filename, a.content_type, a.inline, a.content_id) for a in parsed.attachments] == [
        (0, "report.pdf", "application/pdf", False, None),
        (1, "attachment-2.png", "image/png", True, "<logo@example.org>"),
        (2, "attachment-3.eml", "message/rfc822", False, None),
    ]
    assert [a.size for a in parsed.attachments[:2]] == [len(pdf), len(png)]
    assert mime.attachment_bytes(multipart(*parts), 0)[1] == pdf
    assert mime.attachment_bytes(multipart(*parts), 1)[1] == png
    inner = mime.attachment_bytes(multipart(*parts), 2)[1]
    assert inner.replace(b"\r\n", b"\n") == b"From: dave@example.org\nSubject: Inner\n\nInner body"


def test_attachment_index_out_of_range():
    raw = multipart(b"Content-Type: application/pdf\r\n\r\n%PDF")

    assert mime.attachment_bytes(raw, 1) is None
    assert mime.attachment_bytes(raw, -1) is None


def test_attached_message_with_an_8bit_boundary_can_be_downloaded():
    # The bytes generator could not write the decoded boundary back: UnicodeEncodeError.
    inner = (
        b'Content-Type: multipart/alternative; boundary="=\xe5\x0c\xe8="\r\nSubject: Inner\r\n\r\n'
        b"--=\xe5\x0c\xe8=\r\nContent-Type: text/plain\r\n\r\nInner text\r\n--=\xe5\x0c\xe8=--\r\n"
    )
    raw = multipart(b"Content-Type: message/rfc822\r\n\r\n" + inner)

    (attachment,) = mime.parse(raw).attachments
    described, data = mime.attachment_bytes(raw, 0)

    assert (attachment.content_type, described.size) == ("message/rfc822", len(data))
    assert b"Subject: Inner" in data and b"Inner text" in data


def test_empty_text_part_is_not_an_attachment():
    raw = multipart(b"Content-Type: text/plain\r\n\r\nBody", b"Content-Type: text/plain\r\n\r\n  ")

    assert mime.parse(raw).attachments == []


def test_rfc2231_filename():
    part = b"Content-Type: application/pdf\r\n"
    part += b"Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"

    assert mime.parse(multipart(part + b"\r\n\r\n%PDF")).attachments[0].filename == "résumé.pdf"


def test_encoded_word_filename():
    part = b'Content-Type: application/pdf; name="=?utf-8?q?r=C3=A9sum=C3=A9.pdf?="\r\n\r\n%PDF'

    assert mime.parse(multipart(part)).attachments[0].filename == "résumé.pdf"


# Safe file names


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/absolute/path.txt", "path.txt"),
        ("a\x00b\r\nc\t.txt", "abc.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("line\u2028para\u2029.txt", "linepara.txt"),  # separators a header would break at
        ("  .hidden  ", "hidden"),
        ("résumé.pdf", "résumé.pdf"),
    ],
)
def test_safe_filename(name, safe):
    assert mime.safe_filename(name, 0, "application/octet-stream") == safe


@pytest.mark.parametrize("name", ["", "..", "../", "...", "\x00\x01", "   ", "dir/"])
def test_nothing_left_of_a_name_gives_a_numbered_one(name):
    assert mime.safe_filename(name, 2, "image/png") == "attachment-3.png"
    assert mime.safe_filename(name, 0, "application/x-unknown-kind") == "attachment-1.bin"


def test_long_filename_keeps_its_extension():
    safe = mime.safe_filename("x" * 300 + ".pdf", 0, "application/pdf")

    assert (len(safe), safe[-8:]) == (120, "xxxx.pdf")


def test_long_filename_without_an_extension_is_cut():
    assert mime.safe_filename("y" * 300, 0, "text/plain") == "y" * 120


def test_long_filename_with_a_long_extension_is_cut():
    assert (
        mime.safe_filename("z" * 100 + "." + "e" * 40, 0, "text/plain") == ("z" * 100 + "." + "e" * 40)[:120]
    )


# What is not a message


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        bytes(range(256)) * 4,
        b"\x00\xff\xfe\xfd" * 500,
        b"just some words\r\nand more words\r\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_what_has_no_header_is_unparsable(raw):
    parsed = mime.parse(raw)

    assert parsed.unparsable is True
    assert (parsed.subject, parsed.from_, parsed.message_id) == ("", [], None)


def test_headers_without_a_body_are_a_message():
    parsed = mime.parse(b"Subject: Only headers\r\n")

    assert (parsed.subject, parsed.text, parsed.unparsable) == ("Only headers", "", False)


def test_mime_nested_past_the_recursion_limit_is_unparsable():
    inner = b"Content-Type: text/plain\r\n\r\nleaf\r\n"
    for level in range(1100):
        boundary = b"n%d" % level
        inner = (
            b"Content-Type: multipart/mixed; boundary="
            + boundary
            + b"\r\n\r\n--"
            + boundary
            + b"\r\n"
            + inner
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )

    assert mime.parse(b"Subject: Deep\r\n" + inner).unparsable is True
    assert mime.attachment_bytes(b"Subject: Deep\r\n" + inner, 0) is None


def test_defects_are_counted():
    raw = b"Content-Type: multipart/mixed; boundary=never\r\n\r\nno boundary anywhere\r\n"

    assert mime.parse(raw).defects > 0


def test_snippet_of_html_only_mail_keeps_blocks_apart():
    raw = (
        b"From: a@example.org\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<p>Hi Bob</p><div>click&nbsp;here &amp; now</div>"
    )

    assert mime.parse(raw).snippet == "Hi Bob click here & now"


# Threads


def test_a_long_references_chain_keeps_the_threads_first_and_latest_ids():
    chain = " ".join(f"<m{n}@example.org>" for n in range(150))
    raw = f"From: a@example.org\r\nReferences: {chain}\r\nSubject: Deep thread\r\n\r\nx\r\n".encode()

    references = mime.parse(raw).references

    assert len(references) == 100
    assert references[:2] == ["<m0@example.org>", "<m51@example.org>"]
    assert references[-1] == "<m149@example.org>"
