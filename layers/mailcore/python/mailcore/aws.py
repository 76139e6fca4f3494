"""boto3 clients, made on first use so that tests and local mode can take over AWS."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from mailcore.settings import _from_environment, current_region


def client(service: str, region: str | None = None) -> Any:
    """A client for the region, by default the one the call runs in."""
    return _client(service, region or current_region())


@cache
def _client(service: str, region: str | None) -> Any:
    """MAIL_AWS_ENDPOINT_URL, set only in local mode's tools, points at a moto server."""
    import boto3
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session()
    session.register_component("data_loader", _loader())
    return boto3.session.Session(botocore_session=session).client(
        service,
        region_name=region,
        endpoint_url=os.environ.get("MAIL_AWS_ENDPOINT_URL") or None,
        config=Config(retries={"mode": "standard", "max_attempts": 4}),
    )


@cache
def _loader() -> Any:
    """Service models and endpoints, read from disk once rather than once per client (~0.2 s each)."""
    from botocore.loaders import create_loader

    return create_loader()


def presigning_client(region: str | None = None) -> Any:
    """S3 URLs handed to clients; local mode names its moto server, which clients can reach."""
    return _presigner(region or current_region(), os.environ.get("MAIL_PUBLIC_S3_ENDPOINT") or None)


@cache
def _presigner(region: str | None, endpoint: str | None) -> Any:
    import boto3

    return boto3.session.Session().client("s3", region_name=region, endpoint_url=endpoint)


def reset() -> None:
    """Forget clients and settings; tests and local mode call this after changing the env."""
    _client.cache_clear()
    _presigner.cache_clear()
    _from_environment.cache_clear()
