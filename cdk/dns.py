"""DNS records an operator publishes for each hosted domain, as the stacks report them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdk.config import InfrastructureConfigError


@dataclass(frozen=True)
class DnsRecord:
    """One resource record; ``name`` and ``value`` may be tokens resolved at deploy time."""

    name: str
    type: str
    value: str

    def zone_line(self) -> str:
        """The record as a zone-file line without TTL, e.g. ``example.com MX 10 host``."""
        return f"{self.name} {self.type} {self.value}"


def output_suffixes(domains: tuple[str, ...]) -> dict[str, str]:
    """Each domain as it appears in output ids, which must be alphanumeric: ``ExampleCom``.

    Two domains that differ only in punctuation would give the same ids; they are refused here
    rather than left to CDK's duplicate-id error.
    """
    suffixes = {domain: _pascal_case(domain) for domain in domains}
    if len(set(suffixes.values())) != len(suffixes):
        raise InfrastructureConfigError(
            f"hosted domains {sorted(domains)} give clashing DNS output names; rename one"
        )
    return suffixes


def _pascal_case(domain: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", domain) if part)
