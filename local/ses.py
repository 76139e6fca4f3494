"""What SES receiving does between SMTP and the Lambda action: store, judge, build the event."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from email import policy
from email.parser import BytesHeaderParser
from typing import Any

from mailcore import scan

_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_message_id() -> str:
    """SES names each received message with 40 lower-case letters and digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(40))


def receipt_event(
    message_id: str,
    raw: bytes,
    mail_from: str,
    recipients: list[str],
    function_arn: str,
    bucket: str,
    prefix: str,
) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    judged = scan.verdicts(raw)
    headers = _headers(raw)
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": now,
                        "source": mail_from,
                        "messageId": message_id,
                        "destination": recipients,
                        "headersTruncated": False,
                        "headers": headers,
                        "commonHeaders": _common_headers(headers, message_id),
                    },
                    "receipt": {
                        "timestamp": now,
                        "processingTimeMillis": 1,
                        "recipients": recipients,
                        **{f"{k}Verdict": {"status": v} for k, v in judged.items()},
                        "action": {
                            "type": "Lambda",
                            "functionArn": function_arn,
                            "invocationType": "Event",
                        },
                        "s3Location": {"bucket": bucket, "prefix": prefix},
                    },
                },
            }
        ]
    }


def _headers(raw: bytes) -> list[dict[str, str]]:
    message = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[:65536])
    return [{"name": k, "value": str(v)[:2048]} for k, v in message.items()[:100]]


def _common_headers(headers: list[dict[str, str]], message_id: str) -> dict[str, Any]:
    """SES lists only the common headers a message has; it never invents the rest."""
    by_name = {h["name"].lower(): h["value"] for h in headers}
    common: dict[str, Any] = {"messageId": message_id}
    for name, key in (("from", "from"), ("to", "to"), ("cc", "cc"), ("reply-to", "replyTo")):
        if name in by_name:
            common[key] = [by_name[name]]
    for name, key in (("subject", "subject"), ("date", "date"), ("return-path", "returnPath")):
        if name in by_name:
            common[key] = by_name[name]
    return common


class RecordedBounces:
    """SES's SendBounce, which moto lacks: local mode and tests keep what would have gone out."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def bounce(self, ses_message_id: str, domain: str, recipients: list[str]) -> None:
        self.sent.append({"original": ses_message_id, "sender": f"mailer-daemon@{domain}", "to": recipients})
