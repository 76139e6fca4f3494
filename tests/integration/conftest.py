"""A moto region per module, the demo users' account ids, and a populated world for refusals.

Building a region (tables, bucket, user pool, queues) costs about half a second; modules
that import `emptied_region` from helpers get one region for the module, emptied before
each test, in place of the shared `aws` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from moto import mock_aws

from local import resources
from mailcore.repository import Bucket, Table
from tests.conftest import Aws
from tests.integration.helpers import at, deliver, listing, message


@pytest.fixture(scope="module")
def region() -> Iterator[Aws]:
    with mock_aws():
        created = resources.create("us-east-1")
        accounts = resources.seed_demo(created)
        table, bucket = Table(created.table_name, created.region), Bucket(created.bucket_name, created.region)
        yield Aws(resources=created, accounts=accounts, table=table, bucket=bucket)


@pytest.fixture
def bob(aws) -> str:
    return aws.account("bob@demo.test")


@pytest.fixture
def alice(aws) -> str:
    return aws.account("alice@demo.test")


@dataclass
class World:
    """Bob with three messages (two in the inbox, one in his folder), alice with one."""

    aws: Aws
    bob: str
    alice: str
    bob_message: str
    bob_mailbox: str
    bob_cursor: str
    alice_message: str


@pytest.fixture(scope="module")
def world(region: Aws) -> World:
    """For tests whose calls are refused or only read: built once, shared by the module."""
    aws = region
    bob, alice = aws.account("bob@demo.test"), aws.account("alice@demo.test")
    deliver(aws, message("Private", "private@example.org"), timestamp=at(1))
    private_id = listing(aws, bob)[0]["id"]
    mailbox = aws.api("POST", "/mailboxes", bob, {"name": "Private"}).json()["id"]
    aws.api("PATCH", f"/messages/{private_id}", bob, {"mailbox_id": mailbox})
    deliver(aws, message("Second", "second@example.org"), timestamp=at(2))
    deliver(aws, timestamp=at(3))
    deliver(aws, message("For alice", "alice@example.org"), ("alice@demo.test",), timestamp=at(4))
    first_page = aws.api("GET", "/mailboxes/inbox/messages?limit=1", bob).json()
    return World(
        aws=aws,
        bob=bob,
        alice=alice,
        bob_message=next(m["id"] for m in listing(aws, bob) if m["attachment_count"]),
        bob_mailbox=mailbox,
        bob_cursor=first_page["next_cursor"],
        alice_message=listing(aws, alice)[0]["id"],
    )
