"""Settings the app reads from the CDK context (``cdk.json`` or ``-c key=value``).

Every optional setting is off by default, and every limit has a stated default; docs/OPERATIONS.md
says when to change each. A combination AWS would refuse at deploy time is refused here, at synth
time, with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from constructs import Node

EVENTUAL = "eventual"
STRONG = "strong"

# Multi-Region strong consistency works only among the regions of one of these sets (DynamoDB
# developer guide, "Multi-Region strong consistency"; CDK checks the same list).
MRSC_REGION_SETS = {
    "US": ("us-east-1", "us-east-2", "us-west-2"),
    "EU": ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"),
    "AP": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3"),
}

# S3 bucket names: 3 to 63 lowercase letters, digits and hyphens. The prefix leaves room for
# "-<region>" (the longest region names have 14 characters).
BUCKET_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{1,46}[a-z0-9]$")
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[\w-]+$")
# Labels of letters, digits and inner hyphens; the last a name, or punycode: never a number.
DOMAIN_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)


class InfrastructureConfigError(ValueError):
    """The app's configuration cannot produce a deployable service."""


class TableConsistencyError(InfrastructureConfigError):
    """A ``tableConsistency`` / ``witnessRegion`` combination DynamoDB does not allow."""


@dataclass(frozen=True)
class HostedZone:
    """The Route 53 zone the stacks publish records in; every hosted domain lies inside it."""

    zone_id: str
    zone_name: str

    def contains(self, name: str) -> bool:
        name = name.lower().rstrip(".")
        return name == self.zone_name or name.endswith(f".{self.zone_name}")


@dataclass(frozen=True)
class ApiDomain:
    """One name for the API in every region, each region's endpoint behind its own certificate."""

    name: str
    certificate_arns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiThrottle:
    """The API stage's limits for its default route: requests per second, and the burst above it."""

    rate_limit: float = 2000
    burst_limit: int = 5000


@dataclass(frozen=True)
class MailConfig:
    regions: tuple[str, ...]
    hosted_domains: tuple[str, ...]
    table_consistency: str = EVENTUAL
    witness_region: str | None = None
    bucket_prefix: str | None = None
    replication_time_control: bool = False
    hosted_zone: HostedZone | None = None
    api_domain: ApiDomain | None = None
    api_throttle: ApiThrottle = ApiThrottle()

    @property
    def home_region(self) -> str:
        """The region whose stack owns the global tables; the first one listed."""
        return self.regions[0]

    @property
    def replica_regions(self) -> tuple[str, ...]:
        return self.regions[1:]

    @property
    def strong_consistency(self) -> bool:
        return self.table_consistency == STRONG

    @classmethod
    def from_node(cls, node: Node) -> MailConfig:
        return cls.parse(
            regions=node.try_get_context("regions"),
            hosted_domains=node.try_get_context("hostedDomains"),
            table_consistency=node.try_get_context("tableConsistency"),
            witness_region=node.try_get_context("witnessRegion"),
            bucket_prefix=node.try_get_context("bucketPrefix"),
            replication_time_control=node.try_get_context("replicationTimeControl"),
            hosted_zone_id=node.try_get_context("hostedZoneId"),
            hosted_zone_name=node.try_get_context("hostedZoneName"),
            api_domain_name=node.try_get_context("apiDomainName"),
            api_certificate_arns=node.try_get_context("apiCertificateArns"),
            api_throttle=node.try_get_context("apiThrottle"),
        )

    @classmethod
    def parse(
        cls,
        *,
        regions: Any,
        hosted_domains: Any,
        table_consistency: Any = None,
        witness_region: Any = None,
        bucket_prefix: Any = None,
        replication_time_control: Any = None,
        hosted_zone_id: Any = None,
        hosted_zone_name: Any = None,
        api_domain_name: Any = None,
        api_certificate_arns: Any = None,
        api_throttle: Any = None,
    ) -> MailConfig:
        region_list = _string_list("regions", regions)
        if len(set(region_list)) != len(region_list):
            raise InfrastructureConfigError(f"context 'regions' lists a region twice: {region_list}")
        domains = _domains(_string_list("hostedDomains", hosted_domains))
        consistency = _consistency(table_consistency)
        witness = _optional_string(witness_region)
        _check_consistency(consistency, tuple(region_list), witness)
        zone = _hosted_zone(hosted_zone_id, hosted_zone_name, domains)

        return cls(
            regions=tuple(region_list),
            hosted_domains=domains,
            table_consistency=consistency,
            witness_region=witness,
            bucket_prefix=_bucket_prefix(bucket_prefix),
            replication_time_control=_flag("replicationTimeControl", replication_time_control),
            hosted_zone=zone,
            api_domain=_api_domain(api_domain_name, api_certificate_arns, tuple(region_list), zone),
            api_throttle=_api_throttle(api_throttle),
        )


def _domains(names: list[str]) -> tuple[str, ...]:
    """Hosted domains as SES and DNS take them: lower case, ASCII (punycode), once each."""
    domains = tuple(dict.fromkeys(name.strip().lower().rstrip(".") for name in names))
    for domain in domains:
        if not DOMAIN_NAME.match(domain):
            raise InfrastructureConfigError(
                f"context 'hostedDomains' lists {domain!r}, which is not a domain name "
                "(letters, digits and hyphens in labels of at most 63; write other scripts in punycode)"
            )
    return domains


def _consistency(value: Any) -> str:
    consistency = (_optional_string(value) or EVENTUAL).lower()
    if consistency not in {EVENTUAL, STRONG}:
        raise TableConsistencyError(
            f"context 'tableConsistency' must be '{EVENTUAL}' or '{STRONG}', not {value!r}"
        )
    return consistency


def _check_consistency(consistency: str, regions: tuple[str, ...], witness: str | None) -> None:
    """Refuses what DynamoDB refuses: MRSC needs 3 replicas, or 2 and a witness, in one region set."""
    if consistency == EVENTUAL:
        if witness:
            raise TableConsistencyError(
                "context 'witnessRegion' only applies to tableConsistency 'strong'; "
                "an eventually consistent global table has no witness"
            )
        return

    if witness in regions:
        raise TableConsistencyError(
            f"witnessRegion {witness} is also in 'regions'; a witness holds no replica, pick another region"
        )
    members = (*regions, witness) if witness else regions
    if len(regions) != (2 if witness else 3):
        raise TableConsistencyError(
            "tableConsistency 'strong' (multi-Region strong consistency) needs exactly 3 regions, "
            f"or 2 regions and a witnessRegion; got regions {list(regions)} and "
            + (f"witness {witness}" if witness else "no witness")
        )
    if not any(set(members) <= set(region_set) for region_set in MRSC_REGION_SETS.values()):
        sets = "; ".join(f"{name}: {', '.join(region_set)}" for name, region_set in MRSC_REGION_SETS.items())
        raise TableConsistencyError(
            f"tableConsistency 'strong' needs every region and the witness in one region set ({sets}); "
            f"got {list(members)}"
        )


def _bucket_prefix(value: Any) -> str | None:
    prefix = _optional_string(value)
    if prefix is not None and not BUCKET_PREFIX.match(prefix):
        raise InfrastructureConfigError(
            f"context 'bucketPrefix' {prefix!r} must be 3 to 48 lowercase letters, digits or hyphens, "
            "starting and ending with a letter or digit (the region is appended to it)"
        )
    return prefix


def _hosted_zone(zone_id: Any, zone_name: Any, domains: tuple[str, ...]) -> HostedZone | None:
    zone_id, zone_name = _optional_string(zone_id), _optional_string(zone_name)
    if zone_id is None and zone_name is None:
        return None
    if zone_id is None or zone_name is None:
        raise InfrastructureConfigError("context 'hostedZoneId' and 'hostedZoneName' go together; give both")

    zone = HostedZone(zone_id, zone_name.lower().rstrip("."))
    outside = [domain for domain in domains if not zone.contains(domain)]
    if outside:
        raise InfrastructureConfigError(
            f"hosted domains {outside} are not in the hosted zone {zone.zone_name}; "
            "the stacks publish mail records in that one zone"
        )
    return zone


def _api_domain(
    name: Any, certificate_arns: Any, regions: tuple[str, ...], zone: HostedZone | None
) -> ApiDomain | None:
    domain_name = _optional_string(name)
    if domain_name is None:
        return None
    domain_name = domain_name.lower().rstrip(".")
    if not DOMAIN_NAME.match(domain_name):
        raise InfrastructureConfigError(f"context 'apiDomainName' {domain_name!r} is not a domain name")
    if zone is None or not zone.contains(domain_name):
        raise InfrastructureConfigError(
            f"context 'apiDomainName' {domain_name} needs 'hostedZoneId' and 'hostedZoneName' of a zone "
            "that contains it: the latency records and health checks are published there"
        )
    return ApiDomain(domain_name, _certificate_arns(certificate_arns, regions))


def _certificate_arns(value: Any, regions: tuple[str, ...]) -> dict[str, str]:
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, Mapping):
        raise InfrastructureConfigError(
            "context 'apiCertificateArns' must map each region to an ACM certificate ARN in that region"
        )
    arns = {str(region): str(arn) for region, arn in value.items()}
    missing = [region for region in regions if region not in arns]
    if missing:
        raise InfrastructureConfigError(f"context 'apiCertificateArns' has no certificate for {missing}")
    for region in regions:
        match = CERTIFICATE_ARN.match(arns[region])
        if match is None or match["region"] != region:
            raise InfrastructureConfigError(
                f"apiCertificateArns[{region}] must be an ACM certificate ARN in {region} "
                f"(API Gateway uses a certificate of its own region); got {arns[region]!r}"
            )
    return {region: arns[region] for region in regions}


def _api_throttle(value: Any) -> ApiThrottle:
    """``{"rateLimit": ..., "burstLimit": ...}`` from the context; a key left out keeps its default."""
    if value is None:
        return ApiThrottle()
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, Mapping):
        raise InfrastructureConfigError(
            'context \'apiThrottle\' must be an object such as {"rateLimit": 2000, "burstLimit": 5000}'
        )
    unknown = sorted(set(value) - {"rateLimit", "burstLimit"})
    if unknown:
        raise InfrastructureConfigError(
            f"context 'apiThrottle' takes rateLimit and burstLimit only, not {unknown}"
        )

    default = ApiThrottle()
    return ApiThrottle(
        rate_limit=_limit("rateLimit", value.get("rateLimit", default.rate_limit), whole=False),
        burst_limit=int(_limit("burstLimit", value.get("burstLimit", default.burst_limit), whole=True)),
    )


def _limit(key: str, value: Any, *, whole: bool) -> float:
    # API Gateway takes the rate as a double and the burst as an integer.
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        kind = "a whole number" if whole else "a number"
        raise InfrastructureConfigError(f"context 'apiThrottle.{key}' must be {kind} above 0, not {value!r}")
    return value


def _flag(key: str, value: Any) -> bool:
    # `-c key=true` arrives as a string; cdk.json gives a boolean.
    if value is None or isinstance(value, bool):
        return bool(value)
    if str(value).lower() in {"true", "false"}:
        return str(value).lower() == "true"
    raise InfrastructureConfigError(f"context '{key}' must be true or false, not {value!r}")


def _optional_string(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


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
