"""Settings the app reads from the CDK context (``cdk.json`` or ``-c key=value``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from constructs import Node


class InfrastructureConfigError(ValueError):
    """The app's configuration cannot produce a deployable service."""


@dataclass(frozen=True)
class MailConfig:
    regions: tuple[str, ...]
    hosted_domains: tuple[str, ...]

    @property
    def home_region(self) -> str:
        """The region whose stack owns the global tables; the first one listed."""
        return self.regions[0]

    @property
    def replica_regions(self) -> tuple[str, ...]:
        return self.regions[1:]

    @classmethod
    def from_node(cls, node: Node) -> MailConfig:
        return cls.parse(
            regions=node.try_get_context("regions"),
            hosted_domains=node.try_get_context("hostedDomains"),
        )

    @classmethod
    def parse(cls, *, regions: Any, hosted_domains: Any) -> MailConfig:
        region_list = _string_list("regions", regions)
        if len(set(region_list)) != len(region_list):
            raise InfrastructureConfigError(f"context 'regions' lists a region twice: {region_list}")

        return cls(
            regions=tuple(region_list),
            hosted_domains=tuple(_string_list("hostedDomains", hosted_domains)),
        )


def _string_list(key: str, value: Any) -> list[str]:
    # `cdk synth -c regions='["us-east-1"]'` passes the value as a string, cdk.json as a list.
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")

    if not isinstance(value, Sequence) or not value:
        raise InfrastructureConfigError(f"context '{key}' must be a non-empty list of strings")

    items = [str(item).strip() for item in value]
    if not all(items):
        raise InfrastructureConfigError(f"context '{key}' contains an empty entry: {value}")
    return items
