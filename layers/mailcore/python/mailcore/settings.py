"""Environment settings, validated once per cold start.

On Lambda each function has one region's settings, from its environment. Local mode can
run several regions in one process; it sets `active_settings` around each call, as if the
call ran in that region's function.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=3)
    bucket_name: str = Field(min_length=3)
    inbound_prefix: str = "inbound/"
    region: str = "us-east-1"
    delivery_queue_url: str = ""
    configuration_set: str = ""
    idempotency_table_name: str = ""
    # Local mode's demo domain is under .test, which mail on the internet never uses.
    allow_test_domains: bool = False
    # A message that failed for a passing reason waits longer after each try (seconds).
    retry_delays: tuple[int, ...] = (10, 30, 90, 270, 810)
    # Tries before the delivery queue moves a job to its dead-letter queue (its maxReceiveCount).
    delivery_attempts: int = 5


active_settings: ContextVar[Settings | None] = ContextVar("settings", default=None)


def get_settings() -> Settings:
    return active_settings.get() or _from_environment()


def current_region() -> str | None:
    """The region calls are made in: the active settings' region, else the environment's."""
    active = active_settings.get()
    if active is not None:
        return active.region
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@cache
def _from_environment() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        bucket_name=os.environ.get("BUCKET_NAME", ""),
        inbound_prefix=os.environ.get("INBOUND_PREFIX", "inbound/"),
        delivery_queue_url=os.environ.get("DELIVERY_QUEUE_URL", ""),
        configuration_set=os.environ.get("CONFIGURATION_SET_NAME", ""),
        idempotency_table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME", ""),
        retry_delays=tuple(int(d) for d in os.environ.get("RETRY_DELAYS", "10,30,90,270,810").split(",")),
        delivery_attempts=int(os.environ.get("DELIVERY_ATTEMPTS", "5")),
        allow_test_domains=os.environ.get("ALLOW_TEST_DOMAINS", "") == "true",
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
