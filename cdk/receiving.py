"""SES receiving: the receipt rule set that stores each message, then hands it to a function."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag
from cdk.config import InfrastructureConfigError
from cdk.storage import INBOUND_PREFIX

# Regions with an SES inbound endpoint (inbound-smtp.<region>.amazonaws.com), after the table
# "Email receiving endpoints" of the AWS General Reference page "Amazon Simple Email Service
# endpoints and quotas". AWS adds regions now and then: add one here only once it is listed.
RECEIVING_REGIONS = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-central-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-northeast-1",
    }
)

RULE_SET_NAME = "mail-inbound"
RULE_NAME = "store-then-notify"


class UnsupportedReceivingRegionError(InfrastructureConfigError):
    def __init__(self, region: str) -> None:
        super().__init__(
            f"SES does not receive mail in {region}; configure regions from "
            f"{sorted(RECEIVING_REGIONS)} (see cdk/receiving.py)"
        )


def require_receiving_region(region: str) -> None:
    if region not in RECEIVING_REGIONS:
        raise UnsupportedReceivingRegionError(region)


class MailReceiving(Construct):
    """Accepts mail for the hosted domains: raw message to S3 first, then the inbound function.

    The S3 action comes first so a message is stored before anything parses it; the function
    is invoked asynchronously (Event) so SES never waits on, or retries through, our code.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        function: lambda_.IFunction,
        recipients: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        require_receiving_region(Stack.of(self).region)

        self.rule_set = ses.ReceiptRuleSet(self, "RuleSet", receipt_rule_set_name=RULE_SET_NAME)
        self.rule = self.rule_set.add_rule(
            "Rule",
            receipt_rule_name=RULE_NAME,
            recipients=list(recipients),
            scan_enabled=True,
            tls_policy=ses.TlsPolicy.REQUIRE,
            actions=[
                ses_actions.S3(bucket=bucket, object_key_prefix=INBOUND_PREFIX),
                ses_actions.Lambda(
                    function=function,
                    invocation_type=ses_actions.LambdaInvocationType.EVENT,
                ),
            ],
        )
        self.activation = self._activate_rule_set()

    def _activate_rule_set(self) -> cr.AwsCustomResource:
        # CloudFormation has no resource for the active rule set, hence the SDK call. Deleting
        # the stack deactivates it first: SES refuses to delete an active rule set.
        activate = cr.AwsSdkCall(
            service="SES",
            action="setActiveReceiptRuleSet",
            parameters={"RuleSetName": RULE_SET_NAME},
            physical_resource_id=cr.PhysicalResourceId.of(f"active-rule-set-{RULE_SET_NAME}"),
        )
        deactivate = cr.AwsSdkCall(service="SES", action="setActiveReceiptRuleSet")

        activation = cr.AwsCustomResource(
            self,
            "ActivateRuleSet",
            on_create=activate,
            on_update=activate,
            on_delete=deactivate,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["ses:SetActiveReceiptRuleSet"], resources=["*"])]
            ),
            install_latest_aws_sdk=False,
            log_group=logs.LogGroup(self, "ActivationLogs", retention=logs.RetentionDays.ONE_MONTH),
        )
        activation.node.add_dependency(self.rule)
        self._acknowledge_activation_findings(activation)
        return activation

    def _acknowledge_activation_findings(self, activation: cr.AwsCustomResource) -> None:
        nag.acknowledge(
            activation,
            {
                "AwsSolutions-IAM5[Resource::*]": "ses:SetActiveReceiptRuleSet supports no "
                "resource-level permissions; deactivating acts on the account's region setting.",
            },
        )
        provider_id = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")
        nag.acknowledge(
            Stack.of(self).node.find_child(provider_id),
            {
                nag.BASIC_EXECUTION_ROLE: "CDK's AwsCustomResource provider function needs only "
                "to write its own logs, which is what this AWS managed policy grants.",
            },
        )
