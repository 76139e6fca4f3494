"""Where mail lives: the raw-mail bucket, the metadata global table and the idempotency table."""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag
from cdk.config import MailConfig
from cdk.sdk_calls import sdk_call_resource

INBOUND_PREFIX = "inbound/"
# Copies of parts too large for a Lambda response, handed out by presigned URL (the API's
# download route): only the region that wrote one serves it, and only for minutes.
DOWNLOADS_PREFIX = "downloads/"
# What every region's bucket copies to every other: mail received, sent, reported and drafted.
# Uploads stay where they were made; they only live until the message that names them is sent.
# Downloads stay too: each is a short-lived copy of mail that has replicated already.
REPLICATED_PREFIXES = ("inbound/", "outbound/", "notices/", "drafts/")
DEFAULT_BUCKET_PREFIX = "mail-raw"

# Deterministic, because every regional stack but the home one finds its replica by this name.
TABLE_NAME = "mail-metadata"
IDEMPOTENCY_TABLE_NAME = "mail-idempotency"

# The attribute names Powertools' DynamoDBPersistenceLayer uses unless told otherwise.
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_EXPIRY = "expiration"

# gsi1 carries whole items (listings need every field); gsi2 only answers "which keys match".
GLOBAL_INDEXES = {
    "gsi1": dynamodb.ProjectionType.ALL,
    "gsi2": dynamodb.ProjectionType.KEYS_ONLY,
}

NONCURRENT_VERSION_RETENTION = Duration.days(30)
# A presigned download URL lives 15 minutes; a day leaves room for retries and clock skew.
DOWNLOAD_RETENTION = Duration.days(1)
ACCESS_LOG_RETENTION = Duration.days(365)


def raw_mail_bucket_name(config: MailConfig, scope: Construct, region: str) -> str:
    """The raw-mail bucket of ``region``: ``<bucketPrefix>-<region>``, else ``mail-raw-<account>-<region>``.

    Fixed names let every region address every other region's bucket (replication, reading a
    body that has not replicated yet) without cross-region references. Without ``bucketPrefix``
    the account is ``AWS::AccountId``, resolved at deploy time, so synthesis needs no account.
    """
    if config.bucket_prefix:
        return f"{config.bucket_prefix}-{region}"
    return f"{DEFAULT_BUCKET_PREFIX}-{Stack.of(scope).account}-{region}"


class RawMailBucket(Construct):
    """The bucket SES writes every accepted message to, under ``inbound/``.

    SES's own bucket policy (PutObject under the prefix, limited by aws:SourceAccount) is added
    by the receipt rule's S3 action, next to the rule that needs it. Replication to the other
    regions' buckets is set up by the replication stack (cdk/replication.py), once they all exist.
    """

    def __init__(self, scope: Construct, construct_id: str, *, bucket_name: str) -> None:
        super().__init__(scope, construct_id)

        self.access_logs = self._access_log_bucket()
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            versioned=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="raw-mail/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=NONCURRENT_VERSION_RETENTION,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                s3.LifecycleRule(
                    id="expire-downloads",
                    prefix=DOWNLOADS_PREFIX,
                    expiration=DOWNLOAD_RETENTION,
                    noncurrent_version_expiration=DOWNLOAD_RETENTION,
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _access_log_bucket(self) -> s3.Bucket:
        # S3 server access logging delivers only to SSE-S3 buckets, hence no KMS here.
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=ACCESS_LOG_RETENTION)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        nag.acknowledge(
            bucket,
            {
                "AwsSolutions-S1": "This bucket is the access-log target of the raw-mail bucket; "
                "logging its own access would write a log record for every log delivery.",
            },
        )
        return bucket


class MetadataTable(Construct):
    """The metadata global table as seen from one regional stack.

    The home stack (first region in ``regions``) owns the ``AWS::DynamoDB::GlobalTable`` and so
    creates the replica in every other region; the other stacks only import their local replica
    by its fixed name. Deploy order follows: the home stack first, then the others (the app
    declares that dependency, so ``cdk deploy --all`` keeps it). To add a region, add it to
    ``regions``, deploy the home stack (which adds the replica), then the new region's stack.
    Removing a region works the other way round: its stack first, then the home stack.

    ``tableConsistency: strong`` makes it a multi-Region strongly consistent (MRSC) table, with
    a witness when ``witnessRegion`` is set; the config has already refused what DynamoDB would.
    Each region's stream (the janitor reads it) is this region's replica's own: the home stack
    knows it from the table, the others ask DynamoDB for it when they deploy.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: MailConfig) -> None:
        super().__init__(scope, construct_id)

        if Stack.of(self).region == config.home_region:
            self.table: dynamodb.ITableV2 = self._global_table(config)
        else:
            self.table = dynamodb.TableV2.from_table_attributes(
                self,
                "Replica",
                table_name=TABLE_NAME,
                global_indexes=list(GLOBAL_INDEXES),
                table_stream_arn=self._replica_stream_arn(),
            )

    def _global_table(self, config: MailConfig) -> dynamodb.TableV2:
        # EVENTUAL is left implicit: stating it would change the template of deployed tables,
        # and the consistency mode of a global table can never be updated in place.
        strong = dynamodb.MultiRegionConsistency.STRONG if config.strong_consistency else None
        return dynamodb.TableV2(
            self,
            "Table",
            table_name=TABLE_NAME,
            partition_key=_string_key("pk"),
            sort_key=_string_key("sk"),
            billing=dynamodb.Billing.on_demand(),
            # Eventually consistent replicas replicate through the stream, which must carry both
            # images; in either mode the janitor reads it.
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=_string_key(f"{name}pk"),
                    sort_key=_string_key(f"{name}sk"),
                    projection_type=projection,
                )
                for name, projection in GLOBAL_INDEXES.items()
            ],
            replicas=[dynamodb.ReplicaTableProps(region=region) for region in config.replica_regions],
            multi_region_consistency=strong,
            witness_region=config.witness_region,
        )

    def _replica_stream_arn(self) -> str:
        # A replica's stream ARN carries a creation timestamp, so only DynamoDB can tell it.
        table_arn = Stack.of(self).format_arn(service="dynamodb", resource="table", resource_name=TABLE_NAME)
        describe = cr.AwsSdkCall(
            service="DynamoDB",
            action="describeTable",
            parameters={"TableName": TABLE_NAME},
            physical_resource_id=cr.PhysicalResourceId.of(f"{TABLE_NAME}-stream"),
            # A custom resource answers at most 4 KB; the table's description is longer.
            output_paths=["Table.LatestStreamArn"],
        )
        lookup = sdk_call_resource(
            self,
            "StreamLookup",
            on_create=describe,
            on_update=describe,
            statements=[iam.PolicyStatement(actions=["dynamodb:DescribeTable"], resources=[table_arn])],
        )
        return lookup.get_response_field("Table.LatestStreamArn")


class IdempotencyTable(Construct):
    """Powertools idempotency records of the API's send calls, a global table like the metadata.

    Owned by the home stack with a replica in every region, exactly as ``MetadataTable``, so a
    send retried in another region finds its record once replication has caught up (the
    message id derived from the key still guards the moments before). Records expire through
    DynamoDB TTL a day after they are written, so there is nothing worth a point-in-time backup.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        home_region: str,
        replica_regions: tuple[str, ...],
    ) -> None:
        super().__init__(scope, construct_id)

        self.table = _owned_or_replica(
            self,
            home_region,
            lambda: self._global_table(replica_regions),
            table_name=IDEMPOTENCY_TABLE_NAME,
        )

    def _global_table(self, replica_regions: tuple[str, ...]) -> dynamodb.TableV2:
        return dynamodb.TableV2(
            self,
            "Table",
            table_name=IDEMPOTENCY_TABLE_NAME,
            partition_key=_string_key(IDEMPOTENCY_KEY),
            time_to_live_attribute=IDEMPOTENCY_EXPIRY,
            billing=dynamodb.Billing.on_demand(),
            # CloudFormation wants a stream on any global table with more than one replica.
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            # Short-lived records: deleting the stacks may delete them too.
            removal_policy=RemovalPolicy.DESTROY,
            replicas=[dynamodb.ReplicaTableProps(region=region) for region in replica_regions],
        )


def _owned_or_replica(
    scope: Construct,
    home_region: str,
    global_table: Callable[[], dynamodb.TableV2],
    **replica_attributes: object,
) -> dynamodb.ITableV2:
    """The global table itself in the home region; elsewhere, the local replica by its name."""
    if Stack.of(scope).region == home_region:
        return global_table()
    return dynamodb.TableV2.from_table_attributes(scope, "Replica", **replica_attributes)


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)
