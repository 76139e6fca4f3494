"""Local stand-ins for what AWS does around the delivery and feedback functions.

`QueuePoller` does the Lambda event source mapping's part: receive a batch, call the
function, delete what it did not report as failed. `SimulatedSes` sends through moto's SES
and then publishes the events SES would publish for the configuration set: Delivery, or
Bounce and Complaint for chosen addresses and for SES's own mailbox-simulator addresses.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from local.lambda_context import LocalContext
from mailcore import aws
from mailcore.delivery import Sender, TransientDeliveryError
from mailcore.observability import logger

SIMULATOR_BOUNCE = "bounce@simulator.amazonses.com"
SIMULATOR_COMPLAINT = "complaint@simulator.amazonses.com"
MAX_IDLE_SECONDS = 0.5
Function = Callable[[dict[str, Any], Any], dict[str, Any]]


class SimulatedSes:
    def __init__(
        self,
        real: Sender,
        topic_arn: str,
        region: str,
        bounce: set[str] | None = None,
        complain: set[str] | None = None,
        transient_failure_rate: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.real = real
        self.topic_arn = topic_arn
        self.region = region
        self.bounce = {a.lower() for a in bounce or set()} | {SIMULATOR_BOUNCE}
        self.complain = {a.lower() for a in complain or set()} | {SIMULATOR_COMPLAINT}
        self.transient_failure_rate = transient_failure_rate
        self.random = random.Random(seed)
        self.outbox: list[dict[str, Any]] = []
        self.refused = 0

    def send(self, sender: str, recipients: list[str], raw: bytes, tags: dict[str, str]) -> str:
        if self.random.random() < self.transient_failure_rate:
            self.refused += 1
            raise TransientDeliveryError("Throttling (simulated)")
        ses_id = self.real.send(sender, recipients, raw, tags)
        self.outbox.append(
            {
                "ses_message_id": ses_id,
                "from": sender,
                "to": recipients,
                "size": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
                "tags": tags,
                "at": _now(),
            }
        )
        for recipient in recipients:
            self._publish(_event(self._outcome(recipient), ses_id, sender, recipient, tags))
        return ses_id

    def _outcome(self, recipient: str) -> str:
        if recipient.lower() in self.bounce:
            return "Bounce"
        if recipient.lower() in self.complain:
            return "Complaint"
        return "Delivery"

    def _publish(self, event: dict[str, Any]) -> None:
        aws.client("sns", self.region).publish(TopicArn=self.topic_arn, Message=json.dumps(event))


def _event(kind: str, ses_id: str, sender: str, recipient: str, tags: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventType": kind,
        "mail": {
            "timestamp": _now(),
            "messageId": ses_id,
            "source": sender,
            "destination": [recipient],
            "tags": {k: [v] for k, v in tags.items()},
        },
    }
    if kind == "Bounce":
        event["bounce"] = {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        }
    elif kind == "Complaint":
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "complaintFeedbackType": "abuse",
        }
    else:
        event["delivery"] = {"recipients": [recipient], "smtpResponse": "250 2.0.0 OK"}
    return event


class QueuePoller:
    """Poll one queue and hand batches to a function, as the event source mapping does."""

    def __init__(
        self,
        name: str,
        queue_url: str,
        function: Function,
        lock: Any,
        region: str,
        idle_seconds: float = 0.05,
    ) -> None:
        self.name = name
        self.queue_url = queue_url
        self.function = function
        self.lock = lock
        self.region = region
        self.idle_seconds = idle_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poller-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def drain_once(self) -> int:
        """Receive and process one batch; returns how many messages it held."""
        with self.lock:
            messages = self._receive()
            if messages:
                self._process(messages)
        return len(messages)

    def _run(self) -> None:
        """Poll at once while there is work; when idle, wait longer each time, up to a limit,
        so that an idle poller does not hold the invoke lock the SMTP listener needs."""
        wait = self.idle_seconds
        while not self._stopped.is_set():
            try:
                handled = self.drain_once()
            except Exception:  # noqa: BLE001 - the messages stay on the queue and come back
                logger.exception("queue poller failed", queue=self.name)
                handled = 0
            wait = self.idle_seconds if handled else min(wait * 2, MAX_IDLE_SECONDS)
            if not handled:
                self._stopped.wait(wait)

    def _receive(self) -> list[dict[str, Any]]:
        response = aws.client("sqs", self.region).receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return response.get("Messages", [])

    def _process(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        response = self.function(event, LocalContext(self.name)) or {}
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            aws.client("sqs", self.region).delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        name = self.queue_url.rsplit("/", 1)[-1]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{self.region}:123456789012:{name}",
            "awsRegion": self.region,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
