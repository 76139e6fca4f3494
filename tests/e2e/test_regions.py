"""Several local regions replicated as global tables: what every region holds once replication settles.

The rules under test (docs/DATA-MODEL.md, "Why it stays correct under global tables"):

- a conflict on one item resolves by last writer wins, for the whole item, by the time the
  write happened in its region (ties by region name);
- the same message delivered to two regions is one item;
- counts are derived from the items a region holds, so they converge with them;
- a delete leaves a tombstone, and each region's janitor removes any copy a later write
  from another region brings back, so a delete stays a delete.

Each test starts its own regions (a few seconds each) so that counts are exact.
"""

from __future__ import annotations

import smtplib
import threading
import time
import urllib.error
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.multi import LocalMultiRegion
from local.service import LocalService
from mailcore.errors import NotFoundError
from tests.e2e.helpers import ALICE, BOB
from tests.e2e.regions_support import (
    REGIONS,
    Client,
    at,
    call_function,
    message,
    message_items,
    send,
    sign_in,
    wait_for,
)

CONVERGE_SECONDS = 30.0
StartRegions = Callable[..., LocalMultiRegion]


@pytest.fixture
def start_regions() -> Iterator[StartRegions]:
    """Start `count` regions; the demo accounts, seeded in the first, have replicated on return."""
    started: list[LocalMultiRegion] = []

    def start(count: int = 2, delay: float = 0.2, body_delay: float | None = None) -> LocalMultiRegion:
        multi = LocalMultiRegion(list(REGIONS[:count]), delay=delay, body_delay=body_delay).start()
        started.append(multi)
        multi.wait_until_converged(CONVERGE_SECONDS)
        return multi

    yield start
    for multi in started:
        multi.stop()


def regions_of(multi: LocalMultiRegion) -> list[LocalService]:
    return [multi.services[name] for name in multi.names]


def test_writes_in_every_region_converge_to_one_state(start_regions):
    multi = start_regions(count=3)
    first, second, third = regions_of(multi)
    bob = {s.region: sign_in(s, BOB) for s in (first, second, third)}
    alice = {s.region: sign_in(s, ALICE) for s in (first, second, third)}

    # Given mail for both accounts arriving at every region's SMTP listener
    for service in (first, second, third):
        assert send(service, message(f"for bob via {service.region}")) == 250
        assert send(service, message(f"for alice via {service.region}", to=ALICE), (ALICE,)) == 250
    multi.wait_until_converged(CONVERGE_SECONDS)
    bob_ids = bob[first.region].ids_by_subject()
    alice_ids = alice[first.region].ids_by_subject()

    # When each region's API changes a different message
    bob[first.region].change(bob_ids[f"for bob via {second.region}"], seen=True)
    bob[second.region].change(bob_ids[f"for bob via {third.region}"], flagged=True)
    alice[third.region].change(alice_ids[f"for alice via {first.region}"], mailbox_id="junk", seen=True)
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then every region shows each account the same mailboxes, messages and states
    bob_views = [client.view() for client in bob.values()]
    alice_views = [client.view() for client in alice.values()]
    assert bob_views[1:] == [bob_views[0]] * 2
    assert alice_views[1:] == [alice_views[0]] * 2
    states = {m["subject"]: (m["seen"], m["flagged"]) for m in bob_views[0]["inbox"]}
    assert states == {
        f"for bob via {first.region}": (False, False),
        f"for bob via {second.region}": (True, False),
        f"for bob via {third.region}": (False, True),
    }
    assert bob_views[0]["counts"]["inbox"] == (3, 2)
    assert [m["subject"] for m in alice_views[0]["junk"]] == [f"for alice via {first.region}"]
    assert alice_views[0]["counts"]["inbox"] == (2, 2)
    assert alice_views[0]["counts"]["junk"] == (1, 0)


def test_concurrent_changes_to_one_message_end_as_the_later_write_everywhere(start_regions):
    """Last writer wins per item: the whole item of the later write, so an earlier change is lost."""
    multi = start_regions(count=2, delay=0.3)
    first, second = regions_of(multi)
    in_first, in_second = sign_in(first, BOB), sign_in(second, BOB)
    send(first, message("flag then move"))
    send(first, message("move then flag"))
    multi.wait_until_converged(CONVERGE_SECONDS)
    ids = in_first.ids_by_subject()

    # When the first region flags a message and the second moves it, within the replication delay
    in_first.change(ids["flag then move"], flagged=True, seen=True)
    time.sleep(0.01)
    moved_later = in_second.change(ids["flag then move"], mailbox_id="junk")
    # ... and the other way round for a second message
    in_first.change(ids["move then flag"], mailbox_id="junk")
    time.sleep(0.01)
    flagged_later = in_second.change(ids["move then flag"], flagged=True)
    multi.wait_until_converged(CONVERGE_SECONDS)

    # The later writes did not see the earlier ones: they were concurrent
    assert (moved_later["mailbox_id"], moved_later["flagged"], moved_later["seen"]) == ("junk", False, False)
    assert (flagged_later["mailbox_id"], flagged_later["flagged"]) == ("inbox", True)
    # Then both regions hold the identical item, and it is the later write, whole
    for client in (in_first, in_second):
        assert client.ok("GET", f"/messages/{ids['flag then move']}")["mailbox_id"] == "junk"
        assert summary_of(client, "junk", ids["flag then move"]) == moved_later
        assert summary_of(client, "inbox", ids["move then flag"]) == flagged_later
        assert client.counts()["inbox"] == (1, 1)
        assert client.counts()["junk"] == (1, 1)
    account = first.accounts[BOB]
    assert message_items(multi, first.region, account) == message_items(multi, second.region, account)


def summary_of(client: Client, mailbox: str, message_id: str) -> dict:
    found = [m for m in client.listing(mailbox) if m["id"] == message_id]
    assert len(found) == 1, found
    return found[0]


def test_counts_are_true_after_concurrent_changes_to_different_messages(start_regions):
    multi = start_regions(count=2, delay=0.3)
    first, second = regions_of(multi)
    in_first, in_second = sign_in(first, BOB), sign_in(second, BOB)
    for n in range(8):
        send(first, message(f"m{n}"))
    multi.wait_until_converged(CONVERGE_SECONDS)
    ids = in_first.ids_by_subject()

    # When both regions change different messages at the same moment
    changes = [
        (in_first, [("m0", {"seen": True}), ("m1", {"seen": True}), ("m2", {"mailbox_id": "junk"})]),
        (
            in_second,
            [
                ("m3", {"seen": True}),
                ("m4", {"mailbox_id": "trash"}),
                ("m5", {"mailbox_id": "junk", "seen": True}),
            ],
        ),
    ]
    together = threading.Barrier(len(changes))

    def apply(client: Client, its_changes: list[tuple[str, dict]]) -> None:
        together.wait()
        for subject, change in its_changes:
            client.change(ids[subject], **change)

    with ThreadPoolExecutor(len(changes)) as pool:
        for done in [pool.submit(apply, client, its_changes) for client, its_changes in changes]:
            done.result()
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then every region counts what is really there: inbox m0 m1 m3 (seen) m6 m7, junk m2 m5 (seen), trash m4
    expected = {"inbox": (5, 2), "junk": (2, 1), "trash": (1, 1), "sent": (0, 0), "drafts": (0, 0)}
    for client in (in_first, in_second):
        assert client.counts() == expected
        assert client.true_counts() == expected


def test_a_region_cut_off_misses_nothing_once_healed(start_regions):
    # A longer delay, so that closing the ports does not outlast it (the HTTP server polls every 0.5 s)
    multi = start_regions(count=3, delay=1.0)
    first, second, third = regions_of(multi)
    early = sign_in(third, BOB)

    # Given a message accepted by the third region just before it is cut off, before it replicated
    assert send(third, message("accepted just before the cut")) == 250
    multi.cut(third.region)

    # Then its ports refuse connections
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(third.host, third.smtp_port, timeout=5)
    with pytest.raises(urllib.error.URLError) as refused:
        early.call("GET", "/mailboxes")
    assert isinstance(refused.value.reason, ConnectionRefusedError)

    # When mail keeps arriving at the other two
    subjects = [f"while cut {n}" for n in range(6)]
    for n, subject in enumerate(subjects):
        assert send((first, second)[n % 2], message(subject)) == 250

    # Then accounts sign in at a surviving region and read everything the survivors accepted
    bob = sign_in(first, BOB)
    for client in (bob, at(second, bob), at(first, early)):
        listed = wait_for(lambda c=client: len(found := c.listing()) == 6 and found, "the survivors' mail")
        assert sorted(m["subject"] for m in listed) == subjects
    raw = bob.call("GET", f"/messages/{bob.ids_by_subject()['while cut 1']}/raw")
    assert raw.body == message("while cut 1")
    # ... and nothing crossed the cut either way
    account = first.accounts[BOB]
    assert len(message_items(multi, third.region, account)) == 1
    assert len(message_items(multi, first.region, account)) == 6

    # When the region is healed
    multi.heal(third.region)
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then every region holds every accepted message exactly once
    everything = sorted([*subjects, "accepted just before the cut"])
    for service in (first, second, third):
        client = at(service, early)
        assert sorted(m["subject"] for m in client.listing()) == everything
        assert client.counts()["inbox"] == (7, 7)
        assert len(message_items(multi, service.region, account)) == 7


def test_one_message_delivered_to_two_regions_is_stored_once(start_regions):
    multi = start_regions(count=2, delay=0.3)
    first, second = regions_of(multi)
    raw = message("retried at another MX", message_id="<retry-1@example.org>")

    # When a sender delivers the same message to both regions before either replicates
    assert send(first, raw) == 250
    assert send(second, raw) == 250
    # ... and once more, to the first, after it has replicated
    multi.wait_until_converged(CONVERGE_SECONDS)
    assert send(first, raw) == 250
    # ... while a different message reusing the Message-ID is a message of its own
    assert send(second, message("same id, other text", message_id="<retry-1@example.org>")) == 250
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then each region lists it once, under one id
    listed = [sign_in(service, BOB).listing() for service in (first, second)]
    ids = [{m["subject"]: m["id"] for m in found} for found in listed]
    assert [len(found) for found in listed] == [2, 2]
    assert ids[0] == ids[1]
    assert ids[0]["retried at another MX"] != ids[0]["same id, other text"]
    account = first.accounts[BOB]
    items = message_items(multi, first.region, account)
    assert items == message_items(multi, second.region, account)
    assert sorted(items) == sorted(f"MSG#{i}" for i in ids[0].values())
    # Both regions stored their own copy; the later one, the second region's, won in both
    assert items[f"MSG#{ids[0]['retried at another MX']}"]["raw_region"] == {"S": second.region}


def test_reading_a_message_whose_body_has_not_replicated_yet(start_regions):
    multi = start_regions(count=2, delay=0.1, body_delay=4.0)
    first, second = regions_of(multi)
    raw = message("body lags", body="The body, read from its origin region.")
    reader = sign_in(second, BOB)

    # Given a message accepted in the first region, whose metadata has replicated but not its body
    assert send(first, raw) == 250
    message_id = wait_for(lambda: reader.ids_by_subject().get("body lags"), "metadata in the second region")
    item = next(iter(message_items(multi, second.region, first.accounts[BOB]).values()))
    with second.scope, pytest.raises(NotFoundError):
        second.bucket.get(item["raw_key"]["S"])

    # Then the second region reads it from the origin region's bucket
    assert_reads_right(reader, message_id, raw)

    # ... and, once the body has replicated, from its own
    multi.wait_until_converged(CONVERGE_SECONDS)
    with second.scope:
        assert second.bucket.get(item["raw_key"]["S"]) == raw
    assert_reads_right(reader, message_id, raw)


def assert_reads_right(reader: Client, message_id: str, raw: bytes) -> None:
    detail = reader.ok("GET", f"/messages/{message_id}")
    assert detail["subject"] == "body lags"
    assert detail["text"].strip() == "The body, read from its origin region."
    downloaded = reader.call("GET", f"/messages/{message_id}/raw")
    assert (downloaded.status, downloaded.body) == (200, raw)


def test_a_message_deleted_in_one_region_and_changed_later_in_another_stays_deleted(start_regions):
    multi = start_regions(count=3, delay=0.3)
    first, second, third = regions_of(multi)
    in_first, in_second = sign_in(first, BOB), sign_in(second, BOB)
    send(first, message("deleted"))
    send(first, message("kept"))
    multi.wait_until_converged(CONVERGE_SECONDS)
    ids = in_first.ids_by_subject()

    # When the first region deletes a message for good and the second flags it just after
    deleted = in_first.ok("DELETE", f"/messages/{ids['deleted']}?permanent=true")
    time.sleep(0.01)
    flagged_later = in_second.change(ids["deleted"], flagged=True)
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then the later flag did not bring it back: it is gone, with its tombstone, everywhere
    assert deleted == {"id": ids["deleted"], "deleted": True, "mailbox_id": None}
    assert flagged_later["flagged"] is True
    account = first.accounts[BOB]
    for service in (first, second, third):
        client = at(service, in_first)
        assert client.call("GET", f"/messages/{ids['deleted']}").status == 404
        assert [m["subject"] for m in client.listing()] == ["kept"]
        assert client.counts()["inbox"] == (1, 1)
        assert sorted(message_items(multi, service.region, account, "TOMB#")) == [f"TOMB#{ids['deleted']}"]


def test_deletes_made_while_a_region_is_cut_off_stay_deleted_after_heal(start_regions):
    """More deletes than one janitor batch read used to cover (50 messages): every one stays deleted."""
    multi = start_regions(count=3, delay=0.2)
    first, second, third = regions_of(multi)
    subjects = [f"old {n:02}" for n in range(60)]
    for subject in [*subjects, "kept"]:
        send(first, message(subject))
    multi.wait_until_converged(CONVERGE_SECONDS)
    bob = sign_in(first, BOB)
    ids = bob.ids_by_subject()
    account = first.accounts[BOB]

    # When the first region deletes them for good while the third is cut off,
    multi.cut(third.region)
    for subject in subjects:
        assert bob.ok("DELETE", f"/messages/{ids[subject]}?permanent=true")["deleted"] is True
    # ... and a client of the cut-off region, unaware, marks them all seen afterwards
    for subject in subjects:
        call_function(third, account, "PATCH", f"/messages/{ids[subject]}", {"seen": True})
    multi.heal(third.region)
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then after heal they are gone in every region, and the counts agree
    for service in (first, second, third):
        client = at(service, bob)
        assert [m["subject"] for m in client.listing()] == ["kept"]
        assert client.counts()["inbox"] == (1, 1)
        kinds = Counter(sk.split("#")[0] for sk in message_items(multi, service.region, account, ""))
        assert (kinds["MSG"], kinds["TOMB"]) == (1, 60)


def test_a_delivery_status_survives_a_flag_set_later_in_another_region(start_regions):
    """Statuses live in items of their own, so the Sent copy's later write cannot undo one."""
    multi = start_regions(count=2, delay=0.2)
    first, second = regions_of(multi)
    delivery_queue, feedback_queue = first.pollers
    for poller in first.pollers:
        poller.stop()  # the test hands the first region's queues to its functions by hand
    bob = sign_in(first, BOB)
    account = first.accounts[BOB]
    bounce = "bounce@simulator.amazonses.com"
    sent = bob.call("POST", "/outbox", {"to": [bounce], "subject": "status"})
    assert sent.status == 202
    message_id = sent.json()["id"]
    multi.wait_until_converged(CONVERGE_SECONDS)

    # When the send and its bounce are recorded in the first region while the second is cut off,
    multi.cut(second.region)
    assert delivery_queue.drain_once() == 1
    assert feedback_queue.drain_once() == 1
    assert bob.ok("GET", f"/messages/{message_id}")["delivery"][bounce]["status"] == "bounced"
    # ... and the second region, later, flags its copy, which has never seen the bounce
    call_function(second, account, "PATCH", f"/messages/{message_id}", {"flagged": True})
    multi.heal(second.region)
    multi.wait_until_converged(CONVERGE_SECONDS)

    # Then both regions show the flag (the later write of the Sent copy) and the bounce
    for service in (first, second):
        seen = at(service, bob).ok("GET", f"/messages/{message_id}")
        assert seen["flagged"] is True
        assert seen["delivery"][bounce]["status"] == "bounced"
        assert seen["send_status"] == "failed"


def test_healing_a_region_that_is_not_cut_and_cutting_one_twice_change_nothing(start_regions):
    multi = start_regions(count=2)
    _, second = regions_of(multi)

    # Healing a region that is up leaves it serving
    multi.heal(second.region)
    assert send(second, message("after a needless heal")) == 250

    # Cutting twice, then healing once, brings it back
    multi.cut(second.region)
    multi.cut(second.region)
    multi.heal(second.region)
    assert send(second, message("after a double cut")) == 250
    assert multi.replicator.cut == set()
