"""Delivery: take one queued message to its recipients.

Hosted recipients get it straight in their mailboxes, by the same rules as inbound mail;
everyone else through SES. Suppressed recipients are skipped. Transient SES errors raise
TransientDeliveryError so the queue tries again later; permanent ones mark the recipients
`failed` and put a report in the sender's Inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from mailcore import addresses, aws, directory, inbound, notices, scan
from mailcore import statuses as statuses_store
from mailcore.errors import MailError
from mailcore.inbound import Delivery, Verdicts
from mailcore.observability import MetricUnit, logger, metrics
from mailcore.outbound import Job
from mailcore.repository import Bucket, Table, account_pk
from mailcore.settings import current_region, get_settings

# SES error codes that say "not now" rather than "never".
TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "SendingPausedException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalServiceErrorException",
    "RequestTimeout",
    "NotFoundException",
}


class TransientDeliveryError(MailError):
    status = 503


class PermanentDeliveryError(MailError):
    status = 400


class Sender(Protocol):
    def send(self, sender: str, recipients: list[str], raw: bytes, tags: dict[str, str]) -> str: ...


class SesSender:
    """SES v2 with the region's configuration set, which publishes bounces and complaints."""

    def send(self, sender: str, recipients: list[str], raw: bytes, tags: dict[str, str]) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": recipients},
            "Content": {"Raw": {"Data": raw}},
            "EmailTags": [{"Name": k, "Value": v} for k, v in tags.items()],
        }
        if get_settings().configuration_set:
            request["ConfigurationSetName"] = get_settings().configuration_set
        try:
            return aws.client("sesv2").send_email(**request)["MessageId"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", code)
            if code in TRANSIENT_CODES:
                raise TransientDeliveryError(code) from error
            raise PermanentDeliveryError(f"{code}: {message}") from error
        except BotoCoreError as error:
            raise TransientDeliveryError(type(error).__name__) from error


_senders: dict[str | None, Sender] = {}


def get_sender() -> Sender:
    """The sender for the region the call runs in; SES unless another was put in its place."""
    return _senders.get(current_region()) or _senders.get(None) or _senders.setdefault(None, SesSender())


def use_sender(sender: Sender | None, region: str | None = None) -> None:
    """Local mode and tests put a simulated SES here, for one region or for all."""
    if sender is None:
        _senders.pop(region, None)
    else:
        _senders[region] = sender


def suppression_key(account_id: str, address: str) -> tuple[str, str]:
    return account_pk(account_id), f"SUPP#{address.lower()}"


def deliver(job: Job, table: Table, bucket: Bucket, sender: Sender, last_try: bool = False) -> dict[str, str]:
    """Deliver to every recipient still `queued`; returns the new status per recipient.

    On the `last_try` the queue allows, recipients SES still defers are marked `deferred`.
    """
    raw = bucket.get(job.raw_key, bucket=job.raw_bucket)
    wanted = statuses_store.keys(job.account_id, job.message_id, job.recipients)
    for recipient in job.recipients:
        wanted += [suppression_key(job.account_id, recipient), *directory.lookup_keys(recipient)]
    found = table.get_many(wanted)
    pending = _pending(job, found)
    statuses: dict[str, dict[str, str]] = {}
    local: dict[str, str | None] = {}
    remote: list[str] = []
    for recipient in pending:
        account_id = directory.account_from(recipient, found)
        if suppression_key(job.account_id, recipient) in found:
            statuses[recipient] = {"status": "suppressed", "detail": "address is on the suppression list"}
        elif account_id:
            local[recipient] = account_id
        elif _hosted(recipient, found):
            # Sent out, it would come back to our own MX as a bounce, and count against SES's
            # bounce rate for the account.
            statuses[recipient] = {"status": "failed", "detail": "no such mailbox here"}
        else:
            remote.append(recipient)
    if local:
        statuses.update(_deliver_locally(job, raw, local, table, bucket))
    if remote:
        try:
            statuses.update(_send(job, raw, remote, sender))
        except TransientDeliveryError as error:
            # What is settled stays settled, and reported, while the rest waits for the retry,
            # which skips it: a suppressed recipient reported only at the end would never be.
            if last_try:
                # The job goes to the dead-letter queue next; the sender sees why it waits.
                detail = f"not sent after the last try ({error}); held until an operator re-drives it"
                statuses.update({r: {"status": "deferred", "detail": detail} for r in remote})
            _record(job, statuses, table, bucket, raw)
            raise
    _record(job, statuses, table, bucket, raw)
    return {r: s["status"] for r, s in statuses.items()}


def _hosted(recipient: str, found: dict[tuple[str, str], Any]) -> bool:
    return directory.domain_key(addresses.split(recipient)[1]) in found


def _pending(job: Job, found: dict[tuple[str, str], Any]) -> list[str]:
    """Recipients not yet handled (or held after the last try): a message the queue hands over
    twice is not sent twice."""
    keys = {r: statuses_store.status_key(job.account_id, job.message_id, r) for r in job.recipients}
    return [r for r, key in keys.items() if key not in found or found[key].get("status") == "deferred"]


def _deliver_locally(
    job: Job, raw: bytes, local: dict[str, str | None], table: Table, bucket: Bucket
) -> dict[str, dict[str, str]]:
    delivery = Delivery(
        ses_message_id=job.message_id,
        received_at=_now(),
        recipients=list(local),
        object_key=job.raw_key,
        verdicts=Verdicts(**scan.verdicts(raw, authenticated=True)),
        source=job.sender,
    )
    outcomes = inbound.store(delivery, raw, local, table, bucket)
    return {r: {"status": "delivered", "detail": outcome} for r, outcome in outcomes.items()}


def _send(job: Job, raw: bytes, remote: list[str], sender: Sender) -> dict[str, dict[str, str]]:
    tags = {"account": job.account_id, "message": job.message_id}
    try:
        ses_id = sender.send(job.sender, remote, raw, tags)
    except TransientDeliveryError:
        metrics.add_metric(name="SendRetried", unit=MetricUnit.Count, value=1)
        raise
    except PermanentDeliveryError as error:
        logger.warning("send refused", message_id=job.message_id, reason=str(error))
        return {r: {"status": "failed", "detail": str(error)[:500]} for r in remote}
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=1)
    return {r: {"status": "sent", "ses_message_id": ses_id} for r in remote}


def _record(job: Job, statuses: dict[str, dict[str, str]], table: Table, bucket: Bucket, raw: bytes) -> None:
    if statuses:
        _save(job, statuses, table)
    failures = {
        r: s.get("detail", s["status"])
        for r, s in statuses.items()
        if s["status"] in {"failed", "suppressed"}
    }
    if failures:
        metrics.add_metric(name="SendFailed", unit=MetricUnit.Count, value=len(failures))
        notices.report_failure(table, bucket, job.account_id, job.sender, raw, failures)


def _save(job: Job, statuses: dict[str, dict[str, str]], table: Table) -> None:
    statuses_store.save(table, job.account_id, job.message_id, statuses)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
