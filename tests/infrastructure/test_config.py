import json
import re

import pytest
from aws_cdk import App

from cdk.app import build_app, cdk_json_context
from cdk.config import ApiThrottle, InfrastructureConfigError, MailConfig, TableConsistencyError
from cdk.receiving import RECEIVING_REGIONS

from .synthesis import app_context


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        (["us-east-1", "eu-west-1"], ("us-east-1", "eu-west-1")),
        ('["us-west-2"]', ("us-west-2",)),
        ("us-east-1, eu-west-1", ("us-east-1", "eu-west-1")),
    ],
)
def test_regions_come_as_a_list_or_a_cli_string(regions, expected):
    assert MailConfig.parse(regions=regions, hosted_domains=["example.com"]).regions == expected


@pytest.mark.parametrize("regions", [None, [], ["us-east-1", "us-east-1"], ["us-east-1", ""]])
def test_bad_region_lists_are_refused(regions):
    with pytest.raises(InfrastructureConfigError):
        MailConfig.parse(regions=regions, hosted_domains=["example.com"])


@pytest.mark.parametrize(
    "domain",
    [
        "bad..dom",
        "x y",
        "1.2.3.4",
        "[1.2.3.4]",
        "no_under.com",
        "b\u00fccher.example",
        "a" * 64 + ".com",
        "demo.test/x",
        "-lead.com",
        "localhost",
    ],
)
def test_hosted_domains_that_are_not_domain_names_are_refused(domain):
    with pytest.raises(
        InfrastructureConfigError, match=f"context 'hostedDomains' lists {re.escape(repr(domain))}"
    ):
        MailConfig.parse(regions=["us-east-1"], hosted_domains=[domain])


def test_hosted_domains_are_kept_lower_case_and_once():
    config = MailConfig.parse(
        regions=["us-east-1"], hosted_domains=["Example.COM.", "example.com", "xn--bcher-kva.example"]
    )

    assert config.hosted_domains == ("example.com", "xn--bcher-kva.example")


def test_home_region_is_the_first_listed():
    config = MailConfig.parse(regions=["eu-west-1", "us-east-1"], hosted_domains=["example.com"])

    assert config.home_region == "eu-west-1"
    assert config.replica_regions == ("us-east-1",)


def test_configured_regions_all_receive_mail():
    config = MailConfig.from_node(App(context=cdk_json_context()).node)

    assert set(config.regions) <= RECEIVING_REGIONS
    assert 2 <= len(config.regions) <= 3
    assert config.table_consistency == "eventual"


def _parse(regions, **settings):
    return MailConfig.parse(regions=regions, hosted_domains=["example.com"], **settings)


def test_table_consistency_is_eventual_unless_asked():
    config = _parse(["us-east-1", "eu-west-1"])

    assert config.table_consistency == "eventual"
    assert not config.strong_consistency
    assert config.witness_region is None


@pytest.mark.parametrize(
    ("regions", "witness"),
    [
        (["us-east-1", "us-east-2", "us-west-2"], None),
        (["eu-west-1", "eu-west-2", "eu-central-1"], None),
        (["us-east-1", "us-west-2"], "us-east-2"),
        (["eu-west-1", "eu-central-1"], "eu-west-3"),
    ],
)
def test_strong_consistency_with_three_regions_or_two_and_a_witness_in_one_set(regions, witness):
    config = _parse(regions, table_consistency="strong", witness_region=witness)

    assert config.strong_consistency
    assert config.witness_region == witness


@pytest.mark.parametrize(
    ("regions", "witness", "reason"),
    [
        (["us-east-1", "us-west-2"], None, "exactly 3 regions, or 2 regions and a witnessRegion"),
        (["us-east-1"], None, "exactly 3 regions"),
        (["us-east-1", "us-east-2", "us-west-2", "ca-central-1"], None, "exactly 3 regions"),
        (["us-east-1", "us-east-2", "us-west-2"], "eu-west-3", "2 regions and a witnessRegion"),
        (["us-east-1", "eu-west-1", "us-west-2"], None, "one region set"),
        (["us-east-1", "us-west-2"], "eu-west-3", "one region set"),
        (["us-east-1", "us-west-2"], "us-west-2", "also in 'regions'"),
    ],
)
def test_strong_consistency_refuses_what_dynamodb_refuses(regions, witness, reason):
    with pytest.raises(TableConsistencyError, match=re.escape(reason)):
        _parse(regions, table_consistency="strong", witness_region=witness)


def test_a_witness_needs_strong_consistency():
    with pytest.raises(TableConsistencyError, match="only applies to tableConsistency 'strong'"):
        _parse(["us-east-1", "us-west-2"], witness_region="us-east-2")


def test_unknown_consistency_is_refused():
    with pytest.raises(TableConsistencyError, match="'eventual' or 'strong'"):
        _parse(["us-east-1"], table_consistency="linearizable")


def test_synthesis_refuses_strong_consistency_before_building_any_stack():
    app = App(context=app_context(regions=["us-east-1", "eu-west-1"], tableConsistency="strong"))

    with pytest.raises(TableConsistencyError, match="exactly 3 regions"):
        build_app(app)
    assert app.node.children == []


@pytest.mark.parametrize("prefix", ["Mail", "-mail", "mail_raw", "ab", "x" * 49])
def test_bucket_prefix_must_make_a_valid_bucket_name(prefix):
    with pytest.raises(InfrastructureConfigError, match="bucketPrefix"):
        _parse(["us-east-1"], bucket_prefix=prefix)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), (True, True), ("true", True), ("false", False)]
)
def test_replication_time_control_is_a_flag(value, expected):
    assert _parse(["us-east-1"], replication_time_control=value).replication_time_control is expected


def test_hosted_zone_needs_id_and_name_and_must_contain_every_domain():
    with pytest.raises(InfrastructureConfigError, match="go together"):
        _parse(["us-east-1"], hosted_zone_id="Z1")
    with pytest.raises(InfrastructureConfigError, match=r"\['example.com'\] are not in the hosted zone"):
        _parse(["us-east-1"], hosted_zone_id="Z1", hosted_zone_name="example.org")

    zone = _parse(["us-east-1"], hosted_zone_id="Z1", hosted_zone_name="Example.com.").hosted_zone
    assert (zone.zone_id, zone.zone_name) == ("Z1", "example.com")


def test_api_domain_needs_a_zone_and_a_certificate_of_each_region():
    zone = {"hosted_zone_id": "Z1", "hosted_zone_name": "example.com"}
    arn = "arn:aws:acm:{}:123456789012:certificate/abc-123"
    regions = ["us-east-1", "eu-west-1"]

    with pytest.raises(InfrastructureConfigError, match="needs 'hostedZoneId'"):
        _parse(regions, api_domain_name="api.example.com")
    with pytest.raises(InfrastructureConfigError, match=r"no certificate for \['eu-west-1'\]"):
        _parse(regions, api_domain_name="api.example.com", api_certificate_arns={"us-east-1": arn}, **zone)
    with pytest.raises(InfrastructureConfigError, match="in eu-west-1"):
        wrong = {"us-east-1": arn.format("us-east-1"), "eu-west-1": arn.format("us-east-1")}
        _parse(regions, api_domain_name="api.example.com", api_certificate_arns=wrong, **zone)

    arns = {region: arn.format(region) for region in regions}
    domain = _parse(regions, api_domain_name="api.example.com", api_certificate_arns=json.dumps(arns), **zone)
    assert domain.api_domain.name == "api.example.com"
    assert domain.api_domain.certificate_arns == arns


def _throttle(value) -> ApiThrottle:
    return MailConfig.parse(
        regions=["us-east-1"], hosted_domains=["example.com"], api_throttle=value
    ).api_throttle


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ApiThrottle(rate_limit=2000, burst_limit=5000)),
        ({"rateLimit": 500}, ApiThrottle(rate_limit=500, burst_limit=5000)),
        ({"burstLimit": 800}, ApiThrottle(rate_limit=2000, burst_limit=800)),
        ({"rateLimit": 12.5, "burstLimit": 25}, ApiThrottle(rate_limit=12.5, burst_limit=25)),
        ('{"rateLimit": 300, "burstLimit": 600}', ApiThrottle(rate_limit=300, burst_limit=600)),
    ],
)
def test_api_throttle_defaults_to_2000_per_second_and_bursts_of_5000(value, expected):
    assert _throttle(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"rateLimit": 0}, "apiThrottle.rateLimit' must be a number above 0"),
        ({"rateLimit": "fast"}, "apiThrottle.rateLimit' must be a number above 0"),
        ({"burstLimit": -1}, "apiThrottle.burstLimit' must be a whole number above 0"),
        ({"burstLimit": 10.5}, "apiThrottle.burstLimit' must be a whole number above 0"),
        ({"burstLimit": True}, "apiThrottle.burstLimit' must be a whole number above 0"),
        ({"rate": 100}, "takes rateLimit and burstLimit only, not ['rate']"),
        ([2000, 5000], "must be an object"),
    ],
)
def test_bad_api_throttles_are_refused(value, reason):
    with pytest.raises(InfrastructureConfigError, match=re.escape(reason)):
        _throttle(value)
