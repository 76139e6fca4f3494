"""boto3 clients, made on first use so that tests and local mode can take over AWS."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from mailcore.settings import get_settings


@cache
def client(service: str, region: str | None = None) -> Any:
    """A client for the region; MAIL_AWS_ENDPOINT_URL, set only in local mode, points at moto."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        service,
        region_name=region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        endpoint_url=os.environ.get("MAIL_AWS_ENDPOINT_URL") or None,
        config=Config(retries={"mode": "standard", "max_attempts": 4}),
    )


def reset() -> None:
    """Forget clients and settings; tests and local mode call this after changing the env."""
    client.cache_clear()
    get_settings.cache_clear()
