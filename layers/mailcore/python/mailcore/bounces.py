"""Answer mail for unknown recipients at a hosted domain with a bounce.

SES accepts mail for any address at a domain a receipt rule names; only afterwards does
the inbound function learn that an address has no account. Such mail is answered with a
bounce through SES's SendBounce, which names the original message, unless answering could
loop or reach a forged sender: mail with a null sender, auto-submitted mail, and mail SES
judged spam or infected get no answer.
"""

from __future__ import annotations

from typing import Protocol

from mailcore import aws, mime
from mailcore.observability import MetricUnit, logger, metrics


class Bouncer(Protocol):
    def bounce(self, ses_message_id: str, domain: str, recipients: list[str]) -> None: ...


class SesBouncer:
    """SES v1 SendBounce; the bounce goes to the envelope sender of the received message."""

    def bounce(self, ses_message_id: str, domain: str, recipients: list[str]) -> None:
        aws.client("ses").send_bounce(
            OriginalMessageId=ses_message_id,
            BounceSender=f"mailer-daemon@{domain}",
            Explanation="The address does not exist at this domain.",
            BouncedRecipientInfoList=[{"Recipient": r, "BounceType": "DoesNotExist"} for r in recipients],
        )


_bouncer: Bouncer | None = None


def get_bouncer() -> Bouncer:
    global _bouncer
    if _bouncer is None:
        _bouncer = SesBouncer()
    return _bouncer


def use_bouncer(bouncer: Bouncer | None) -> None:
    """Tests put a recording bouncer here; moto does not implement SendBounce."""
    global _bouncer
    _bouncer = bouncer


def should_answer(source: str, verdicts: dict[str, str], raw: bytes) -> bool:
    if not source or source == "<>":
        return False
    if verdicts.get("spam") == "FAIL" or verdicts.get("virus") == "FAIL":
        return False
    return not mime.is_automatic(raw)


def answer_unknown(
    ses_message_id: str, source: str, verdicts: dict[str, str], raw: bytes, unknown: list[str]
) -> None:
    if not unknown:
        return
    if not should_answer(source, verdicts, raw):
        logger.info("unknown recipients not answered", reason="automatic, spam or null sender")
        return
    domain = unknown[0].rpartition("@")[2]
    get_bouncer().bounce(ses_message_id, domain, unknown)
    metrics.add_metric(name="UnknownRecipientsBounced", unit=MetricUnit.Count, value=len(unknown))
