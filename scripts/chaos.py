"""Chaos run of the local multi-region mode: mail through random regions while regions are cut and healed.

Starts three local regions in this process and sends N messages (unique Message-IDs, some
delivered to two regions, as a sender retrying another MX does) from a few threads, each
to a random region's SMTP listener. Meanwhile a chaos thread cuts regions off and heals
them, never all at once. A send to a cut region fails to connect and is tried at the next
region, as a mail server tries the next MX. After the last heal it waits for the regions
to converge and prints, per region, what was stored, duplicated and missing, with the
replication lag and the timings. Prints only; asserts nothing and exits 0.

    .venv/bin/python scripts/chaos.py                    # 2,000 messages, delay 0.3 s
    .venv/bin/python scripts/chaos.py --messages 500 --delay 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import smtplib
import statistics
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

# Read by Powertools when the functions' logger and metrics are created: before anything imports them.
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "layers" / "mailcore" / "python"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from local.multi import LocalMultiRegion  # noqa: E402 - after the path and log level are set
from local.service import LocalService  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ACCOUNTS = ["bob@demo.test", "alice@demo.test"]
SENDER = "chaos@example.org"
SMTP_TIMEOUT = 30
# A refused send is retried at another region; this many full rounds of refusals end the try.
MAX_ROUNDS = 50
TERMINAL = sys.stdout


@dataclass
class Tally:
    """What the senders saw, shared by their threads."""

    accepted: dict[str, str] = field(default_factory=dict)  # Message-ID -> recipient
    replies_250: int = 0
    sent_twice: int = 0
    refused: int = 0
    deferred: int = 0
    rejected: int = 0
    given_up: int = 0
    started: float = field(default_factory=time.time)
    send_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


@dataclass
class Chaos:
    """The cut-and-heal cycles: which regions, for how long, and when the last heal happened."""

    cuts: list[tuple[str, ...]] = field(default_factory=list)
    seconds_cut: float = 0.0
    last_heal: float = 0.0

    def summary(self) -> str:
        doubles = sum(1 for victims in self.cuts if len(victims) == 2)
        per_region = Counter(region for victims in self.cuts for region in victims)
        spread = ", ".join(f"{region} {times}x" for region, times in sorted(per_region.items()))
        return (
            f"{len(self.cuts)} ({len(self.cuts) - doubles} of one region, {doubles} of two at once; "
            f"{spread}); {self.seconds_cut:.0f} s cut off in all"
        )


def raw_message(run: str, n: int, recipient: str) -> tuple[str, bytes]:
    message_id = f"<chaos-{run}-{n}@chaos.example>"
    text = (
        f"From: Chaos <{SENDER}>\r\nTo: {recipient}\r\nSubject: chaos {n}\r\n"
        f"Message-ID: {message_id}\r\n\r\nMessage {n} of the chaos run {run}.\r\n"
    )
    return message_id, text.encode()


def deliver(service: LocalService, recipient: str, raw: bytes) -> str:
    """One SMTP transaction: "250", "4xx" or "5xx" as the region answered, "refused" when unreachable."""
    try:
        with smtplib.SMTP(service.host, service.smtp_port, timeout=SMTP_TIMEOUT) as client:
            client.ehlo("mx-chaos.example.org")
            client.mail(SENDER)
            code, _ = client.rcpt(recipient)
            if code == 250:
                code, _ = client.data(raw)
    except smtplib.SMTPResponseException as error:
        code = error.smtp_code
    except (OSError, smtplib.SMTPException):
        return "refused"
    return "250" if code == 250 else f"{code // 100}xx"


def send_one(multi: LocalMultiRegion, rng: random.Random, raw: bytes, recipient: str, tally: Tally) -> str:
    """Try the regions in a random order, as MX records of equal preference; the region that took it.

    A connection failure or a 4xx moves on to the next region; a 5xx is final, as for any MTA.
    """
    for _ in range(MAX_ROUNDS):
        for region in rng.sample(multi.names, len(multi.names)):
            outcome = deliver(multi.services[region], recipient, raw)
            if outcome == "250":
                tally.count("replies_250")
                return region
            if outcome == "5xx":
                tally.count("rejected")
                return ""
            tally.count("refused" if outcome == "refused" else "deferred")
        time.sleep(0.2)
    tally.count("given_up")
    return ""


def sender(multi: LocalMultiRegion, args: argparse.Namespace, run: str, work: Queue, tally: Tally) -> None:
    rng = random.Random()
    while True:
        try:
            n = work.get_nowait()
        except Empty:
            return
        recipient = rng.choice(ACCOUNTS)
        message_id, raw = raw_message(run, n, recipient)
        region = send_one(multi, rng, raw, recipient, tally)
        if not region:
            continue
        with tally.lock:
            tally.accepted[message_id] = recipient
            done = len(tally.accepted)
        if done % max(1, args.messages // 10) == 0:
            say(f"  {done} of {args.messages} accepted, {time.time() - tally.started:.0f} s")
        if rng.random() < args.duplicates:
            other = rng.choice([r for r in multi.names if r != region])
            if deliver(multi.services[other], recipient, raw) == "250":
                tally.count("replies_250")
                tally.count("sent_twice")


def chaos(multi: LocalMultiRegion, args: argparse.Namespace, sending: threading.Event, state: Chaos) -> None:
    """Cut one region, sometimes two, never all; heal; repeat while mail flows and until enough cycles."""
    rng = random.Random()
    while sending.is_set() or len(state.cuts) < args.cycles:
        time.sleep(rng.uniform(0.5, 2.0))
        victims = tuple(rng.sample(multi.names, 2 if rng.random() < 0.3 else 1))
        cut_at = time.time()
        for region in victims:
            multi.cut(region)
        time.sleep(rng.uniform(1.0, 3.0))
        for region in victims:
            multi.heal(region)
        state.last_heal = time.time()
        state.seconds_cut += state.last_heal - cut_at
        state.cuts.append(victims)


def stored_ids(multi: LocalMultiRegion, region: str) -> dict[str, Counter[str]]:
    """Per account pk, how many message items each Message-ID has in the region's table."""
    found: dict[str, Counter[str]] = {}
    for (pk, sk), item in multi.snapshot(region).items():
        if sk.startswith("MSG#") and "header_message_id" in item:
            found.setdefault(pk, Counter())[item["header_message_id"]["S"]] += 1
    return found


def api_totals(service: LocalService, address: str) -> int:
    """Messages in all the account's mailboxes, as the region's HTTP API counts them."""
    request = urllib.request.Request(
        f"http://{service.host}:{service.http_port}/mailboxes",
        headers={"Authorization": f"Bearer {service.token(address)}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return sum(m["total"] for m in json.load(response)["mailboxes"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def say(line: str) -> None:
    """Print to the terminal: stdout itself is swallowed while the regions run (EMF metric lines)."""
    print(line, file=TERMINAL, flush=True)


def report_regions(multi: LocalMultiRegion, tally: Tally, run: str) -> None:
    say(f"\n{'region':<16}{'account':<18}{'stored':>8}{'API total':>11}{'duplicates':>12}{'missing':>9}")
    for region in multi.names:
        held = stored_ids(multi, region)
        for address in ACCOUNTS:
            pk = f"ACCT#{multi.services[region].accounts[address]}"
            counts = Counter({k: v for k, v in held.get(pk, Counter()).items() if f"-{run}-" in k})
            wanted = {mid for mid, recipient in tally.accepted.items() if recipient == address}
            duplicates = sum(1 for c in counts.values() if c > 1)
            missing = len(wanted - set(counts))
            total = api_totals(multi.services[region], address)
            say(f"{region:<16}{address:<18}{len(counts):>8}{total:>11}{duplicates:>12}{missing:>9}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000, help="messages to send (default 2000)")
    parser.add_argument("--delay", type=float, default=0.3, help="replication delay, seconds (0.3)")
    parser.add_argument("--senders", type=int, default=4, help="sending threads (4)")
    parser.add_argument("--cycles", type=int, default=3, help="at least this many cut-and-heal cycles (3)")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share also sent to a second region")
    return parser.parse_args()


def run_chaos(multi: LocalMultiRegion, args: argparse.Namespace, run: str) -> tuple[Tally, Chaos]:
    """Send everything from the sender threads while the chaos thread cuts and heals."""
    tally, state = Tally(), Chaos()
    work: Queue = Queue()
    for n in range(args.messages):
        work.put(n)
    sending = threading.Event()
    sending.set()
    senders = [
        threading.Thread(target=sender, args=(multi, args, run, work, tally)) for _ in range(args.senders)
    ]
    chaos_thread = threading.Thread(target=chaos, args=(multi, args, sending, state))
    chaos_thread.start()
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    tally.send_seconds = time.time() - tally.started
    sending.clear()
    chaos_thread.join()
    return tally, state


def main() -> None:
    args = parse_args()
    started = time.time()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        multi = LocalMultiRegion(REGIONS, delay=args.delay).start()
        try:
            multi.wait_until_converged(120)
            say(f"{len(REGIONS)} regions up in {time.time() - started:.1f} s; delay {args.delay} s")
            exercise(multi, args, run=f"{int(started)}")
            say(f"total run time                 {time.time() - started:.1f} s")
        finally:
            multi.stop()


def exercise(multi: LocalMultiRegion, args: argparse.Namespace, run: str) -> None:
    tally, state = run_chaos(multi, args, run)
    converge_wait = multi.wait_until_converged(1800)
    after_heal = time.time() - state.last_heal
    summarise(multi, args, tally, state, run)
    say(
        f"converged after the last heal  {after_heal:.1f} s "
        f"(waited {converge_wait:.1f} s once the chaos thread ended)"
    )
    lags = multi.replicator.lags
    say(
        f"replication lag                median {statistics.median(lags):.2f} s, "
        f"p99 {percentile(lags, 0.99):.2f} s, max {max(lags):.2f} s "
        f"over {len(lags)} applied changes (time cut off included)"
    )


def summarise(
    multi: LocalMultiRegion, args: argparse.Namespace, tally: Tally, state: Chaos, run: str
) -> None:
    rate = args.messages / tally.send_seconds
    say(
        f"\nmessages sent                  {args.messages} in {tally.send_seconds:.1f} s "
        f"({rate:.1f} a second from {args.senders} threads)"
    )
    say(f"messages accepted (250)        {len(tally.accepted)} distinct, {tally.replies_250} replies")
    say(f"sent to a second region        {tally.sent_twice} (the same Message-ID, accepted twice)")
    say(
        f"refused, retried elsewhere     {tally.refused} connection failures, {tally.deferred} deferred (4xx)"
    )
    say(f"rejected (5xx), given up       {tally.rejected}, {tally.given_up}")
    say(f"cut-and-heal cycles            {state.summary()}")
    report_regions(multi, tally, run)
    say("")


if __name__ == "__main__":
    main()
