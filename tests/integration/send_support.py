"""The sending pipeline on moto, shared by the sending, delivery and feedback suites; no tests here.

`Pipeline` wires what AWS wires around the functions: the API function takes a send, the
delivery queue's poller calls the delivery function, SES (moto, behind `SimulatedSes`)
publishes its events to SNS and on to the feedback queue, whose poller calls the feedback
function. Retries wait no time at all, so a message that keeps failing reaches the
dead-letter queue in five quick rounds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from functions.delivery import handler as delivery_function
from functions.feedback import handler as feedback_function
from local import ses
from local.lambda_context import LocalContext
from local.outbound import QueuePoller, SimulatedSes
from mailcore import aws as mail_aws
from mailcore import delivery
from tests.conftest import ApiResponse, Aws, load_event

ALICE = "alice@demo.test"
BOB = "bob@demo.test"
NO_WAIT = "0,0,0,0,0"


@dataclass
class Pipeline:
    aws: Aws
    ses: SimulatedSes
    delivery: QueuePoller
    feedback: QueuePoller

    @property
    def alice(self) -> str:
        return self.aws.account(ALICE)

    @property
    def bob(self) -> str:
        return self.aws.account(BOB)

    def send(self, account: str, body: Any, headers: dict[str, str] | None = None) -> ApiResponse:
        return self.aws.api("POST", "/outbox", account, body, headers)

    def send_raw(self, account: str, raw: bytes, headers: dict[str, str] | None = None) -> ApiResponse:
        return self.aws.api(
            "POST", "/outbox/raw", account, raw, {"content-type": "message/rfc822", **(headers or {})}
        )

    def upload(self, account: str, filename: str, data: bytes, content_type: str) -> ApiResponse:
        return self.aws.api(
            "POST", f"/uploads?filename={filename}", account, data, {"content-type": content_type}
        )

    def run(self, rounds: int = 50) -> None:
        """Drain the delivery and feedback queues until both are empty (retries included)."""
        for _ in range(rounds):
            if not (drain(self.delivery) + drain(self.feedback)):
                return
        raise AssertionError(f"the queues were still busy after {rounds} rounds")

    def message(self, account: str, message_id: str) -> dict[str, Any]:
        response = self.aws.api("GET", f"/messages/{message_id}", account)
        assert response.status == 200, response.body
        return response.json()

    def listing(self, account: str, mailbox: str) -> list[dict[str, Any]]:
        response = self.aws.api("GET", f"/mailboxes/{mailbox}/messages?limit=200", account)
        assert response.status == 200, response.body
        return response.json()["messages"]

    def raw(self, account: str, message_id: str) -> bytes:
        response = self.aws.api("GET", f"/messages/{message_id}/raw", account)
        assert response.status == 200, response.body
        return response.body

    def depth(self, queue_url: str) -> int:
        """Messages on the queue, visible or in flight."""
        attributes = mail_aws.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def suppressions(self, account: str) -> list[dict[str, Any]]:
        response = self.aws.api("GET", "/suppressions", account)
        assert response.status == 200, response.body
        return response.json()["suppressions"]


def drain(poller: QueuePoller) -> int:
    """One batch through the function; a batch the function failed as a whole stays on the queue.

    The feedback function raises when every record of a batch failed, as Powertools does by
    default; the event source mapping then retries them all, and so does the poller.
    """
    try:
        return poller.drain_once()
    except BatchProcessingError:
        return 1


def start(aws: Aws, monkeypatch: pytest.MonkeyPatch, **ses_options: Any) -> Iterator[Pipeline]:
    """Use from a fixture: `yield from start(aws, monkeypatch)`."""
    monkeypatch.setenv("RETRY_DELAYS", NO_WAIT)
    mail_aws.reset()
    resources = aws.resources
    simulated = SimulatedSes(
        delivery.SesSender(), resources.feedback_topic_arn, resources.region, seed=7, **ses_options
    )
    delivery.use_sender(simulated)
    lock = threading.RLock()
    yield Pipeline(
        aws=aws,
        ses=simulated,
        delivery=QueuePoller(
            "delivery", resources.delivery_queue_url, delivery_function.handler, lock, resources.region
        ),
        feedback=QueuePoller(
            "feedback", resources.feedback_queue_url, feedback_function.handler, lock, resources.region
        ),
    )
    delivery.use_sender(None)
    mail_aws.reset()


def receive_from_outside(aws: Aws, raw: bytes, sender: str, recipients: list[str]) -> dict[str, str]:
    """Mail from the internet, as SES receiving hands it to the inbound function."""
    from functions.inbound import handler as inbound_function

    message_id = ses.new_message_id()
    aws.bucket.put(f"inbound/{message_id}", raw)
    event = ses.receipt_event(message_id, raw, sender, recipients, "arn", aws.bucket.name, "inbound/")
    return inbound_function.handler(event, LocalContext("inbound"))["results"][message_id]


def feedback_event(name: str, account: str, message_id: str) -> dict[str, Any]:
    """A sample event from events/, its tags pointing at one of our Sent copies."""
    event = load_event(name)
    record = json.loads(event["Records"][0]["body"])
    record["mail"]["tags"].update(account=[account], message=[message_id])
    event["Records"][0]["body"] = json.dumps(record)
    return event


def reports(pipeline: Pipeline, account: str) -> list[dict[str, Any]]:
    """The delivery reports in the account's Inbox, opened."""
    found = [m for m in pipeline.listing(account, "inbox") if m["subject"].startswith("Undelivered Mail")]
    return [pipeline.message(account, m["id"]) for m in found]
