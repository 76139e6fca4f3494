"""The service's Lambda functions, all made by one factory so they share one shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk import nag
from cdk.layers import ARCHITECTURE, ASSET_EXCLUDES, REPO_ROOT, RUNTIME, SharedLayers
from cdk.queues import DEAD_LETTER_RETENTION, MAX_RECEIVE_COUNT, WorkQueue, alarm_on_any_message, secure_queue
from cdk.replication import object_arns
from cdk.sending import MailSending
from cdk.storage import DOWNLOADS_PREFIX, INBOUND_PREFIX

FUNCTIONS_DIR = REPO_ROOT / "functions"
HANDLER = "handler.handler"
METRICS_NAMESPACE = "Mail"
LOG_LEVEL = "INFO"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True)
class FunctionSpec:
    """One function: its code lives in ``functions/<service>``, named for Powertools."""

    service: str
    timeout: Duration
    memory_size: int = 512
    environment: Mapping[str, str] = field(default_factory=dict)


INBOUND = FunctionSpec(
    "inbound",
    timeout=Duration.seconds(60),
    memory_size=1024,
    environment={"INBOUND_PREFIX": INBOUND_PREFIX},
)
API = FunctionSpec("api", timeout=Duration.seconds(15))
DELIVERY = FunctionSpec("delivery", timeout=Duration.seconds(60))
FEEDBACK = FunctionSpec("feedback", timeout=Duration.seconds(30))
JANITOR = FunctionSpec("janitor", timeout=Duration.seconds(60))
# Every request not answered from the authorizer cache waits for it; 10 seconds leave a cold
# start room to fetch each pool's signing keys (3 seconds at most per pool).
AUTHORIZER = FunctionSpec("authorizer", timeout=Duration.seconds(10))

# The janitor's stream: records of every write in this region's replica, local or replicated.
STREAM_BATCH_SIZE = 100
STREAM_RETRY_ATTEMPTS = 5
# Only the records the janitor acts on (mailcore.janitor): a message written or changed, which
# may have come back after a delete, and a new tombstone. Lambda drops the rest unbilled.
STREAM_FILTERS = [
    lambda_.FilterCriteria.filter(
        {
            "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
            "dynamodb": {"Keys": {"sk": {"S": lambda_.FilterRule.begins_with("MSG#")}}},
        }
    ),
    lambda_.FilterCriteria.filter(
        {
            "eventName": lambda_.FilterRule.is_equal("INSERT"),
            "dynamodb": {"Keys": {"sk": {"S": lambda_.FilterRule.begins_with("TOMB#")}}},
        }
    ),
]

# Where each function reads and writes in the raw-mail bucket, besides SES's inbound/.
OUTBOUND = "outbound/*"  # messages queued for sending, written by the API
DRAFTS = "drafts/*"
UPLOADS = "uploads/*"  # attachments uploaded before the message that names them
NOTICES = "notices/*"  # delivery reports put in a sender's Inbox
DOWNLOADS = f"{DOWNLOADS_PREFIX}*"  # parts too large for a Lambda response, fetched by presigned URL


class MailFunctions(Construct):
    """Every function of the service, with the permissions each needs and no more."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: SharedLayers,
        bucket: s3.IBucket,
        other_buckets: list[str],
        table: dynamodb.ITableV2,
        idempotency_table: dynamodb.ITableV2,
        delivery_queue: WorkQueue,
        feedback_queue: WorkQueue,
        sending: MailSending,
    ) -> None:
        super().__init__(scope, construct_id)
        self._layers = layers.all
        self._shared_environment = {
            "TABLE_NAME": table.table_name,
            "BUCKET_NAME": bucket.bucket_name,
        }

        self.inbound = self._inbound(bucket, table, sending)
        self.api = self._api(bucket, other_buckets, table, idempotency_table, delivery_queue)
        self.delivery = self._delivery(bucket, table, delivery_queue, sending)
        self.feedback = self._feedback(bucket, table, feedback_queue)
        self.janitor_failures = secure_queue(self, "JanitorFailures", retention_period=DEAD_LETTER_RETENTION)
        self.janitor = self._janitor(table, self.janitor_failures)
        self.janitor_failures_alarm = self._janitor_failures_alarm()
        self.authorizer = self._authorizer(table)

    def _inbound(
        self, bucket: s3.IBucket, table: dynamodb.ITableV2, sending: MailSending
    ) -> lambda_.Function:
        function = self._function(INBOUND)
        self._grant_table(function, table)
        self._grant_read(function, bucket, [f"{INBOUND_PREFIX}*"], "the messages SES stored for it to parse")
        sending.grant_bounce(function)
        return function

    def _api(
        self,
        bucket: s3.IBucket,
        other_buckets: list[str],
        table: dynamodb.ITableV2,
        idempotency_table: dynamodb.ITableV2,
        delivery_queue: WorkQueue,
    ) -> lambda_.Function:
        function = self._function(
            API,
            DELIVERY_QUEUE_URL=delivery_queue.queue.queue_url,
            IDEMPOTENCY_TABLE_NAME=idempotency_table.table_name,
        )
        self._grant_table(function, table)
        idempotency_table.grant_read_write_data(function)
        self._grant_read(function, bucket, ["*"], "any message or attachment an account holder opens")
        self._grant_put(
            function,
            bucket,
            [OUTBOUND, DRAFTS, UPLOADS, DOWNLOADS],
            "messages it sends, drafts, uploads and oversized downloads",
        )
        self._grant_delete(function, bucket)
        self._grant_read_elsewhere(function, other_buckets)
        delivery_queue.queue.grant_send_messages(function)
        return function

    def _delivery(
        self,
        bucket: s3.IBucket,
        table: dynamodb.ITableV2,
        delivery_queue: WorkQueue,
        sending: MailSending,
    ) -> lambda_.Function:
        function = self._function(
            DELIVERY,
            DELIVERY_QUEUE_URL=delivery_queue.queue.queue_url,
            CONFIGURATION_SET_NAME=sending.configuration_set_name,
            DELIVERY_ATTEMPTS=str(MAX_RECEIVE_COUNT),
        )
        self._grant_table(function, table)
        self._grant_read(function, bucket, [OUTBOUND, DRAFTS, NOTICES], "the messages it sends")
        self._grant_put(function, bucket, [NOTICES], "reports of mail it could not deliver")
        sending.grant_send(function)
        # Consuming the queue grants sqs:ChangeMessageVisibility too, which backing off needs.
        function.add_event_source(delivery_queue.event_source())
        return function

    def _feedback(
        self, bucket: s3.IBucket, table: dynamodb.ITableV2, feedback_queue: WorkQueue
    ) -> lambda_.Function:
        function = self._function(FEEDBACK)
        self._grant_table(function, table)
        self._grant_read(function, bucket, [OUTBOUND], "the sent message a bounce refers to")
        self._grant_put(function, bucket, [NOTICES], "reports of bounced mail")
        function.add_event_source(feedback_queue.event_source())
        return function

    def _janitor(self, table: dynamodb.ITableV2, failures: sqs.IQueue) -> lambda_.Function:
        function = self._function(JANITOR)
        self._grant_table(function, table)
        # A batch that still fails after its retries, halved on each error to isolate the bad
        # record, is skipped; its shard and sequence numbers go to the failures queue.
        function.add_event_source(
            event_sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=STREAM_BATCH_SIZE,
                retry_attempts=STREAM_RETRY_ATTEMPTS,
                bisect_batch_on_error=True,
                on_failure=event_sources.SqsDlq(failures),
                filters=STREAM_FILTERS,
            )
        )
        nag.acknowledge(
            failures,
            {
                "AwsSolutions-SQS3": "This queue is itself the dead end: the on-failure "
                "destination of the janitor's stream event source.",
            },
        )
        nag.acknowledge(
            function,
            {
                "AwsSolutions-IAM5[Resource::*]": "X-Ray's PutTraceSegments and PutTelemetryRecords "
                "(active tracing) and dynamodb:ListStreams (the stream event source) accept no "
                "resource ARN.",
            },
        )
        return function

    def _janitor_failures_alarm(self) -> cloudwatch.Alarm:
        return alarm_on_any_message(
            self,
            "JanitorFailuresAlarm",
            self.janitor_failures,
            "Janitor: a batch of table stream records failed after every retry and was skipped; "
            "a deleted message may have come back. The queued message names the shard and "
            "sequence numbers; the stream keeps records for 24 hours.",
        )

    def _authorizer(self, table: dynamodb.ITableV2) -> lambda_.Function:
        function = self._function(AUTHORIZER)
        table.grant_read_data(function)
        nag.acknowledge(
            function,
            {
                nag.wildcard_resource(function, f"{table.table_arn}/index/*"): "CDK's read grant "
                "covers the table's indexes (gsi1, gsi2); the authorizer only reads the pools item.",
            },
        )
        return function

    def _grant_read_elsewhere(self, function: lambda_.Function, buckets: list[str]) -> None:
        """Reading a body from the region that received it, while it has not replicated yet."""
        if not buckets:
            return
        resources = [arn for name in buckets for arn in object_arns(name)]
        function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=resources))
        reason = (
            "Object keys are generated per message; the function reads a body from the region "
            "that received it while replication has not copied it yet."
        )
        nag.acknowledge(function, {nag.wildcard_resource(function, arn): reason for arn in resources})

    def _function(self, spec: FunctionSpec, **environment: str) -> lambda_.Function:
        construct_id = spec.service.capitalize()
        log_group = logs.LogGroup(self, f"{construct_id}Logs", retention=LOG_RETENTION)

        function = lambda_.Function(
            self,
            construct_id,
            description=f"mail service: {spec.service}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / spec.service), exclude=ASSET_EXCLUDES),
            memory_size=spec.memory_size,
            timeout=spec.timeout,
            layers=self._layers,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.INFO,
            environment={
                **self._shared_environment,
                **environment,
                **_powertools_environment(spec),
            },
        )
        _acknowledge_function_findings(function)
        return function

    def _grant_table(self, function: lambda_.Function, table: dynamodb.ITableV2) -> None:
        table.grant_read_write_data(function)
        nag.acknowledge(
            function,
            {
                nag.wildcard_resource(function, f"{table.table_arn}/index/*"): "Queries go "
                "through the table's own indexes (gsi1, gsi2) and only those exist.",
            },
        )

    def _grant_read(self, function: lambda_.Function, bucket: s3.IBucket, keys: list[str], what: str) -> None:
        for pattern in keys:
            bucket.grant_read(function, pattern)
        actions = (
            "CDK's read grant, on the raw-mail bucket alone: object and version reads "
            "(GetObject*), the bucket's location and versioning (GetBucket*) and listing (List*)."
        )
        nag.acknowledge(
            function,
            {
                nag.wildcard_action("s3:GetObject*"): actions,
                nag.wildcard_action("s3:GetBucket*"): actions,
                nag.wildcard_action("s3:List*"): actions,
                **_object_keys_findings(function, bucket, keys, f"the function reads {what}"),
            },
        )

    def _grant_put(self, function: lambda_.Function, bucket: s3.IBucket, keys: list[str], what: str) -> None:
        for pattern in keys:
            bucket.grant_put(function, pattern)
        nag.acknowledge(
            function,
            {
                nag.wildcard_action("s3:Abort*"): "CDK's put grant: AbortMultipartUpload only "
                "ends an upload the function itself began, under the prefixes it writes.",
                **_object_keys_findings(function, bucket, keys, f"the function writes {what}"),
            },
        )

    def _grant_delete(self, function: lambda_.Function, bucket: s3.IBucket) -> None:
        bucket.grant_delete(function)
        nag.acknowledge(
            function,
            {
                nag.wildcard_action("s3:DeleteObject*"): "Account holders delete messages; the "
                "wildcard adds DeleteObjectVersion, which erasing from a versioned bucket needs.",
            },
        )


def _object_keys_findings(
    function: lambda_.Function, bucket: s3.IBucket, keys: list[str], what: str
) -> dict[str, str]:
    reason = f"Object keys are generated per message; {what}."
    return {nag.wildcard_resource(function, bucket.arn_for_objects(key)): reason for key in keys}


def _powertools_environment(spec: FunctionSpec) -> dict[str, str]:
    return {
        **spec.environment,
        "POWERTOOLS_SERVICE_NAME": spec.service,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
        # Responses carry mail; traces must not copy them into X-Ray.
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
        "LOG_LEVEL": LOG_LEVEL,
    }


def _acknowledge_function_findings(function: lambda_.Function) -> None:
    nag.acknowledge(
        function,
        {
            "AwsSolutions-L1": "Python 3.12 is pinned on purpose: the dependency layer's wheels "
            "are built for cp312, so a runtime move is a deliberate upgrade of layer and code.",
            nag.BASIC_EXECUTION_ROLE: "The AWS managed basic execution role only lets the "
            "function write its own CloudWatch logs.",
            "AwsSolutions-IAM5[Resource::*]": "X-Ray's PutTraceSegments and "
            "PutTelemetryRecords, added by active tracing, accept no resource ARN.",
        },
    )
