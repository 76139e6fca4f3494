import pytest

from cdk.app import cdk_json_context
from cdk.config import InfrastructureConfigError, MailConfig
from cdk.receiving import RECEIVING_REGIONS


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


def test_home_region_is_the_first_listed():
    config = MailConfig.parse(regions=["eu-west-1", "us-east-1"], hosted_domains=["example.com"])

    assert config.home_region == "eu-west-1"
    assert config.replica_regions == ("us-east-1",)


def test_configured_regions_all_receive_mail():
    context = cdk_json_context()
    config = MailConfig.parse(regions=context["regions"], hosted_domains=context["hostedDomains"])

    assert set(config.regions) <= RECEIVING_REGIONS
