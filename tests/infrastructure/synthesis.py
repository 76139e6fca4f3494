"""What the infrastructure tests share: the app's test context and the synthesized result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from cdk.app import cdk_json_context
from cdk.stack import MailStack

HOME_REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"
HOSTED_DOMAINS = ["example.com", "example.org"]


def app_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context, without bundling: CDK stages no bundled asset for stacks not listed
    in ``aws:cdk:bundling-stacks``, so pip never runs and tests need no network."""
    return {**cdk_json_context(), "aws:cdk:bundling-stacks": [], **overrides}


@dataclass(frozen=True)
class SynthesizedApp:
    stacks: dict[str, MailStack]
    templates: dict[str, Template]
    assembly_dir: Path
    bundling_attempts: list[str]
