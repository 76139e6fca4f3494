"""Create, in moto, the AWS resources the CDK stacks create on AWS, and seed demo data."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from mailcore import aws, directory, tokens
from mailcore.repository import Table

DEMO_DOMAIN = "demo.test"
DEMO_ACCOUNTS = ("alice@demo.test", "bob@demo.test")
DEMO_PASSWORD = "Local-Passw0rd!"
DELIVERY_ATTEMPTS = 5
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
}


@dataclass
class Resources:
    region: str
    table_name: str
    bucket_name: str
    user_pool_id: str = ""
    client_id: str = ""
    idempotency_table_name: str = ""
    delivery_queue_url: str = ""
    delivery_dlq_url: str = ""
    feedback_queue_url: str = ""
    feedback_topic_arn: str = ""
    configuration_set: str = "mail-sending"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def use_local_environment(resources: Resources) -> None:
    """Point the functions' settings at moto, as CDK points them at the real resources."""
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.update(
        AWS_DEFAULT_REGION=resources.region,
        AWS_REGION=resources.region,
        TABLE_NAME=resources.table_name,
        BUCKET_NAME=resources.bucket_name,
        IDEMPOTENCY_TABLE_NAME=resources.idempotency_table_name,
        DELIVERY_QUEUE_URL=resources.delivery_queue_url,
        CONFIGURATION_SET_NAME=resources.configuration_set,
        INBOUND_PREFIX="inbound/",
        ALLOW_TEST_DOMAINS="true",
        POWERTOOLS_METRICS_NAMESPACE="Mail",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    )
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "mail-local")
    aws.reset()


def create(region: str = "us-east-1", prefix: str = "mail") -> Resources:
    """Table, bucket and user pool in the active moto backend (`mock_aws` must be on)."""
    resources = Resources(region, f"{prefix}-{region}", f"{prefix}-raw-{region}")
    resources.idempotency_table_name = f"{prefix}-idempotency-{region}"
    use_local_environment(resources)
    _create_table(resources.table_name, region)
    _create_idempotency_table(resources.idempotency_table_name, region)
    _create_bucket(resources.bucket_name, region)
    resources.user_pool_id, resources.client_id = _create_user_pool(region)
    # As each regional stack does on AWS: the authorizers trust every registered pool.
    tokens.register_pool(
        Table(resources.table_name, region), tokens.Pool(region, resources.user_pool_id, resources.client_id)
    )
    _create_queues(resources, prefix)
    _create_sending(resources, prefix)
    use_local_environment(resources)
    return resources


def _create_idempotency_table(name: str, region: str) -> None:
    ddb = aws.client("dynamodb", region)
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )


def _create_queues(resources: Resources, prefix: str) -> None:
    sqs = aws.client("sqs", resources.region)
    dlq = sqs.create_queue(QueueName=f"{prefix}-delivery-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": DELIVERY_ATTEMPTS})
    resources.delivery_queue_url = sqs.create_queue(
        QueueName=f"{prefix}-delivery", Attributes={"RedrivePolicy": redrive, "VisibilityTimeout": "360"}
    )["QueueUrl"]
    resources.delivery_dlq_url = dlq
    resources.feedback_queue_url = sqs.create_queue(QueueName=f"{prefix}-feedback")["QueueUrl"]


def _create_sending(resources: Resources, prefix: str) -> None:
    """The configuration set's event destination: SNS, delivered raw to the feedback queue."""
    sns = aws.client("sns", resources.region)
    sqs = aws.client("sqs", resources.region)
    topic = sns.create_topic(Name=f"{prefix}-ses-events")["TopicArn"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=resources.feedback_queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    resources.feedback_topic_arn = topic
    aws.client("sesv2", resources.region).create_configuration_set(
        ConfigurationSetName=resources.configuration_set
    )


def verify_sending_domain(resources: Resources, domain: str) -> None:
    """SES sends only from verified identities; CDK creates one per hosted domain."""
    aws.client("ses", resources.region).verify_domain_identity(Domain=domain)


def _create_table(name: str, region: str) -> None:
    ddb = aws.client("dynamodb", region)
    key = [("pk", "sk"), ("gsi1pk", "gsi1sk"), ("gsi2pk", "gsi2sk")]
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for pair in key for a in pair],
        KeySchema=_key_schema("pk", "sk"),
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": _key_schema("gsi1pk", "gsi1sk"),
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "gsi2",
                "KeySchema": _key_schema("gsi2pk", "gsi2sk"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def _key_schema(partition: str, sort: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": partition, "KeyType": "HASH"},
        {"AttributeName": sort, "KeyType": "RANGE"},
    ]


def _create_bucket(name: str, region: str) -> None:
    s3 = aws.client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _create_user_pool(region: str) -> tuple[str, str]:
    cognito = aws.client("cognito-idp", region)
    pool = cognito.create_user_pool(
        PoolName="mail-users",
        UsernameAttributes=["email"],
        Schema=[{"Name": "account_id", "AttributeDataType": "String", "Mutable": False}],
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="mail-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool["Id"], client["ClientId"]


def add_user(resources: Resources, address: str, password: str) -> str:
    """Create the account's Cognito user, then the account in the table; returns its id.

    The address is checked first, so that a taken one leaves no user behind; then the user,
    so that a refused password leaves no account that takes mail no one can read. Both steps
    may be repeated, so a failed run can simply be run again.
    """
    table = Table(resources.table_name, resources.region)
    address = directory.free_for_account(table, address)
    add_sign_in(resources, address, password)
    return directory.add_account(table, address)


def add_sign_in(resources: Resources, address: str, password: str) -> str:
    """The account's user in this region's pool; every region has one, so sign-in survives.

    The user is named by the address as the directory keeps it (lower case, punycode domain),
    so that `sign_in` finds it however the address is written.
    """
    address = directory.canonical(address)
    account_id = directory.account_id_for(address)
    cognito = aws.client("cognito-idp", resources.region)
    # An earlier run may have created the user; setting the password below completes it.
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(
            UserPoolId=resources.user_pool_id,
            Username=address,
            UserAttributes=[
                {"Name": "email", "Value": address},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "custom:account_id", "Value": account_id},
            ],
            MessageAction="SUPPRESS",
        )
    cognito.admin_set_user_password(
        UserPoolId=resources.user_pool_id, Username=address, Password=password, Permanent=True
    )
    return account_id


def add_domain(resources: Resources, domain: str) -> None:
    directory.add_domain(Table(resources.table_name, resources.region), domain)
    verify_sending_domain(resources, domain)


def seed_demo(resources: Resources) -> dict[str, str]:
    add_domain(resources, DEMO_DOMAIN)
    return {address: add_user(resources, address, DEMO_PASSWORD) for address in DEMO_ACCOUNTS}


def seed_demo_users(resources: Resources) -> dict[str, str]:
    """Another region: the table's items arrive by replication; sign-in is per region."""
    verify_sending_domain(resources, DEMO_DOMAIN)
    return {address: add_sign_in(resources, address, DEMO_PASSWORD) for address in DEMO_ACCOUNTS}


def sign_in(resources: Resources, address: str, password: str) -> str:
    """An ID token for the user, as the app client would get it from Cognito.

    The pools on AWS match user names in any case (`sign_in_case_sensitive=False`); moto's
    match exactly, so the address is lowered here as `add_sign_in` lowered it.
    """
    cognito = aws.client("cognito-idp", resources.region)
    result = cognito.initiate_auth(
        ClientId=resources.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": directory.canonical(address), "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]
