"""DNS records for each hosted domain: reported as stack outputs, and published in Route 53
when the context names a hosted zone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_route53 as route53
from constructs import Construct

from cdk.config import HostedZone, InfrastructureConfigError

RECORD_TTL = Duration.minutes(5)


@dataclass(frozen=True)
class DnsRecord:
    """One record set; ``name`` and ``values`` may be tokens resolved at deploy time."""

    name: str
    type: str
    values: tuple[str, ...]

    def zone_lines(self) -> str:
        """The record set as zone-file lines without TTL, e.g. ``example.com MX 10 host``."""
        return "\n".join(f"{self.name} {self.type} {value}" for value in self.values)


def record(name: str, type_: str, *values: str) -> DnsRecord:
    return DnsRecord(name, type_, values)


class PublishedRecords(Construct):
    """Publishes record sets in the configured hosted zone, each exactly as the outputs show it.

    Every record set has one owner: records that differ per region (DKIM, MAIL FROM) belong to
    their region's stack; records shared by all regions (the MX set) to the home stack alone.
    """

    def __init__(self, scope: Construct, construct_id: str, *, zone: HostedZone) -> None:
        super().__init__(scope, construct_id)
        self._zone_id = zone.zone_id

    def publish(self, record_id: str, dns_record: DnsRecord) -> route53.CfnRecordSet:
        # The L1 resource takes the name as given: the L2 records would append the zone's name
        # to a DKIM token name, which is already fully qualified but unknown until deploy time.
        return route53.CfnRecordSet(
            self,
            record_id,
            hosted_zone_id=self._zone_id,
            name=dns_record.name,
            type=dns_record.type,
            ttl=str(int(RECORD_TTL.to_seconds())),
            resource_records=list(dns_record.values),
        )


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
