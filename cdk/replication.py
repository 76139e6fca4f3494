"""S3 replication of raw mail: every region's bucket copies to every other region's bucket.

S3 accepts a replication rule only towards a bucket that already exists, and with replication
in both directions some bucket is always created first. So no regional stack sets replication
on its own bucket: a stack of its own, deployed after every regional stack, puts each bucket's
replication configuration with an SDK call, in the bucket's region.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag
from cdk.config import MailConfig
from cdk.sdk_calls import sdk_call_resource
from cdk.storage import REPLICATED_PREFIXES, raw_mail_bucket_name

# With replicationTimeControl on, S3 replicates 99.99% of objects within 15 minutes and publishes
# replication metrics; 15 minutes is also the only time S3 accepts.
REPLICATION_TIME = 15
ALARM_PERIOD = Duration.minutes(5)


def bucket_arn(name: str) -> str:
    return f"arn:{Aws.PARTITION}:s3:::{name}"


def object_arns(name: str) -> list[str]:
    return [f"{bucket_arn(name)}/{prefix}*" for prefix in REPLICATED_PREFIXES]


class ReplicationStack(Stack):
    """Deployed in the home region after every regional stack; one replication setup per bucket."""

    def __init__(self, scope: Construct, construct_id: str, *, config: MailConfig, env: Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="Mail service: raw-mail replication between the regions' buckets",
        )
        names = {region: raw_mail_bucket_name(config, self, region) for region in config.regions}

        self.replications = {
            region: BucketReplication(
                self,
                f"Replication-{region}",
                region=region,
                source=names[region],
                destinations={other: name for other, name in names.items() if other != region},
                time_control=config.replication_time_control,
            )
            for region in config.regions
        }


class BucketReplication(Construct):
    """One bucket's replication: a role S3 assumes, and the rules, one per destination and prefix.

    Each rule copies new objects under one of ``REPLICATED_PREFIXES``; delete markers are not
    replicated (a delete in one region must not erase the copies that make mail survive it), and
    S3 never replicates the deletion of a version.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: str,
        source: str,
        destinations: dict[str, str],
        time_control: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.source = source
        self.role = self._role(source, list(destinations.values()))
        self.rules = [
            _rule(priority, destination, prefix, time_control)
            for priority, (destination, prefix) in enumerate(
                ((name, prefix) for name in destinations.values() for prefix in REPLICATED_PREFIXES),
                start=1,
            )
        ]
        self.configuration = self._put_configuration(region)

    def _role(self, source: str, destinations: list[str]) -> iam.Role:
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description=f"S3 replicates raw mail from {source} with this role",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[bucket_arn(source)]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=object_arns(source),
            )
        )
        # No s3:ReplicateDelete: delete markers are not replicated.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateTags"],
                resources=[arn for name in destinations for arn in object_arns(name)],
            )
        )
        reason = "Replication copies every new object under this prefix; keys are per message."
        nag.acknowledge(
            role,
            {
                nag.wildcard_resource(self, arn): reason
                for name in (source, *destinations)
                for arn in object_arns(name)
            },
        )
        return role

    def _put_configuration(self, region: str) -> cr.AwsCustomResource:
        configuration = {"Role": self.role.role_arn, "Rules": self.rules}
        put = cr.AwsSdkCall(
            service="S3",
            action="putBucketReplication",
            parameters={"Bucket": self.source, "ReplicationConfiguration": configuration},
            region=region,
            physical_resource_id=cr.PhysicalResourceId.of(f"replication-{self.source}"),
        )
        delete = cr.AwsSdkCall(
            service="S3", action="deleteBucketReplication", parameters={"Bucket": self.source}, region=region
        )
        return sdk_call_resource(
            self,
            "Configuration",
            on_create=put,
            on_update=put,
            on_delete=delete,
            statements=[
                # Both PutBucketReplication and DeleteBucketReplication.
                iam.PolicyStatement(
                    actions=["s3:PutReplicationConfiguration"], resources=[bucket_arn(self.source)]
                ),
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "s3.amazonaws.com"}},
                ),
            ],
        )


def replication_failure_alarms(
    scope: Construct, *, source: str, destinations: dict[str, str]
) -> list[cloudwatch.Alarm]:
    """An alarm per destination on failed replications, in the source bucket's region.

    S3 publishes these metrics only for rules with replication metrics on (replicationTimeControl),
    and a CloudWatch alarm reads only its own region's metrics: the regional stack adds them.
    """
    return [
        cloudwatch.Alarm(
            scope,
            f"FailedReplicationAlarm-{region}",
            alarm_description=f"Raw mail failed to replicate to {region}; until it does, those "
            "messages are stored in this region only.",
            metric=cloudwatch.MathExpression(
                expression=" + ".join(f"FILL(m{index}, 0)" for index in range(len(REPLICATED_PREFIXES))),
                using_metrics={
                    f"m{index}": _failed_replications(source, destination, prefix)
                    for index, prefix in enumerate(REPLICATED_PREFIXES)
                },
                period=ALARM_PERIOD,
                label="failed replications",
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for region, destination in destinations.items()
    ]


def _failed_replications(source: str, destination: str, prefix: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/S3",
        metric_name="OperationsFailedReplication",
        dimensions_map={
            "SourceBucket": source,
            "DestinationBucket": destination,
            "RuleId": _rule_id(destination, prefix),
        },
        statistic=cloudwatch.Stats.SUM,
        period=ALARM_PERIOD,
    )


def _rule_id(destination: str, prefix: str) -> str:
    return f"{prefix.rstrip('/')}-to-{destination}"


def _rule(priority: int, destination: str, prefix: str, time_control: bool) -> dict[str, Any]:
    target: dict[str, Any] = {"Bucket": bucket_arn(destination)}
    if time_control:
        target["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": REPLICATION_TIME}}
        target["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": REPLICATION_TIME}}
    return {
        "ID": _rule_id(destination, prefix),
        "Priority": priority,
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": target,
    }
