"""Local mode as one object: moto, the SMTP listener and the HTTP API, started together."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from moto import mock_aws

from local import resources, ses, smtp
from local.http_api import LocalHttpApi
from local.outbound import QueuePoller, SimulatedSes
from local.region import INVOKE_LOCK, RegionScope
from mailcore import aws, bounces, delivery
from mailcore.repository import Bucket, Table
from mailcore.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class LocalService:
    def __init__(
        self,
        region: str = "us-east-1",
        host: str = "127.0.0.1",
        smtp_port: int = 0,
        http_port: int = 0,
        moto_port: int | None = None,
        seed: bool | str = True,
        own_moto: bool = True,
        bounce: set[str] | None = None,
        complain: set[str] | None = None,
        transient_failure_rate: float = 0.0,
        retry_delays: str = "1,2,4,8,16",
    ) -> None:
        self.region = region
        self.host = host
        self.smtp_port = smtp_port or free_port(host)
        self.http_port = http_port
        self.moto_port = moto_port
        self.seed = seed
        self.own_moto = own_moto
        self.trusted_pools: list[resources.Resources] = []
        self.accounts: dict[str, str] = {}
        self.bounce = bounce
        self.complain = complain
        self.transient_failure_rate = transient_failure_rate
        self.retry_delays = retry_delays
        self._mock = mock_aws()
        self._stoppers: list[Any] = []

    def start(self) -> LocalService:
        self.create()
        return self.serve()

    def create(self) -> LocalService:
        """The region's AWS resources in moto and its demo data; `serve` then opens its doors."""
        if self.own_moto:
            self._mock.start()
        os.environ["RETRY_DELAYS"] = self.retry_delays
        os.environ["DELIVERY_ATTEMPTS"] = str(resources.DELIVERY_ATTEMPTS)
        with INVOKE_LOCK:
            self.resources = resources.create(self.region)
            if self.seed == "users":
                self.accounts = resources.seed_demo_users(self.resources)
            elif self.seed:
                self.accounts = resources.seed_demo(self.resources)
        self.settings = _settings(self.resources, self.retry_delays)
        self.bounces = ses.RecordedBounces()
        bounces.use_bouncer(self.bounces)
        self.scope = RegionScope(self.settings)
        self.table = Table(self.resources.table_name, self.region)
        self.bucket = Bucket(self.resources.bucket_name, self.region)
        return self

    def serve(self) -> LocalService:
        self._start_sending()
        self.open_doors()
        if self.moto_port is not None:
            self._start_moto_server()
        return self

    def stop(self) -> None:
        self.close_doors()
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()
        if self.own_moto:
            self._mock.stop()

    def open_doors(self) -> None:
        """Start answering SMTP and HTTP on the region's ports."""
        self._doors = [self._start_smtp(), self._start_http()]

    def close_doors(self) -> None:
        """Stop answering on the region's ports, as a region cut off from the internet."""
        for close in getattr(self, "_doors", []):
            close()
        self._doors = []

    def token(self, address: str, password: str = resources.DEMO_PASSWORD) -> str:
        with self.scope:
            return resources.sign_in(self.resources, address, password)

    def endpoints(self) -> dict[str, Any]:
        return {
            "smtp": f"{self.host}:{self.smtp_port}",
            "http": f"http://{self.host}:{self.http_port}",
            "aws_endpoint_url": f"http://{self.host}:{self.moto_port}" if self.moto_port else None,
            **self.resources.as_dict(),
        }

    def write_endpoints(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.endpoints(), indent=2) + "\n")

    def _start_smtp(self) -> Any:
        controller = smtp.start(self.table, self.bucket, self.host, self.smtp_port, self.scope)
        return controller.stop

    def _start_http(self) -> Any:
        from functions.api import handler as api_function

        def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with self.scope:
                return api_function.handler(event, context)

        server = LocalHttpApi(
            (self.host, self.http_port),
            invoke,
            [self.resources, *self.trusted_pools],
            self.token,
            lambda: self.ses.outbox,
        )
        server.start()
        self.http_port = server.port
        return server.stop

    def _start_sending(self) -> None:
        from functions.delivery import handler as delivery_function
        from functions.feedback import handler as feedback_function

        self.ses = SimulatedSes(
            delivery.SesSender(),
            self.resources.feedback_topic_arn,
            self.region,
            bounce=self.bounce,
            complain=self.complain,
            transient_failure_rate=self.transient_failure_rate,
        )
        delivery.use_sender(self.ses, self.region)
        self._stoppers.append(lambda: delivery.use_sender(None, self.region))
        self.pollers = [
            QueuePoller(
                "delivery",
                self.resources.delivery_queue_url,
                delivery_function.handler,
                self.scope,
                self.region,
            ),
            QueuePoller(
                "feedback",
                self.resources.feedback_queue_url,
                feedback_function.handler,
                self.scope,
                self.region,
            ),
        ]
        for poller in self.pollers:
            poller.start()
            self._stoppers.append(poller.stop)

    def _start_moto_server(self) -> None:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address=self.host, port=self.moto_port or 0, verbose=False)
        server.start()
        # Downloads too large for a response are signed S3 URLs: here, URLs of this server.
        os.environ["MAIL_PUBLIC_S3_ENDPOINT"] = f"http://{self.host}:{self.moto_port}"
        aws.reset()
        self._stoppers.append(server.stop)


def _settings(created: resources.Resources, retry_delays: str) -> Settings:
    return Settings(
        table_name=created.table_name,
        bucket_name=created.bucket_name,
        region=created.region,
        delivery_queue_url=created.delivery_queue_url,
        configuration_set=created.configuration_set,
        idempotency_table_name=created.idempotency_table_name,
        allow_test_domains=True,
        retry_delays=tuple(int(d) for d in retry_delays.split(",")),
        delivery_attempts=resources.DELIVERY_ATTEMPTS,
    )
