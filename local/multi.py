"""Several local regions in one process, replicated as global tables and S3 replication would.

`python -m local.multi` starts them (two by default) and a control port; while it runs,
`python -m local.multi cut eu-west-1` cuts a region off (its ports stop answering and
replication to and from it pauses) and `python -m local.multi heal eu-west-1` heals it.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from moto import mock_aws

from local.http_api import reply_json
from local.lambda_context import LocalContext
from local.region import INVOKE_LOCK
from local.replication import Region, Replicator
from local.service import LocalService

ENDPOINTS_FILE = Path(".local/regions.json")
CONTROL_PORT = 2600


class LocalMultiRegion:
    def __init__(
        self,
        regions: list[str],
        delay: float = 0.5,
        body_delay: float | None = None,
        host: str = "127.0.0.1",
        smtp_base: int = 0,
        http_base: int = 0,
        retry_delays: str = "1,2,4,8,16",
    ) -> None:
        self.names = regions
        self.delay = delay
        self.body_delay = body_delay
        self.host = host
        self._mock = mock_aws()
        self.services = {
            name: LocalService(
                region=name,
                host=host,
                smtp_port=smtp_base + i if smtp_base else 0,
                http_port=http_base + i if http_base else 0,
                seed=True if i == 0 else "users",
                own_moto=False,
                retry_delays=retry_delays,
            )
            for i, name in enumerate(regions)
        }

    def start(self) -> LocalMultiRegion:
        self._mock.start()
        for service in self.services.values():
            service.create()
        for service in self.services.values():
            service.trusted_pools = [s.resources for s in self.services.values() if s is not service]
        self.replicator = Replicator(
            [
                Region(s.region, s.resources.table_name, s.resources.bucket_name)
                for s in self.services.values()
            ],
            delay=self.delay,
            body_delay=self.body_delay,
            on_records=self._janitor,
        )
        self.replicator.start()
        for service in self.services.values():
            service.serve()
        return self

    def stop(self) -> None:
        self.replicator.stop()
        for service in self.services.values():
            service.stop()
        self._mock.stop()

    def cut(self, region: str) -> None:
        """Cut a region off; cutting one already cut changes nothing."""
        if region in self.replicator.cut:
            return
        self.services[region].close_doors()
        self.replicator.cut_off(region)

    def heal(self, region: str) -> None:
        """Bring a region back; healing one that is not cut changes nothing."""
        if region not in self.replicator.cut:
            return
        self.replicator.heal(region)
        self.services[region].open_doors()

    def wait_until_converged(self, timeout: float = 60.0) -> float:
        """Seconds until nothing is left to replicate and every region's table is the same."""
        started = time.time()
        while time.time() - started < timeout:
            if not self.replicator.cut and self.replicator.settled() and self.tables_equal():
                return time.time() - started
            time.sleep(0.05)
        raise TimeoutError(f"regions did not converge within {timeout} s")

    def tables_equal(self) -> bool:
        snapshots = [self.snapshot(name) for name in self.names]
        return all(snapshot == snapshots[0] for snapshot in snapshots[1:])

    def snapshot(self, region: str) -> dict[tuple[str, str], dict[str, Any]]:
        from mailcore import aws

        service = self.services[region]
        items: dict[tuple[str, str], dict[str, Any]] = {}
        with INVOKE_LOCK:
            paginator = aws.client("dynamodb", region).get_paginator("scan")
            for page in paginator.paginate(TableName=service.resources.table_name):
                for item in page.get("Items", []):
                    items[(item["pk"]["S"], item["sk"]["S"])] = item
        return items

    def endpoints(self) -> dict[str, Any]:
        return {name: s.endpoints() for name, s in self.services.items()}

    def _janitor(self, region: str, records: list[dict[str, Any]]) -> None:
        """Each region's janitor function reads its own table's stream."""
        from functions.janitor import handler as janitor_function

        event = {"Records": [{**r, "eventSource": "aws:dynamodb", "awsRegion": region} for r in records]}
        with self.services[region].scope:
            janitor_function.handler(event, LocalContext("janitor"))


class _Control(BaseHTTPRequestHandler):
    server: _ControlServer

    def do_POST(self) -> None:
        action, _, region = self.path.strip("/").partition("/")
        regions = self.server.multi.services
        if action not in {"cut", "heal"} or region not in regions:
            self._reply(404, {"error": f"use /cut/<region> or /heal/<region>; regions: {sorted(regions)}"})
            return
        getattr(self.server.multi, action)(region)
        self._reply(200, {"region": region, "state": "cut off" if action == "cut" else "healed"})

    def do_GET(self) -> None:
        multi = self.server.multi
        self._reply(200, {"cut": sorted(multi.replicator.cut), "backlog": multi.replicator.backlog()})

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        reply_json(self, status, payload)


class _ControlServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], multi: LocalMultiRegion) -> None:
        super().__init__(address, _Control)
        self.multi = multi


def _serve(args: argparse.Namespace) -> None:
    multi = LocalMultiRegion(
        args.regions.split(","), delay=args.delay, smtp_base=args.smtp_base, http_base=args.http_base
    )
    try:
        multi.start()
    except OSError as error:
        raise SystemExit(
            f"cannot listen: {error}. Is `make run` (or another local.multi) using the ports? "
            "Stop it, or choose others with --smtp-base and --http-base."
        ) from None
    control = _ControlServer(("127.0.0.1", args.control_port), multi)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    ENDPOINTS_FILE.parent.mkdir(exist_ok=True)
    ENDPOINTS_FILE.write_text(json.dumps(multi.endpoints(), indent=2) + "\n")
    print(f"\n{len(multi.services)} local regions, replication delay {args.delay} s (Ctrl-C stops):\n")
    for name, service in multi.services.items():
        print(
            f"  {name:<16} SMTP {service.host}:{service.smtp_port}"
            f"   HTTP http://{service.host}:{service.http_port}"
        )
    print(f"\nCut a region off:  .venv/bin/python -m local.multi cut {multi.names[-1]}")
    print(f"Heal it:           .venv/bin/python -m local.multi heal {multi.names[-1]}")
    print(f"Endpoints:         {ENDPOINTS_FILE}\n", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        control.shutdown()
        multi.stop()


def _command(action: str, region: str, port: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{action}/{region}", method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            print(json.load(response))
    except urllib.error.HTTPError as error:
        raise SystemExit(json.load(error).get("error", str(error))) from None
    except OSError as error:
        raise SystemExit(f"local.multi is not answering on port {port}: {error}") from None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.multi", description=__doc__)
    parser.add_argument("action", nargs="?", default="run", choices=["run", "cut", "heal"])
    parser.add_argument("region", nargs="?")
    parser.add_argument("--regions", default="us-east-1,eu-west-1")
    parser.add_argument("--delay", type=float, default=0.5, help="replication delay in seconds")
    parser.add_argument("--smtp-base", type=int, default=2525)
    parser.add_argument("--http-base", type=int, default=8080)
    parser.add_argument("--control-port", type=int, default=CONTROL_PORT)
    args = parser.parse_args()
    if args.action == "run":
        _serve(args)
    elif not args.region:
        parser.error(f"{args.action} needs a region")
    else:
        _command(args.action, args.region, args.control_port)


if __name__ == "__main__":
    main()
