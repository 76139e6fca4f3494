"""SES receiving: the receipt rule set that stores each message, then hands it to a function."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag
from cdk.config import InfrastructureConfigError
from cdk.dns import DnsRecord, record
from cdk.queues import DEAD_LETTER_RETENTION, alarm_on_any_message, secure_queue
from cdk.sdk_calls import sdk_call_resource
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

# Lambda's own retries of an asynchronous invocation (at most 2), and how long it keeps trying
# (at most 6 hours); after that the event goes to the failed-invocations queue.
ASYNC_RETRY_ATTEMPTS = 2
ASYNC_MAX_EVENT_AGE = Duration.hours(6)


class UnsupportedReceivingRegionError(InfrastructureConfigError):
    def __init__(self, region: str) -> None:
        super().__init__(
            f"SES does not receive mail in {region}; configure regions from "
            f"{sorted(RECEIVING_REGIONS)} (see cdk/receiving.py)"
        )


def require_receiving_region(region: str) -> None:
    if region not in RECEIVING_REGIONS:
        raise UnsupportedReceivingRegionError(region)


def mx_record(domain: str, regions: Sequence[str]) -> DnsRecord:
    """Every receiving region at the same preference.

    Sending servers spread their mail over equal-preference hosts and try the next one when a
    host does not answer, so mail keeps arriving while a region is down, with no DNS change.
    """
    return record(domain, "MX", *(f"10 inbound-smtp.{region}.amazonaws.com" for region in regions))


class MailReceiving(Construct):
    """Accepts mail for the hosted domains: raw message to S3 first, then the inbound function.

    The S3 action comes first so a message is stored before anything parses it; the function
    is invoked asynchronously (Event) so SES never waits on, or retries through, our code.
    An event the function still fails after Lambda's retries lands in ``failed_invocations``
    (the SES event under ``requestPayload``, with the error), which raises an alarm: the raw
    message is in the bucket, and invoking the function again with that payload stores it.
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
        self.failed_invocations = self._catch_failed_invocations(function)
        self.failed_invocations_alarm = alarm_on_any_message(
            self,
            "FailedInvocationsAlarm",
            self.failed_invocations,
            "Inbound: the function failed a received message after every retry; the message is "
            "stored raw, but not yet in any mailbox. Replay the queued SES events.",
        )

    def _catch_failed_invocations(self, function: lambda_.IFunction) -> sqs.Queue:
        queue = secure_queue(self, "FailedInvocations", retention_period=DEAD_LETTER_RETENTION)
        function.configure_async_invoke(
            on_failure=destinations.SqsDestination(queue),
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=ASYNC_MAX_EVENT_AGE,
        )
        nag.acknowledge(
            queue,
            {
                "AwsSolutions-SQS3": "This queue is itself the dead end: the on-failure "
                "destination of the inbound function's asynchronous invocations.",
            },
        )
        return queue

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

        activation = sdk_call_resource(
            self,
            "ActivateRuleSet",
            on_create=activate,
            on_update=activate,
            on_delete=deactivate,
            statements=[iam.PolicyStatement(actions=["ses:SetActiveReceiptRuleSet"], resources=["*"])],
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
