"""Message routes: listing and paging, reading, downloads, flags, moves and deletes."""

from __future__ import annotations

import base64

from tests.integration.helpers import (
    SAMPLE,
    SAMPLE_CSV,
    at,
    counts,
    deliver,
    emptied_region,  # noqa: F401 - this module's `aws`
    error_of,
    listing,
    message,
    only_id,
)


def with_attachment(filename_parameter: str, data: bytes, content_type: str = "application/pdf") -> bytes:
    return (
        b"From: carol@example.org\r\n"
        b"Subject: Attached\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="att"\r\n'
        b"\r\n"
        b"--att\r\n"
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"See attached.\r\n"
        b"--att\r\n"
        + f"Content-Type: {content_type}\r\n".encode()
        + b"Content-Disposition: attachment; "
        + filename_parameter.encode()
        + b"\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"\r\n" + base64.encodebytes(data) + b"--att--\r\n"
    )


def test_listing_is_newest_first(aws, bob):
    for second, subject in ((10, "middle"), (30, "newest"), (5, "oldest")):
        deliver(aws, message(subject, f"{subject}@example.org"), timestamp=at(second))

    assert [m["subject"] for m in listing(aws, bob)] == ["newest", "middle", "oldest"]


def test_cursor_pages_through_every_message_once_in_order(aws, bob):
    # Given seven messages received a second apart
    for second in range(7):
        deliver(aws, message(f"m{second}", f"m{second}@example.org"), timestamp=at(second))

    # When bob reads them three at a time
    pages, cursor = [], ""
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        page = aws.api("GET", f"/mailboxes/inbox/messages{query}", bob).json()
        pages.append([m["subject"] for m in page["messages"]])
        cursor = page["next_cursor"]
        if not cursor:
            break

    # Then he sees all seven, once each, newest first
    assert pages == [["m6", "m5", "m4"], ["m3", "m2", "m1"], ["m0"]]


def test_open_message(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    response = aws.api("GET", f"/messages/{message_id}", bob)

    assert response.status == 200
    expected = {
        "id": message_id,
        "mailbox_id": "inbox",
        "subject": "Quarterly figures",
        "from": [{"name": "Carol Example", "address": "carol@example.org"}],
        "to": [{"name": "Bob", "address": "bob@demo.test"}],
        "cc": [],
        "reply_to": [],
        "date": "2026-03-02T09:15:01+00:00",
        "received_at": "2026-03-02T09:15:04.318Z",
        "size": len(SAMPLE),
        "snippet": "Hi Bob, the figures are attached. Café at ten?",
        "seen": False,
        "flagged": False,
        "attachment_count": 1,
        "unparsable": False,
        "send_status": None,
        "message_id": "<20260302091501.4821@mail.example.org>",
        "in_reply_to": None,
        "references": [],
        "text": "Hi Bob, the figures are attached. Café at ten?",
        "html": "",
        "attachments": [
            {
                "index": 0,
                "filename": "figures.csv",
                "content_type": "text/csv",
                "size": len(SAMPLE_CSV),
                "inline": False,
                "content_id": None,
            }
        ],
        "verdicts": {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"},
        "recipient": "bob@demo.test",
    }
    assert {key: response.json().get(key) for key in expected} == expected


def test_download_raw_message(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    response = aws.api("GET", f"/messages/{message_id}/raw", bob)

    assert (response.status, response.body) == (200, SAMPLE)
    assert response.headers["Content-Type"] == "message/rfc822"
    assert response.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''{message_id}.eml"


def test_download_attachment(aws, bob):
    deliver(aws)

    response = aws.api("GET", f"/messages/{only_id(aws, bob)}/attachments/0", bob)

    assert (response.status, response.body) == (200, SAMPLE_CSV)
    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''figures.csv"


def test_binary_attachment_comes_back_byte_for_byte(aws, bob):
    data = bytes(range(256)) * 40
    deliver(aws, with_attachment('filename="blob.bin"', data, "application/octet-stream"))

    response = aws.api("GET", f"/messages/{only_id(aws, bob)}/attachments/0", bob)

    assert (response.status, response.body) == (200, data)


def test_attachment_filename_is_made_safe(aws, bob):
    # Given a name with a path, control characters and a header injection
    deliver(aws, with_attachment('filename="../../etc/x\\r\\nSet-Cookie: a=1;.pdf"', b"%PDF-1.4"))
    message_id = only_id(aws, bob)

    listed = aws.api("GET", f"/messages/{message_id}", bob).json()["attachments"]
    response = aws.api("GET", f"/messages/{message_id}/attachments/0", bob)

    assert listed[0]["filename"] == "xrnSet-Cookie: a=1;.pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''xrnSet-Cookie%3A%20a%3D1%3B.pdf"
    )


def test_attachment_filename_with_only_dots_gets_a_name(aws, bob):
    deliver(aws, with_attachment('filename=".."', b"%PDF-1.4"))

    response = aws.api("GET", f"/messages/{only_id(aws, bob)}/attachments/0", bob)

    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''attachment-1.pdf"


def test_non_ascii_attachment_filename(aws, bob):
    deliver(aws, with_attachment("filename*=utf-8''r%C3%A9sum%C3%A9.pdf", b"%PDF-1.4"))

    response = aws.api("GET", f"/messages/{only_id(aws, bob)}/attachments/0", bob)

    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"


def test_attached_message_downloads_as_a_message(aws, bob):
    inner = b"From: dave@example.org\r\nSubject: Original\r\n\r\nFirst words.\r\n"
    raw = (
        b"From: carol@example.org\r\nSubject: Fwd: Original\r\n"
        b'Content-Type: multipart/mixed; boundary="fwd"\r\n\r\n'
        b"--fwd\r\nContent-Type: text/plain\r\n\r\nForwarding.\r\n"
        b"--fwd\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--fwd--\r\n"
    )
    deliver(aws, raw)
    message_id = only_id(aws, bob)

    listed = aws.api("GET", f"/messages/{message_id}", bob).json()["attachments"]
    response = aws.api("GET", f"/messages/{message_id}/attachments/0", bob)

    assert [(a["filename"], a["content_type"]) for a in listed] == [("attachment-1.eml", "message/rfc822")]
    assert response.headers["Content-Type"] == "message/rfc822"
    # The line break before the closing boundary belongs to the boundary.
    assert response.body.replace(b"\r\n", b"\n") == inner.replace(b"\r\n", b"\n").rstrip(b"\n")


def test_html_body_is_sanitized(aws, bob):
    html = (
        '<p onclick="steal()">Hi <b>Bob</b></p>'
        "<script>steal()</script>"
        '<a href="javascript:steal()">click</a>'
        '<iframe src="https://evil.example/"></iframe>'
        '<form action="https://evil.example/"><input name="password"></form>'
        '<img src="cid:logo" onerror="steal()">'
    )
    raw = (
        "From: carol@example.org\r\nSubject: Html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    ).encode()
    deliver(aws, raw)

    detail = aws.api("GET", f"/messages/{only_id(aws, bob)}", bob).json()

    assert (
        detail["html"]
        == '<p>Hi <b>Bob</b></p><a rel="noopener noreferrer nofollow">click</a><img src="cid:logo">'
    )


def test_mark_seen_and_flagged(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    response = aws.api("PATCH", f"/messages/{message_id}", bob, {"seen": True, "flagged": True})

    assert response.status == 200
    assert (response.json()["seen"], response.json()["flagged"]) == (True, True)
    assert (listing(aws, bob)[0]["seen"], listing(aws, bob)[0]["flagged"]) == (True, True)


def test_move_between_mailboxes(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)
    folder = aws.api("POST", "/mailboxes", bob, {"name": "Figures"}).json()["id"]

    moved = aws.api("PATCH", f"/messages/{message_id}", bob, {"mailbox_id": folder})
    back = aws.api("PATCH", f"/messages/{message_id}", bob, {"mailbox_id": "inbox"})

    assert (moved.status, moved.json()["mailbox_id"]) == (200, folder)
    assert (back.status, back.json()["mailbox_id"]) == (200, "inbox")
    assert [m["id"] for m in listing(aws, bob)] == [message_id]
    assert listing(aws, bob, folder) == []


def test_move_to_a_missing_mailbox_changes_nothing(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    response = aws.api("PATCH", f"/messages/{message_id}", bob, {"mailbox_id": "nosuchbox", "seen": True})

    assert response.status == 404
    assert error_of(response) == {"code": "NotFound", "message": "no mailbox nosuchbox"}
    assert counts(aws, bob)["inbox"] == (1, 1)


def test_delete_moves_to_trash_then_deletes_for_good(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    first = aws.api("DELETE", f"/messages/{message_id}", bob)

    assert (first.status, first.json()) == (200, {"id": message_id, "deleted": False, "mailbox_id": "trash"})
    assert listing(aws, bob) == []
    assert [m["id"] for m in listing(aws, bob, "trash")] == [message_id]

    second = aws.api("DELETE", f"/messages/{message_id}", bob)

    assert (second.status, second.json()) == (200, {"id": message_id, "deleted": True, "mailbox_id": None})
    assert listing(aws, bob, "trash") == []
    assert aws.api("GET", f"/messages/{message_id}", bob).status == 404
    assert aws.api("GET", f"/messages/{message_id}/raw", bob).status == 404


def test_permanent_delete_skips_the_trash(aws, bob):
    deliver(aws)
    message_id = only_id(aws, bob)

    response = aws.api("DELETE", f"/messages/{message_id}?permanent=true", bob)

    assert (response.status, response.json()) == (
        200,
        {"id": message_id, "deleted": True, "mailbox_id": None},
    )
    assert counts(aws, bob)["inbox"] == counts(aws, bob)["trash"] == (0, 0)
