"""One region's copy of the mail service."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from cdk.api import MailApi
from cdk.auth import UserDirectory
from cdk.config import MailConfig
from cdk.functions import MailFunctions
from cdk.layers import SharedLayers
from cdk.receiving import MailReceiving
from cdk.storage import MetadataTable, RawMailBucket


class MailStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: MailConfig, env: Environment
    ) -> None:
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
        functions = MailFunctions(
            self,
            "Functions",
            layers=SharedLayers(self, "Layers"),
            bucket=raw_mail.bucket,
            table=metadata.table,
        )
        receiving = MailReceiving(
            self,
            "Receiving",
            bucket=raw_mail.bucket,
            function=functions.inbound,
            recipients=config.hosted_domains,
        )
        users = UserDirectory(self, "Users")
        api = MailApi(
            self, "Api", function=functions.api, user_pool=users.user_pool, client=users.client
        )

        self._outputs(
            TableName=metadata.table.table_name,
            BucketName=raw_mail.bucket.bucket_name,
            UserPoolId=users.user_pool.user_pool_id,
            UserPoolClientId=users.client.user_pool_client_id,
            ApiUrl=api.url,
            InboundFunctionName=functions.inbound.function_name,
            ApiFunctionName=functions.api.function_name,
            ReceiptRuleSetName=receiving.rule_set.receipt_rule_set_name,
        )

    def _outputs(self, **values: str) -> None:
        for name, value in values.items():
            CfnOutput(self, name, value=value)
