"""The SES receipt event a Lambda action sends, read as leniently as SES writes it.

Powertools' `SesModel` requires common headers (To, Date, Subject, Message-ID) that real
mail often lacks, and SES leaves out of the event when the message does; refusing such an
event would lose the message, so this model asks only for what delivery needs.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from mailcore.inbound import Delivery, Verdicts


class _Verdict(BaseModel):
    status: str = "GRAY"


class _Receipt(BaseModel):
    timestamp: datetime
    recipients: list[str] = Field(min_length=1)
    spamVerdict: _Verdict = _Verdict()
    virusVerdict: _Verdict = _Verdict()
    spfVerdict: _Verdict = _Verdict()
    dkimVerdict: _Verdict = _Verdict()
    dmarcVerdict: _Verdict = _Verdict()


class _Mail(BaseModel):
    timestamp: datetime
    messageId: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._-]+$")
    source: str = ""


class _Ses(BaseModel):
    mail: _Mail
    receipt: _Receipt


class _Record(BaseModel):
    eventSource: str = Field(pattern="^aws:ses$")
    ses: _Ses


class SesReceiptEvent(BaseModel):
    Records: list[_Record] = Field(min_length=1)


def deliveries(event: dict, object_prefix: str) -> list[Delivery]:
    """One Delivery per record; the S3 action stored each message at prefix + SES message id."""
    parsed = SesReceiptEvent.model_validate(event)
    return [_delivery(record.ses, object_prefix) for record in parsed.Records]


def _delivery(ses: _Ses, object_prefix: str) -> Delivery:
    receipt = ses.receipt
    return Delivery(
        ses_message_id=ses.mail.messageId,
        received_at=ses.mail.timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        recipients=receipt.recipients,
        object_key=f"{object_prefix}{ses.mail.messageId}",
        source=ses.mail.source,
        verdicts=Verdicts(
            spam=receipt.spamVerdict.status,
            virus=receipt.virusVerdict.status,
            spf=receipt.spfVerdict.status,
            dkim=receipt.dkimVerdict.status,
            dmarc=receipt.dmarcVerdict.status,
        ),
    )
