"""AWS SDK calls made at deploy time, for what CloudFormation has no resource for.

Every ``AwsCustomResource`` in a stack runs on one provider function that CDK adds once; this
module gives it one log group and one acknowledged cdk-nag finding, wherever the calls are made.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag

LOG_GROUP_ID = "SdkCallLogs"
PROVIDER_ID = "AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", "")


def sdk_call_resource(
    scope: Construct,
    construct_id: str,
    *,
    statements: list[iam.PolicyStatement],
    on_create: cr.AwsSdkCall,
    on_update: cr.AwsSdkCall | None = None,
    on_delete: cr.AwsSdkCall | None = None,
) -> cr.AwsCustomResource:
    """An ``AwsCustomResource`` allowed exactly ``statements``, on the stack's shared provider."""
    stack = Stack.of(scope)
    first = stack.node.try_find_child(LOG_GROUP_ID) is None
    resource = cr.AwsCustomResource(
        scope,
        construct_id,
        on_create=on_create,
        on_update=on_update,
        on_delete=on_delete,
        policy=cr.AwsCustomResourcePolicy.from_statements(statements),
        install_latest_aws_sdk=False,
        log_group=_provider_log_group(stack, first),
    )
    if first:
        nag.acknowledge(
            stack.node.find_child(PROVIDER_ID),
            {
                nag.BASIC_EXECUTION_ROLE: "CDK's AwsCustomResource provider function needs only "
                "to write its own logs, which is what this AWS managed policy grants.",
            },
        )
    return resource


def _provider_log_group(stack: Stack, first: bool) -> logs.ILogGroup:
    # The provider is created with the first call's log group; later calls must name the same one.
    if first:
        return logs.LogGroup(stack, LOG_GROUP_ID, retention=logs.RetentionDays.ONE_MONTH)
    return stack.node.find_child(LOG_GROUP_ID)  # type: ignore[return-value]
