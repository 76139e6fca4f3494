"""One region's copy of the mail service."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Environment, Stack
from constructs import Construct

from cdk.api import MailApi
from cdk.auth import UserDirectory
from cdk.config import MailConfig
from cdk.dns import PublishedRecords, output_suffixes
from cdk.functions import DELIVERY, FEEDBACK, MailFunctions
from cdk.layers import SharedLayers
from cdk.queues import WorkQueue
from cdk.receiving import MailReceiving, mx_record
from cdk.replication import replication_failure_alarms
from cdk.routing import ApiRouting
from cdk.sending import MailSending
from cdk.storage import IdempotencyTable, MetadataTable, RawMailBucket, raw_mail_bucket_name


class MailStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: MailConfig, env: Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description=f"Mail service in {env.region}",
        )

        self._config = config
        bucket_names = {region: raw_mail_bucket_name(config, self, region) for region in config.regions}
        other_buckets = {region: name for region, name in bucket_names.items() if region != env.region}

        raw_mail = RawMailBucket(self, "RawMail", bucket_name=bucket_names[env.region])
        if config.replication_time_control:
            replication_failure_alarms(raw_mail, source=bucket_names[env.region], destinations=other_buckets)
        metadata = MetadataTable(self, "Metadata", config=config)
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
            other_buckets=list(other_buckets.values()),
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
        users.register_in(metadata.table)
        api = MailApi(
            self,
            "Api",
            function=functions.api,
            authorizer=functions.authorizer,
            throttle=config.api_throttle,
        )

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
            JanitorFunctionName=functions.janitor.function_name,
            AuthorizerFunctionName=functions.authorizer.function_name,
            ReceiptRuleSetName=receiving.rule_set.receipt_rule_set_name,
            ConfigurationSetName=sending.configuration_set_name,
            # Redrive: move messages from a dead-letter queue back to the queue it serves.
            DeliveryQueueUrl=delivery_queue.queue.queue_url,
            DeliveryDlqUrl=delivery_queue.dead_letters.queue_url,
            FeedbackQueueUrl=feedback_queue.queue.queue_url,
            FeedbackDlqUrl=feedback_queue.dead_letters.queue_url,
            InboundFailuresQueueUrl=receiving.failed_invocations.queue_url,
            JanitorFailuresQueueUrl=functions.janitor_failures.queue_url,
        )
        self._dns(sending)
        if config.api_domain and config.hosted_zone:
            routing = ApiRouting(self, "Routing", api=api, domain=config.api_domain, zone=config.hosted_zone)
            self._outputs(
                ApiDomainUrl=f"https://{config.api_domain.name}/",
                ApiHealthCheckId=routing.health_check.health_check_id,
            )

    def _outputs(self, **values: str) -> None:
        for name, value in values.items():
            CfnOutput(self, name, value=value)

    def _dns(self, sending: MailSending) -> None:
        """One output per record set to publish, e.g. ``DnsDkim1ExampleCom``, as zone-file lines;
        published in Route 53 too when the context names the hosted zone."""
        zone = self._config.hosted_zone
        published = PublishedRecords(self, "Dns", zone=zone) if zone else None
        for domain, suffix in output_suffixes(self._config.hosted_domains).items():
            records = {"Mx": mx_record(domain, self._config.regions), **sending.dns_records(domain)}
            for kind, record in records.items():
                CfnOutput(
                    self,
                    f"Dns{kind}{suffix}",
                    value=record.zone_lines(),
                    description=f"DNS record set to publish for {domain} ({self._record_scope(kind)})",
                )
                if published and self._publishes(kind):
                    published.publish(f"{kind}{suffix}", record)

    def _publishes(self, kind: str) -> bool:
        # Every region has the same MX set; the home stack alone owns it in the zone.
        return kind != "Mx" or self.region == self._config.home_region

    def _record_scope(self, kind: str) -> str:
        return "the same in every region" if kind == "Mx" else self.region
