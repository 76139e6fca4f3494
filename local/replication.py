"""What DynamoDB global tables and S3 cross-region replication do, for local regions on moto.

Every region's table stream is read; each change is applied to every other region after a
delay, and a change wins over what a region already has only if it was written later (the
stream record's creation time, ties broken by region name): last writer wins, per item.
The replicator's own writes are recognised in the target's stream and not sent on again.
Bodies are copied between the regions' buckets, with a delay of their own. A region that
is cut off neither sends nor receives until it is healed; what it missed is applied then.
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

BODY_SCAN_SECONDS = 0.3
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
        self._versions: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._echoes: dict[tuple[str, str, str, str], int] = defaultdict(int)
        self._seen_objects: dict[str, set[str]] = {r.name: set() for r in regions}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replicator", daemon=True)
        self._last_body_scan = 0.0

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

    def step(self) -> None:
        """One pass: read every reachable stream, apply what is due, copy new bodies."""
        with INVOKE_LOCK:
            now = time.time()
            for region in self.regions.values():
                if region.name not in self.cut:
                    self._read_stream(region, now)
            self._apply_due(now)
            if now - self._last_body_scan >= BODY_SCAN_SECONDS:
                self._last_body_scan = now
                self._scan_bodies(now)
            self._copy_due_bodies(now)

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

    def _read_stream(self, region: Region, now: float) -> None:
        streams = aws.client("dynamodbstreams", region.name)
        while region.iterator:
            response = streams.get_records(ShardIterator=region.iterator, Limit=1000)
            region.iterator = response.get("NextShardIterator")
            records = response.get("Records", [])
            if not records:
                return
            if self.on_records:
                self.on_records(region.name, records)
            for record in records:
                self._observe(region.name, record, now)

    def _observe(self, origin: str, record: dict[str, Any], now: float) -> None:
        pk, sk = _keys(record)
        signature = (origin, pk, sk, _fingerprint(record))
        if self._echoes.get(signature):
            self._echoes[signature] -= 1
            return
        written = record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
        self._versions[(origin, pk, sk)] = (written, origin)
        for target in self.regions:
            if target != origin:
                heapq.heappush(
                    self._pending,
                    _Pending(now + self.delay, next(self._order), target, origin, written, record),
                )

    def _apply_due(self, now: float) -> None:
        waiting: list[_Pending] = []
        while self._pending and self._pending[0].due <= now:
            change = heapq.heappop(self._pending)
            if change.target in self.cut or change.origin in self.cut:
                waiting.append(change)
                continue
            self._apply(change)
            self.lags.append(now - change.written)
        for change in waiting:
            change.due = now + self.interval
            heapq.heappush(self._pending, change)

    def _apply(self, change: _Pending) -> None:
        pk, sk = _keys(change.record)
        held = self._versions.get((change.target, pk, sk), (0.0, ""))
        if (change.written, change.origin) <= held:
            return
        target = self.regions[change.target]
        ddb = aws.client("dynamodb", target.name)
        key = change.record["dynamodb"]["Keys"]
        current = ddb.get_item(TableName=target.table, Key=key).get("Item")
        self._versions[(change.target, pk, sk)] = (change.written, change.origin)
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

    def _scan_bodies(self, now: float) -> None:
        for region in self.regions.values():
            if region.name in self.cut:
                continue
            for key in _object_keys(region) - self._seen_objects[region.name]:
                self._seen_objects[region.name].add(key)
                for target in self.regions:
                    if target != region.name:
                        self._bodies.append(
                            (now + self.body_delay, next(self._order), region.name, target, key)
                        )

    def _copy_due_bodies(self, now: float) -> None:
        remaining = []
        for due, order, origin, target, key in self._bodies:
            if due > now or origin in self.cut or target in self.cut:
                remaining.append((due, order, origin, target, key))
                continue
            if key in self._seen_objects[target]:
                continue
            source = self.regions[origin]
            data = aws.client("s3", origin).get_object(Bucket=source.bucket, Key=key)["Body"].read()
            aws.client("s3", target).put_object(Bucket=self.regions[target].bucket, Key=key, Body=data)
            self._seen_objects[target].add(key)
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


def _object_keys(region: Region) -> set[str]:
    s3 = aws.client("s3", region.name)
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=region.bucket):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys
