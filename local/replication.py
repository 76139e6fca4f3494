"""What DynamoDB global tables and S3 cross-region replication do, for local regions on moto.

Every region's table stream is read; each change is applied to every other region after a
delay, and a change wins over what a region already has only if it was written later (the
stream record's creation time, ties broken by region name, then by the stream's sequence
number): last writer wins, per item. The replicator's own writes are recognised in the
target's stream and not sent on again. The body an item names (`raw_bucket`, `raw_key`)
is copied to every other region's bucket, with a delay of its own, as S3 replication
copies every new object. A region that is cut off neither sends nor receives until it is
healed; what it missed is applied then.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.region import INVOKE_LOCK
from mailcore import aws
from mailcore.observability import logger

StreamConsumer = Callable[[str, list[dict[str, Any]]], None]


@dataclass
class Region:
    name: str
    table: str
    bucket: str
    stream_arn: str = ""
    iterator: str | None = None


@dataclass(order=True)
class _Pending:
    due: float
    order: int
    target: str = field(compare=False)
    origin: str = field(compare=False)
    written: float = field(compare=False)
    sequence: int = field(compare=False)
    record: dict[str, Any] = field(compare=False)


class Replicator:
    def __init__(
        self,
        regions: list[Region],
        delay: float = 0.5,
        body_delay: float | None = None,
        interval: float = 0.05,
        on_records: StreamConsumer | None = None,
    ) -> None:
        self.regions = {r.name: r for r in regions}
        self.delay = delay
        self.body_delay = delay if body_delay is None else body_delay
        self.interval = interval
        self.on_records = on_records
        self.cut: set[str] = set()
        self.lags: list[float] = []
        self._pending: list[_Pending] = []
        self._bodies: list[tuple[float, int, str, str, str]] = []
        self._order = itertools.count()
        # (region, pk, sk) -> (write time, origin) of the version that region holds
        self._versions: dict[tuple[str, str, str], tuple[float, str, int]] = {}
        self._echoes: dict[tuple[str, str, str, str], int] = defaultdict(int)
        # (region, key) of every body a region's bucket holds or has been given
        self._copied: set[tuple[str, str]] = set()
        self._quiet_passes = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replicator", daemon=True)

    # Control

    def start(self) -> None:
        with INVOKE_LOCK:
            for region in self.regions.values():
                self._open_stream(region)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def cut_off(self, name: str) -> None:
        with INVOKE_LOCK:
            self.cut.add(name)

    def heal(self, name: str) -> None:
        with INVOKE_LOCK:
            self.cut.discard(name)

    def backlog(self) -> int:
        """Changes read but not applied yet, bodies included."""
        with INVOKE_LOCK:
            return len(self._pending) + len(self._bodies)

    def settled(self) -> bool:
        """Nothing waiting, and two whole passes found no new stream record: a change the last
        pass applied (and a janitor's answer to it) has been read back and had its effect."""
        with INVOKE_LOCK:
            return not self._pending and not self._bodies and self._quiet_passes >= 2

    def step(self) -> None:
        """One pass: read every reachable stream, apply what is due, copy new bodies."""
        with INVOKE_LOCK:
            now = time.time()
            read = sum(self._read_stream(r, now) for r in self.regions.values() if r.name not in self.cut)
            applied = self._apply_due(now)
            self._copy_due_bodies(now)
            self._quiet_passes = 0 if read or applied else self._quiet_passes + 1

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the stream positions are kept; the next pass retries
                logger.exception("replication pass failed")
            self._stopped.wait(self.interval)

    # Metadata

    def _open_stream(self, region: Region) -> None:
        ddb = aws.client("dynamodb", region.name)
        region.stream_arn = ddb.describe_table(TableName=region.table)["Table"]["LatestStreamArn"]
        streams = aws.client("dynamodbstreams", region.name)
        shard = streams.describe_stream(StreamArn=region.stream_arn)["StreamDescription"]["Shards"][0]
        region.iterator = streams.get_shard_iterator(
            StreamArn=region.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def _read_stream(self, region: Region, now: float) -> int:
        """Read what the region's stream has since the last pass; returns how many records."""
        streams = aws.client("dynamodbstreams", region.name)
        read = 0
        while region.iterator:
            response = streams.get_records(ShardIterator=region.iterator, Limit=1000)
            region.iterator = response.get("NextShardIterator")
            records = response.get("Records", [])
            if not records:
                break
            read += len(records)
            if self.on_records:
                self.on_records(region.name, records)
            for record in records:
                self._observe(region.name, record, now)
        return read

    def _observe(self, origin: str, record: dict[str, Any], now: float) -> None:
        pk, sk = _keys(record)
        signature = (origin, pk, sk, _fingerprint(record))
        if self._echoes.get(signature):
            self._echoes[signature] -= 1
            return
        written = record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
        sequence = int(record["dynamodb"].get("SequenceNumber", "0"))
        self._versions[(origin, pk, sk)] = (written, origin, sequence)
        self._schedule_body(record, now)
        for target in self.regions:
            if target != origin:
                heapq.heappush(
                    self._pending,
                    _Pending(now + self.delay, next(self._order), target, origin, written, sequence, record),
                )

    def _apply_due(self, now: float) -> int:
        waiting: list[_Pending] = []
        applied = 0
        while self._pending and self._pending[0].due <= now:
            change = heapq.heappop(self._pending)
            if change.target in self.cut or change.origin in self.cut:
                waiting.append(change)
                continue
            self._apply(change)
            self.lags.append(now - change.written)
            applied += 1
        for change in waiting:
            change.due = now + self.interval
            heapq.heappush(self._pending, change)
        return applied

    def _apply(self, change: _Pending) -> None:
        pk, sk = _keys(change.record)
        held = self._versions.get((change.target, pk, sk), (0.0, "", 0))
        if (change.written, change.origin, change.sequence) <= held:
            return
        target = self.regions[change.target]
        ddb = aws.client("dynamodb", target.name)
        key = change.record["dynamodb"]["Keys"]
        current = ddb.get_item(TableName=target.table, Key=key).get("Item")
        self._versions[(change.target, pk, sk)] = (change.written, change.origin, change.sequence)
        if change.record["eventName"] == "REMOVE":
            if current is not None:
                self._echoes[(target.name, pk, sk, "REMOVE")] += 1
                ddb.delete_item(TableName=target.table, Key=key)
            return
        image = change.record["dynamodb"]["NewImage"]
        if current == image:
            return
        self._echoes[(target.name, pk, sk, _image_fingerprint(image))] += 1
        ddb.put_item(TableName=target.table, Item=image)

    # Bodies

    def _schedule_body(self, record: dict[str, Any], now: float) -> None:
        """A new or changed item in its region: the body it names goes to every other bucket."""
        image = record["dynamodb"].get("NewImage") or {}
        key = image.get("raw_key", {}).get("S")
        source_bucket = image.get("raw_bucket", {}).get("S")
        if not key or not source_bucket:
            return
        source = next((r for r in self.regions.values() if r.bucket == source_bucket), None)
        if source is None:
            return
        self._copied.add((source.name, key))
        for target in self.regions:
            if (target, key) not in self._copied:
                self._copied.add((target, key))
                self._bodies.append((now + self.body_delay, next(self._order), source.name, target, key))

    def _copy_due_bodies(self, now: float) -> None:
        remaining = []
        for due, order, origin, target, key in self._bodies:
            if due > now or origin in self.cut or target in self.cut:
                remaining.append((due, order, origin, target, key))
                continue
            source = self.regions[origin]
            data = aws.client("s3", origin).get_object(Bucket=source.bucket, Key=key)["Body"].read()
            aws.client("s3", target).put_object(Bucket=self.regions[target].bucket, Key=key, Body=data)
        self._bodies = remaining


def _keys(record: dict[str, Any]) -> tuple[str, str]:
    keys = record["dynamodb"]["Keys"]
    return keys["pk"]["S"], keys["sk"]["S"]


def _fingerprint(record: dict[str, Any]) -> str:
    if record["eventName"] == "REMOVE":
        return "REMOVE"
    return _image_fingerprint(record["dynamodb"]["NewImage"])


def _image_fingerprint(image: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(image, sort_keys=True).encode()).hexdigest()
