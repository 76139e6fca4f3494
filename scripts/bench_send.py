"""Benchmark sending in local mode: throughput, AWS requests per message, handler time, and loss.

    PYTHONPATH=layers/mailcore/python:. .venv/bin/python scripts/bench_send.py [--sends 300] [--loss 1000]

Prints figures; asserts nothing and exits 0. Everything runs on moto in one process, with one
function invocation at a time (local mode's invoke lock), so the figures compare runs of this
script on one machine; they are not AWS latencies. Sends are API function calls in-process:
the local HTTP server and its token check are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from functools import partial
from pathlib import Path
from typing import Any

# Read when the functions' logger and metrics are created, so set before anything imports them.
os.environ["LOG_LEVEL"] = "ERROR"

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "layers" / "mailcore" / "python"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import local  # noqa: E402, F401 - sets the Powertools environment before the functions are imported
from functions.delivery import handler as delivery_function  # noqa: E402
from local.http_api import http_event  # noqa: E402
from local.lambda_context import LocalContext  # noqa: E402
from local.service import LocalService  # noqa: E402
from mailcore import aws  # noqa: E402
from mailcore import statuses as mail_statuses  # noqa: E402

ALICE, BOB = "alice@demo.test", "bob@demo.test"
# The delivery path's target for one remote recipient: read the body, one batch read, SES, one update.
REQUESTS_TARGET = 4
# SES's own work on AWS (publishing events for the configuration set); the simulator does it here.
SIMULATED = {("sns", "Publish")}


class DeliveryProbe:
    """Counts AWS requests and times records, only inside the delivery function's invocations."""

    def __init__(self) -> None:
        self.inside = threading.local()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.record_seconds: list[float] = []
        self.records = 0
        self._hooked: set[int] = set()

    def install(self) -> None:
        """Wrap the function (before the pollers pick it up) and every client mailcore makes."""
        handler, deliver_record = delivery_function.handler, delivery_function.deliver_record
        client = aws.client

        def invoked(event: dict[str, Any], context: Any) -> dict[str, Any]:
            self.inside.active = True
            try:
                return handler(event, context)
            finally:
                self.inside.active = False

        def timed(record: Any) -> Any:
            started = time.perf_counter()
            try:
                return deliver_record(record)
            finally:
                self.record_seconds.append(time.perf_counter() - started)
                self.records += 1

        def hooked_client(service: str, region: str | None = None) -> Any:
            made = client(service, region)
            if id(made) not in self._hooked:
                self._hooked.add(id(made))
                made.meta.events.register("before-call", self._count)
            return made

        delivery_function.handler = invoked
        delivery_function.deliver_record = timed
        aws.client = hooked_client

    def reset(self) -> None:
        self.calls.clear()
        self.record_seconds.clear()
        self.records = 0

    def _count(self, model: Any, **_: Any) -> None:
        if getattr(self.inside, "active", False):
            self.calls[(model.service_model.service_name, model.name)] += 1


def api(service: LocalService, account: str, body: Any) -> dict[str, Any]:
    """One POST /outbox to the API function, as API Gateway makes it after the JWT authorizer."""
    from functions.api import handler as api_function

    headers, claims = {"content-type": "application/json"}, {"custom:account_id": account}
    event = http_event("POST", "/outbox", headers, json.dumps(body).encode(), claims)
    with service.scope:
        response = api_function.handler(event, LocalContext("api"))
    return {"status": response["statusCode"], "body": json.loads(response.get("body") or "{}")}


def statuses(service: LocalService, account: str, message_ids: list[str]) -> dict[str, list[str]]:
    """Each Sent copy's recipient statuses (in items of their own), read 100 copies at a time."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(message_ids), 100):
        keys = [(f"ACCT#{account}", f"MSG#{m}") for m in message_ids[start : start + 100]]
        with service.scope:
            items = service.table.get_many(keys)
            for (_, sk), item in items.items():
                current = mail_statuses.current(service.table, item)
                found[sk.removeprefix("MSG#")] = [s["status"] for s in current.values()]
    return found


def queue_depth(service: LocalService, url: str) -> int:
    with service.scope:
        attributes = aws.client("sqs", service.region).get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
    return sum(int(v) for v in attributes.values())


def wait_until(done: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not done() and time.monotonic() - started < timeout:
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def running(**options: Any) -> Iterator[LocalService]:
    service = LocalService(**options).start()
    try:
        yield service
    finally:
        service.stop()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def throughput(probe: DeliveryProbe, sends: int, out: list[str]) -> None:
    with running(retry_delays="0,0,0,0,0") as service:
        alice = service.accounts[ALICE]
        probe.reset()
        ids, latencies = [], []
        started = time.monotonic()
        for i in range(sends):
            to = BOB if i % 2 else f"reader{i}@example.com"
            call_started = time.perf_counter()
            answer = api(service, alice, {"to": [to], "subject": f"Bench {i}", "text": "x" * 2000})
            latencies.append(time.perf_counter() - call_started)
            ids.append(answer["body"]["id"])
        accepted = time.monotonic() - started
        wait_until(lambda: none_queued(service, alice, ids), timeout=120)
        total = time.monotonic() - started
        median, p99 = _ms(probe.record_seconds, 0.5), _ms(probe.record_seconds, 0.99)
        out += [
            f"throughput: {sends} one-recipient sends, half to a local account, half through SES",
            f"  API accepted           {sends / accepted:7.1f} sends/s  (call median {_ms(latencies, 0.5)})",
            f"  API call to delivered  {sends / total:7.1f} sends/s  ({total:.1f} s until none is queued)",
            f"  delivery handler       {median} median, {p99} p99 per message ({probe.records} records)",
        ]


def requests_per_message(probe: DeliveryProbe, count: int, out: list[str]) -> None:
    out.append("AWS requests per message on the delivery path (in the delivery function, by operation):")
    with running(retry_delays="0,0,0,0,0") as service:
        alice = service.accounts[ALICE]
        for label, recipient in [("remote", "reader{i}@example.com"), ("local", BOB)]:
            probe.reset()
            bodies = [{"to": [recipient.format(i=i)], "subject": f"Count {i}"} for i in range(count)]
            ids = [api(service, alice, body)["body"]["id"] for body in bodies]
            wait_until(partial(none_queued, service, alice, ids), timeout=60)
            out += _requests(probe, label)


def _requests(probe: DeliveryProbe, label: str) -> list[str]:
    messages = max(probe.records, 1)
    ours = sum(n for call, n in probe.calls.items() if call not in SIMULATED) / messages
    target = f" (target <= {REQUESTS_TARGET}: {'met' if ours <= REQUESTS_TARGET else 'MISSED'})"
    lines = [
        f"  {label}, one recipient: {ours:.2f} per message over {probe.records}"
        + target * (label == "remote")
    ]
    for (name, operation), calls in sorted(probe.calls.items()):
        note = "  (the simulator publishing SES's event; SES does it on AWS)" * (
            (name, operation) in SIMULATED
        )
        lines.append(f"    {name + '.' + operation:<28} {calls / messages:5.2f}{note}")
    return lines


def loss(probe: DeliveryProbe, sends: int, failure_rate: float, out: list[str]) -> None:
    with running(retry_delays="0,0,0,0,0", transient_failure_rate=failure_rate) as service:
        alice = service.accounts[ALICE]
        started = time.monotonic()
        answers = [
            api(service, alice, {"to": [f"user{i}@example.com"], "subject": f"Loss {i}"})
            for i in range(sends)
        ]
        ids = [a["body"]["id"] for a in answers if a["status"] == 202]
        queues = (service.resources.delivery_queue_url, service.resources.feedback_queue_url)
        wait_until(lambda: all(queue_depth(service, q) == 0 for q in queues), timeout=150)
        elapsed = time.monotonic() - started
        final = statuses(service, alice, ids)
        outbox = Counter(m["tags"]["message"] for m in service.ses.outbox)
        in_dlq = queue_depth(service, service.resources.delivery_dlq_url)
        in_queue = queue_depth(service, queues[0])
        out += _tally(sends, failure_rate, elapsed, ids, final, outbox, in_dlq, in_queue, service.ses.refused)


def _tally(
    sends: int,
    failure_rate: float,
    elapsed: float,
    ids: list[str],
    final: dict[str, list[str]],
    outbox: Counter[str],
    in_dlq: int,
    in_queue: int,
    refused: int,
) -> list[str]:
    states = Counter(s for recipients in final.values() for s in recipients)
    out_by_status = states["sent"] + states["delivered"]
    failed = states["failed"] + states["bounced"] + states["suppressed"]
    duplicates = sum(n - 1 for n in outbox.values())
    adds_up = len(ids) == len(outbox) + failed + states["queued"] and states["queued"] == in_dlq + in_queue
    agrees = out_by_status == len(outbox) and set(outbox) <= set(final)
    return [
        f"loss: {sends} sends to outside addresses; SES throttles {failure_rate:.0%} of calls at random;",
        f"      retries without delay; the DLQ after 5 receives ({elapsed:.1f} s)",
        f"  accepted by the API                {len(ids)}",
        f"  sent by SES (unique message ids)   {len(outbox)}",
        f"  failed                             {failed}",
        f"  still queued (per the Sent copy)   {states['queued']}",
        f"    in the dead-letter queue         {in_dlq}   (expected about {sends * failure_rate**5:.1f})",
        f"    on the delivery queue            {in_queue}",
        f"  duplicates in the SES outbox       {duplicates}",
        f"  throttled SES calls, retried       {refused}",
        f"  accepted = sent + failed + queued, and queued = DLQ + queue: {'yes' if adds_up else 'NO'}",
        f"  Sent copies say sent/delivered for exactly the SES outbox:   {'yes' if agrees else 'NO'}",
    ]


def none_queued(service: LocalService, account: str, message_ids: list[str]) -> bool:
    return all("queued" not in s for s in statuses(service, account, message_ids).values())


def _ms(values: list[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:6.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench_send.py", description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=300, help="sends timed for throughput")
    parser.add_argument("--counted", type=int, default=50, help="sends whose AWS requests are counted")
    parser.add_argument("--loss", type=int, default=1000, help="sends in the loss test")
    parser.add_argument("--failure-rate", type=float, default=0.2, help="share of SES calls throttled")
    args = parser.parse_args(argv)
    probe = DeliveryProbe()
    probe.install()
    started = time.monotonic()
    for phase in (
        lambda out: throughput(probe, args.sends, out),
        lambda out: requests_per_message(probe, args.counted, out),
        lambda out: loss(probe, args.loss, args.failure_rate, out),
    ):
        out: list[str] = []
        # The functions print their metrics (EMF) on stdout, as on Lambda; only the figures are wanted.
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            phase(out)
        print("\n".join(out), flush=True)
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
