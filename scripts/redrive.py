"""Move every message from the delivery dead-letter queue back to the delivery queue.

Run it once the cause of the failures is fixed (a verified identity, a raised quota):
    make redrive   # local mode (reads .local/endpoints.json)
    make redrive ARGS="--stack Mail-us-east-1 --region us-east-1"   # each region has its own

Each message is sent to the delivery queue before it is deleted from the dead-letter
queue, so a failure half-way leaves a message in both queues rather than in neither;
delivery skips recipients already handled, so the copy sends nothing twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mailcore import aws

ENDPOINTS_FILE = Path(".local/endpoints.json")


def redrive(dlq_url: str, queue_url: str, region: str) -> int:
    sqs = aws.client("sqs", region)
    moved = 0
    while True:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return moved
        for message in messages:
            sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def _queues(args: argparse.Namespace) -> tuple[str, str, str]:
    if args.stack:
        stack = aws.client("cloudformation", args.region).describe_stacks(StackName=args.stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return outputs["DeliveryDlqUrl"], outputs["DeliveryQueueUrl"], args.region
    if not ENDPOINTS_FILE.exists():
        raise LookupError(f"{ENDPOINTS_FILE} not found: start local mode with `make run` first")
    endpoints = json.loads(ENDPOINTS_FILE.read_text())
    os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    os.environ["MAIL_AWS_ENDPOINT_URL"] = endpoints["aws_endpoint_url"]
    aws.reset()
    return endpoints["delivery_dlq_url"], endpoints["delivery_queue_url"], endpoints["region"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/redrive.py", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="a deployed regional stack; local mode when absent")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    args = parser.parse_args(argv)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        dlq_url, queue_url, region = _queues(args)
        print(f"moved {redrive(dlq_url, queue_url, region)} messages back to the delivery queue")
    except (LookupError, KeyError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
