"""One region's copy of the mail service."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Environment, Stack
from constructs import Construct

from cdk.api import MailApi
from cdk.auth import UserDirectory
from cdk.config import MailConfig
from cdk.dns import output_suffixes
from cdk.functions import DELIVERY, FEEDBACK, MailFunctions
from cdk.layers import SharedLayers
from cdk.queues import WorkQueue
from cdk.receiving import MailReceiving
from cdk.sending import MailSending
from cdk.storage import IdempotencyTable, MetadataTable, RawMailBucket


class MailStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: MailConfig, env: Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description=f"Mail service in {env.region}",
        )

        raw_mail = RawMailBucket(self, "RawMail")
        metadata = MetadataTable(
            self,
            "Metadata",
            home_region=config.home_region,
            replica_regions=config.replica_regions,
        )
        idempotency = IdempotencyTable(
            self,
            "Idempotency",
            home_region=config.home_region,
            replica_regions=config.replica_regions,
        )
        delivery_queue = WorkQueue(
            self,
            "Delivery",
            purpose="Delivery",
            consumer_timeout=DELIVERY.timeout,
            batch_size=10,
            batching_window=Duration.seconds(2),
        )
        feedback_queue = WorkQueue(
            self,
            "Feedback",
            purpose="SES feedback",
            consumer_timeout=FEEDBACK.timeout,
            batch_size=10,
            batching_window=Duration.seconds(5),
        )
        sending = MailSending(
            self, "Sending", domains=config.hosted_domains, feedback_queue=feedback_queue.queue
        )
        functions = MailFunctions(
            self,
            "Functions",
            layers=SharedLayers(self, "Layers"),
            bucket=raw_mail.bucket,
            table=metadata.table,
            idempotency_table=idempotency.table,
            delivery_queue=delivery_queue,
            feedback_queue=feedback_queue,
            sending=sending,
        )
        receiving = MailReceiving(
            self,
            "Receiving",
            bucket=raw_mail.bucket,
            function=functions.inbound,
            recipients=config.hosted_domains,
        )
        users = UserDirectory(self, "Users")
        api = MailApi(self, "Api", function=functions.api, user_pool=users.user_pool, client=users.client)

        self._outputs(
            TableName=metadata.table.table_name,
            IdempotencyTableName=idempotency.table.table_name,
            BucketName=raw_mail.bucket.bucket_name,
            UserPoolId=users.user_pool.user_pool_id,
            UserPoolClientId=users.client.user_pool_client_id,
            ApiUrl=api.url,
            InboundFunctionName=functions.inbound.function_name,
            ApiFunctionName=functions.api.function_name,
            DeliveryFunctionName=functions.delivery.function_name,
            FeedbackFunctionName=functions.feedback.function_name,
            ReceiptRuleSetName=receiving.rule_set.receipt_rule_set_name,
            ConfigurationSetName=sending.configuration_set_name,
            # Redrive: move messages from a dead-letter queue back to the queue it serves.
            DeliveryQueueUrl=delivery_queue.queue.queue_url,
            DeliveryDlqUrl=delivery_queue.dead_letters.queue_url,
            FeedbackQueueUrl=feedback_queue.queue.queue_url,
            FeedbackDlqUrl=feedback_queue.dead_letters.queue_url,
            InboundFailuresQueueUrl=receiving.failed_invocations.queue_url,
        )
        self._dns_outputs(config.hosted_domains, receiving, sending)

    def _outputs(self, **values: str) -> None:
        for name, value in values.items():
            CfnOutput(self, name, value=value)

    def _dns_outputs(self, domains: tuple[str, ...], receiving: MailReceiving, sending: MailSending) -> None:
        """One output per DNS record to publish, e.g. ``DnsDkim1ExampleCom``, as a zone-file line."""
        for domain, suffix in output_suffixes(domains).items():
            records = {**receiving.dns_records(domain), **sending.dns_records(domain)}
            for kind, record in records.items():
                CfnOutput(
                    self,
                    f"Dns{kind}{suffix}",
                    value=record.zone_line(),
                    description=f"DNS record to publish for {domain} ({self.region})",
                )
