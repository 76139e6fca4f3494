import json
import sys

import pytest
from aws_cdk import App
from aws_cdk import aws_s3 as s3
from cfnlint.api import ManualArgs, lint

from cdk.app import REPLICATION_STACK_NAME, build_app
from cdk.layers import PIP_PLATFORM, REQUIREMENTS_FILE, pip_install_command

from .synthesis import HOME_REGION, OPTIONS_REGIONS, SynthesizedApp, app_context

OUTPUTS = {
    "TableName",
    "IdempotencyTableName",
    "BucketName",
    "UserPoolId",
    "UserPoolClientId",
    "ApiUrl",
    "InboundFunctionName",
    "ApiFunctionName",
    "DeliveryFunctionName",
    "FeedbackFunctionName",
    "JanitorFunctionName",
    "AuthorizerFunctionName",
    "ReceiptRuleSetName",
    "ConfigurationSetName",
    "DeliveryQueueUrl",
    "DeliveryDlqUrl",
    "FeedbackQueueUrl",
    "FeedbackDlqUrl",
    "InboundFailuresQueueUrl",
    "JanitorFailuresQueueUrl",
}
ROUTING_OUTPUTS = {"ApiDomainUrl", "ApiHealthCheckId"}
DNS_OUTPUTS = {
    f"Dns{kind}{domain}"
    for kind in ("Mx", "Dkim1", "Dkim2", "Dkim3", "MailFromMx", "MailFromTxt")
    for domain in ("ExampleCom", "ExampleOrg")
}

# W3005 flags a DependsOn that a Ref/GetAtt already implies; CDK writes those on purpose
# (a function waits for its role's policy), so it is noise for generated templates.
CFN_LINT_IGNORED = ["W3005"]


def test_every_stack_exports_what_operators_and_local_tools_need(each_region):
    assert set(each_region.to_json()["Outputs"]) == OUTPUTS | DNS_OUTPUTS


def test_with_a_custom_api_domain_stacks_also_export_it_and_their_health_check(each_options_region):
    _, template = each_options_region
    dns_outputs = {output for output in template.to_json()["Outputs"] if output.startswith("Dns")}

    assert set(template.to_json()["Outputs"]) == OUTPUTS | ROUTING_OUTPUTS | dns_outputs
    assert len(dns_outputs) == 6 * 2


@pytest.mark.parametrize("app", ["synthesized", "with_options"])
def test_cdk_nag_reports_no_unacknowledged_finding(request, app):
    # Under pytest CDK raises from synth() on any failed validation, so the session fixture
    # would already have failed; the report, which lists only failing plugins, stays empty.
    synthesized: SynthesizedApp = request.getfixturevalue(app)
    report = json.loads((synthesized.assembly_dir / "validation-report.json").read_text())

    failures = [r for r in report["pluginReports"] if r.get("conclusion") != "success"]
    assert failures == []


def test_stacks_deploy_home_first_then_the_other_regions_then_replication(with_options: SynthesizedApp):
    home, *others = (with_options.stacks[region] for region in OPTIONS_REGIONS)
    replication = with_options.replication_stack

    assert replication is not None
    assert replication.stack_name == REPLICATION_STACK_NAME
    assert replication.region == home.region
    assert set(replication.dependencies) == {home, *others}
    for stack in others:
        assert stack.dependencies == [home]


def test_a_single_region_app_has_no_replication_stack():
    app = App(context=app_context(regions=[HOME_REGION]))

    stacks = build_app(app)

    assert stacks.replication is None
    assert list(stacks.regional) == [HOME_REGION]


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding():
    app = App(context=app_context(regions=[HOME_REGION]))
    stack = build_app(app).regional[HOME_REGION]
    s3.Bucket(stack, "Unlogged", enforce_ssl=True)

    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        app.synth()


@pytest.mark.parametrize("app", ["synthesized", "with_options"])
def test_cfn_lint_finds_no_problem_in_any_template(request, app):
    synthesized: SynthesizedApp = request.getfixturevalue(app)
    stacks = [*synthesized.stacks.values(), synthesized.replication_stack]

    for stack in stacks:
        template = synthesized.assembly_dir / stack.template_file
        config = ManualArgs(regions=[stack.region], ignore_checks=CFN_LINT_IGNORED)

        matches = lint(template.read_text(), config=config)

        assert [str(match) for match in matches] == [], template.name


def test_synthesis_in_tests_skips_dependency_bundling(synthesized: SynthesizedApp):
    assert synthesized.bundling_attempts == []


def test_dependency_layer_is_built_for_the_lambda_platform():
    command = pip_install_command(REQUIREMENTS_FILE, "/out")

    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[command.index("--platform") + 1] == PIP_PLATFORM == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.12"
    assert "--only-binary=:all:" in command
    assert command[-2:] == ["--target", "/out/python"]
