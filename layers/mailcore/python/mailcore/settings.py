"""Environment settings, validated once per cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=3)
    bucket_name: str = Field(min_length=3)
    inbound_prefix: str = "inbound/"
    region: str = "us-east-1"
    # Set only in local mode and tests, where AWS is served by moto on this address.
    aws_endpoint_url: str | None = None


@cache
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        bucket_name=os.environ.get("BUCKET_NAME", ""),
        inbound_prefix=os.environ.get("INBOUND_PREFIX", "inbound/"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_endpoint_url=os.environ.get("MAIL_AWS_ENDPOINT_URL") or None,
    )
