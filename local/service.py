"""Local mode as one object: moto, the SMTP listener and the HTTP API, started together."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

from moto import mock_aws

from local import resources, smtp
from local.http_api import LocalHttpApi
from local.outbound import QueuePoller, SimulatedSes
from mailcore import delivery
from mailcore.repository import Bucket, Table

# moto's backends are not built for concurrent writers; one function runs at a time, as
# if each function had a reserved concurrency of one.
INVOKE_LOCK = threading.RLock()


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
        seed: bool = True,
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
        self.accounts: dict[str, str] = {}
        self.ses_options = {
            "bounce": bounce,
            "complain": complain,
            "transient_failure_rate": transient_failure_rate,
        }
        self.retry_delays = retry_delays
        self._mock = mock_aws()
        self._stoppers: list[Any] = []

    def start(self) -> LocalService:
        self._mock.start()
        os.environ["RETRY_DELAYS"] = self.retry_delays
        self.resources = resources.create(self.region)
        if self.seed:
            self.accounts = resources.seed_demo(self.resources)
        self.table = Table(self.resources.table_name, self.region)
        self.bucket = Bucket(self.resources.bucket_name, self.region)
        self._start_smtp()
        self._start_http()
        self._start_sending()
        if self.moto_port is not None:
            self._start_moto_server()
        return self

    def stop(self) -> None:
        for stop in reversed(self._stoppers):
            stop()
        self._stoppers.clear()
        self._mock.stop()

    def token(self, address: str, password: str = resources.DEMO_PASSWORD) -> str:
        with INVOKE_LOCK:
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

    def _start_smtp(self) -> None:
        controller = smtp.start(self.table, self.bucket, self.host, self.smtp_port, INVOKE_LOCK)
        self._stoppers.append(controller.stop)

    def _start_http(self) -> None:
        from functions.api import handler as api_function

        def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
            with INVOKE_LOCK:
                return api_function.handler(event, context)

        server = LocalHttpApi(
            (self.host, self.http_port), invoke, self.resources, self.token, lambda: self.ses.outbox
        )
        server.start()
        self.http_port = server.port
        self._stoppers.append(server.stop)

    def _start_sending(self) -> None:
        from functions.delivery import handler as delivery_function
        from functions.feedback import handler as feedback_function

        self.ses = SimulatedSes(
            delivery.SesSender(), self.resources.feedback_topic_arn, self.region, **self.ses_options
        )
        delivery.use_sender(self.ses)
        self._stoppers.append(lambda: delivery.use_sender(None))
        self.pollers = [
            QueuePoller(
                "delivery",
                self.resources.delivery_queue_url,
                delivery_function.handler,
                INVOKE_LOCK,
                self.region,
            ),
            QueuePoller(
                "feedback",
                self.resources.feedback_queue_url,
                feedback_function.handler,
                INVOKE_LOCK,
                self.region,
            ),
        ]
        for poller in self.pollers:
            poller.start()
            self._stoppers.append(poller.stop)

    def _start_moto_server(self) -> None:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        server.start()
        self._stoppers.append(server.stop)
