"""Who may call the API: a Cognito user pool per region whose ID tokens name the caller's mail
account, and the register of those pools in the metadata table that every region's authorizer reads."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk import nag
from cdk.sdk_calls import sdk_call_resource

ACCOUNT_ID_ATTRIBUTE = "account_id"  # appears in tokens as custom:account_id

# Everything the pool uses (custom attributes, optional TOTP MFA, password and SRP sign-in,
# admin-created users) is in Lite; Essentials would add managed login, passwordless sign-in,
# email MFA and access-token customization, none of which the service uses. Stated because a
# pool created without a plan gets Essentials.
FEATURE_PLAN = cognito.FeaturePlan.LITE

# The register's partition, as mailcore.tokens reads it: one item per region, sort key = region.
POOLS_PK = "POOLS"


class UserDirectory(Construct):
    """Users are created by an operator (no self sign-up), each bound to one mail account.

    ``account_id`` is immutable, so it can only be set when an administrator creates the user
    and no one, the user included, can move a login to another account afterwards.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            feature_plan=FEATURE_PLAN,
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            custom_attributes={
                ACCOUNT_ID_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=64, mutable=False)
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            generate_secret=False,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True)
            .with_custom_attributes(ACCOUNT_ID_ATTRIBUTE),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
        )
        self._acknowledge_findings()

    def register_in(self, table: dynamodb.ITableV2) -> cr.AwsCustomResource:
        """Writes this region's pool into the table's local replica; the table replicates it.

        That is how every region's authorizer learns every region's pool, with no reference
        between the stacks. Deleting the stack removes the entry.
        """
        region = Stack.of(self).region
        key = {"pk": {"S": POOLS_PK}, "sk": {"S": region}}
        item = {
            **key,
            "kind": {"S": "pool"},
            "region": {"S": region},
            "user_pool_id": {"S": self.user_pool.user_pool_id},
            "client_id": {"S": self.client.user_pool_client_id},
        }
        put = cr.AwsSdkCall(
            service="DynamoDB",
            action="putItem",
            parameters={"TableName": table.table_name, "Item": item},
            physical_resource_id=cr.PhysicalResourceId.of(f"user-pool-{region}"),
        )
        delete = cr.AwsSdkCall(
            service="DynamoDB", action="deleteItem", parameters={"TableName": table.table_name, "Key": key}
        )
        return sdk_call_resource(
            self,
            "RegisterPool",
            on_create=put,
            on_update=put,
            on_delete=delete,
            statements=[
                iam.PolicyStatement(
                    actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
                    resources=[table.table_arn],
                    conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [POOLS_PK]}},
                )
            ],
        )

    def _acknowledge_findings(self) -> None:
        plus_plan = (
            "Threat protection (advanced security) is a Cognito Plus feature and the pool is on "
            "Lite; operators create every user, which removes the sign-up abuse it mainly guards against."
        )
        nag.acknowledge(
            self.user_pool,
            {
                "AwsSolutions-COG2": "TOTP MFA is offered to every user but not forced: mail "
                "clients sign in with USER_PASSWORD_AUTH and cannot answer an MFA challenge.",
                "AwsSolutions-COG3": plus_plan,
                "AwsSolutions-COG8": plus_plan,
            },
        )
