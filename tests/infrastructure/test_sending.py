import pytest
from aws_cdk.assertions import Match, Template

from cdk.config import InfrastructureConfigError
from cdk.dns import output_suffixes
from cdk.sending import CONFIGURATION_SET_NAME, mail_from_domain

from .synthesis import (
    HOME_REGION,
    HOSTED_DOMAINS,
    REPLICA_REGION,
    actions_of,
    as_list,
    only,
    policy_statements,
    statements_for,
)

FEEDBACK_EVENTS = {"send", "reject", "renderingFailure", "delivery", "bounce", "complaint"}
SERVICES = ["inbound", "api", "delivery", "feedback", "janitor", "authorizer"]


def _output(template: Template, name: str):
    return template.to_json()["Outputs"][name]["Value"]


def test_configuration_set_tracks_reputation_and_publishes_feedback_to_the_topic(each_region):
    configuration_set_id, configuration_set = only(each_region.find_resources("AWS::SES::ConfigurationSet"))
    topic_id = only(each_region.find_resources("AWS::SNS::Topic"))[0]

    assert configuration_set["Properties"]["Name"] == CONFIGURATION_SET_NAME
    assert configuration_set["Properties"]["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    destination = only(each_region.find_resources("AWS::SES::ConfigurationSetEventDestination"))[1]
    properties = destination["Properties"]
    assert properties["ConfigurationSetName"] == {"Ref": configuration_set_id}
    assert properties["EventDestination"]["Enabled"] is True
    assert set(properties["EventDestination"]["MatchingEventTypes"]) == FEEDBACK_EVENTS
    assert properties["EventDestination"]["SnsDestination"] == {"TopicARN": {"Ref": topic_id}}


def test_feedback_topic_is_encrypted_with_a_key_ses_may_use(each_region):
    topic = only(each_region.find_resources("AWS::SNS::Topic"))[1]
    key_id, key = only(each_region.find_resources("AWS::KMS::Key"))

    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert {
        "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    } in key["Properties"]["KeyPolicy"]["Statement"]


def test_only_this_accounts_configuration_set_may_publish_to_the_topic_and_only_over_tls(each_region):
    statements = only(each_region.find_resources("AWS::SNS::TopicPolicy"))[1]["Properties"]["PolicyDocument"][
        "Statement"
    ]

    [allow] = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert allow["Condition"]["StringEquals"]["AWS:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert "configuration-set/" in str(allow["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert any(
        statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for statement in statements
    )


def test_feedback_queue_takes_raw_events_from_the_topic(each_region):
    topic_id = only(each_region.find_resources("AWS::SNS::Topic"))[0]
    feedback_queue_id = _output(each_region, "FeedbackQueueUrl")["Ref"]

    each_region.has_resource_properties(
        "AWS::SNS::Subscription",
        {
            "Protocol": "sqs",
            "TopicArn": {"Ref": topic_id},
            "Endpoint": {"Fn::GetAtt": [feedback_queue_id, "Arn"]},
            "RawMessageDelivery": True,
        },
    )
    each_region.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": feedback_queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}},
                            }
                        )
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize("domain", HOSTED_DOMAINS)
def test_each_hosted_domain_is_an_identity_with_2048_bit_dkim_and_the_configuration_set(
    each_named_region, domain
):
    region, template = each_named_region
    configuration_set_id = only(template.find_resources("AWS::SES::ConfigurationSet"))[0]

    template.has_resource_properties(
        "AWS::SES::EmailIdentity",
        {
            "EmailIdentity": domain,
            "DkimSigningAttributes": {"NextSigningKeyLength": "RSA_2048_BIT"},
            "ConfigurationSetAttributes": {"ConfigurationSetName": {"Ref": configuration_set_id}},
            "MailFromAttributes": {
                "MailFromDomain": mail_from_domain(domain, region),
                "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
            },
            "FeedbackAttributes": {"EmailForwardingEnabled": False},
        },
    )
    assert mail_from_domain(domain, region) == f"bounce-{region}.{domain}"


@pytest.mark.parametrize("domain", HOSTED_DOMAINS)
def test_outputs_list_every_dns_record_to_publish(each_named_region, domain):
    region, template = each_named_region
    suffix = output_suffixes(tuple(HOSTED_DOMAINS))[domain]
    identity_id = only(
        template.find_resources("AWS::SES::EmailIdentity", {"Properties": {"EmailIdentity": domain}})
    )[0]
    mail_from = mail_from_domain(domain, region)

    assert _output(template, f"DnsMx{suffix}") == "\n".join(
        f"{domain} MX 10 inbound-smtp.{receiving}.amazonaws.com"
        for receiving in (HOME_REGION, REPLICA_REGION)
    )
    for n in (1, 2, 3):
        assert _output(template, f"DnsDkim{n}{suffix}") == {
            "Fn::Join": [
                "",
                [
                    {"Fn::GetAtt": [identity_id, f"DkimDNSTokenName{n}"]},
                    " CNAME ",
                    {"Fn::GetAtt": [identity_id, f"DkimDNSTokenValue{n}"]},
                ],
            ]
        }
    assert _output(template, f"DnsMailFromMx{suffix}") == (
        f"{mail_from} MX 10 feedback-smtp.{region}.amazonses.com"
    )
    assert _output(template, f"DnsMailFromTxt{suffix}") == (
        f'{mail_from} TXT "v=spf1 include:amazonses.com ~all"'
    )


def test_dns_output_names_are_alphanumeric_and_refuse_clashing_domains():
    assert output_suffixes(("example.com", "mail-host.example.org")) == {
        "example.com": "ExampleCom",
        "mail-host.example.org": "MailHostExampleOrg",
    }
    with pytest.raises(InfrastructureConfigError, match="clashing"):
        output_suffixes(("a-b.example.com", "a.b.example.com"))


def test_delivery_sends_only_as_the_hosted_domains_through_the_configuration_set(each_region):
    identity_ids = set(each_region.find_resources("AWS::SES::EmailIdentity"))
    configuration_set_id = only(each_region.find_resources("AWS::SES::ConfigurationSet"))[0]

    [statement] = statements_for(each_region, "delivery", "ses:")
    assert sorted(as_list(statement["Action"])) == ["ses:SendEmail", "ses:SendRawEmail"]
    resources = as_list(statement["Resource"])
    named = {part["Ref"] for arn in resources for part in arn["Fn::Join"][1] if "Ref" in part}
    assert named - {"AWS::AccountId"} == identity_ids | {configuration_set_id}
    assert len(resources) == len(HOSTED_DOMAINS) + 1
    assert all(":identity/" in str(arn) or ":configuration-set/" in str(arn) for arn in resources)


def test_inbound_bounces_only_as_the_hosted_domains(each_named_region):
    region, template = each_named_region
    identities = template.find_resources("AWS::SES::EmailIdentity")

    [statement] = statements_for(template, "inbound", "ses:")
    assert statement["Action"] == "ses:SendBounce"
    assert statement["Resource"] == [
        {
            "Fn::Join": [
                "",
                [f"arn:aws:ses:{region}:", {"Ref": "AWS::AccountId"}, ":identity/", {"Ref": identity_id}],
            ]
        }
        for identity_id in identities
    ]
    assert sorted(identity["Properties"]["EmailIdentity"] for identity in identities.values()) == sorted(
        HOSTED_DOMAINS
    )


@pytest.mark.parametrize("service", SERVICES)
def test_no_function_may_use_ses_broadly(each_region, service):
    for statement in policy_statements(each_region, service):
        actions = as_list(statement["Action"])
        assert not [action for action in actions if action in {"*", "ses:*"}]
        if any(action.startswith("ses:") for action in actions):
            assert "*" not in as_list(statement["Resource"])
    if service not in {"delivery", "inbound"}:
        assert not actions_of(statements_for(each_region, service, "ses:"))
