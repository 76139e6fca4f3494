import json

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match

from cdk.app import build_app
from cdk.receiving import RECEIVING_REGIONS, RULE_SET_NAME, UnsupportedReceivingRegionError

from .synthesis import HOSTED_DOMAINS, OPTIONS_DOMAINS, OPTIONS_REGIONS, SynthesizedApp, app_context

NON_RECEIVING_REGION = "sa-east-1"


def _activation_calls(template) -> dict:
    resources = [
        resource["Properties"]
        for resource in template.find_resources("Custom::AWS").values()
        if "setActiveReceiptRuleSet" in resource["Properties"]["Create"]
    ]
    assert len(resources) == 1
    return {phase: json.loads(resources[0][phase]) for phase in ("Create", "Update", "Delete")}


def test_rule_stores_the_message_then_invokes_the_inbound_function(each_region):
    each_region.has_resource_properties(
        "AWS::SES::ReceiptRule",
        {
            "Rule": Match.object_like(
                {
                    "Actions": [
                        {"S3Action": Match.object_like({"ObjectKeyPrefix": "inbound/"})},
                        {"LambdaAction": Match.object_like({"InvocationType": "Event"})},
                    ],
                    "Recipients": HOSTED_DOMAINS,
                    "ScanEnabled": True,
                    "TlsPolicy": "Require",
                    "Enabled": True,
                }
            )
        },
    )


def test_ses_may_invoke_the_inbound_function_for_this_account_only(each_region):
    each_region.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "Principal": "ses.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
        },
    )


def test_rule_set_is_activated_and_deactivated_on_delete(each_region):
    each_region.has_resource_properties("AWS::SES::ReceiptRuleSet", {"RuleSetName": RULE_SET_NAME})
    calls = _activation_calls(each_region)

    for phase in ("Create", "Update"):
        assert calls[phase]["service"] == "SES"
        assert calls[phase]["action"] == "setActiveReceiptRuleSet"
        assert calls[phase]["parameters"] == {"RuleSetName": RULE_SET_NAME}
    assert calls["Delete"]["action"] == "setActiveReceiptRuleSet"
    assert "RuleSetName" not in calls["Delete"].get("parameters", {})


def test_every_region_of_a_three_region_app_receives_for_every_domain(each_options_region):
    region, template = each_options_region

    template.has_resource_properties(
        "AWS::SES::ReceiptRule", {"Rule": Match.object_like({"Recipients": OPTIONS_DOMAINS})}
    )
    assert _activation_calls(template)["Create"]["parameters"] == {"RuleSetName": RULE_SET_NAME}
    assert region in RECEIVING_REGIONS


def test_every_stack_reports_one_mx_set_naming_every_receiving_region(synthesized: SynthesizedApp):
    expected = "\n".join(
        f"example.com MX 10 inbound-smtp.{region}.amazonaws.com" for region in synthesized.stacks
    )

    for template in synthesized.templates.values():
        assert template.to_json()["Outputs"]["DnsMxExampleCom"]["Value"] == expected


def test_three_region_mx_set_names_all_three(with_options: SynthesizedApp):
    for template in with_options.templates.values():
        lines = template.to_json()["Outputs"]["DnsMxListsExampleCom"]["Value"].split("\n")

        assert lines == [f"lists.example.com MX 10 inbound-smtp.{r}.amazonaws.com" for r in OPTIONS_REGIONS]


def test_synthesis_refuses_a_region_where_ses_does_not_receive():
    assert NON_RECEIVING_REGION not in RECEIVING_REGIONS
    app = App(context=app_context(regions=[NON_RECEIVING_REGION]))

    with pytest.raises(UnsupportedReceivingRegionError, match=NON_RECEIVING_REGION):
        build_app(app)
