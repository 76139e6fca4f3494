"""boto3 clients, made on first use so that tests and local mode can take over AWS."""

from __future__ import annotations

from functools import cache
from typing import Any

from mailcore.settings import get_settings


@cache
def client(service: str, region: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    return boto3.session.Session().client(
        service,
        region_name=region or settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 4}),
    )


def reset() -> None:
    """Forget clients and settings; tests and local mode call this after changing the env."""
    client.cache_clear()
    get_settings.cache_clear()
