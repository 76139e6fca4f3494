from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Match, Template

from cdk.config import MailConfig
from cdk.storage import IDEMPOTENCY_TABLE_NAME, INBOUND_PREFIX, TABLE_NAME, MetadataTable

from .synthesis import (
    BUCKET_PREFIX,
    HOME_REGION,
    OPTIONS_REGIONS,
    REPLICA_REGION,
    SynthesizedApp,
    as_list,
    default_bucket_name,
    function_environment,
    only,
    statements_for,
)


def _raw_mail_bucket(template: Template) -> dict:
    buckets = template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"VersioningConfiguration": {"Status": "Enabled"}}}
    )
    assert len(buckets) == 1
    return next(iter(buckets.values()))["Properties"]


def _global_table(template: Template, name: str = TABLE_NAME) -> dict:
    tables = template.find_resources("AWS::DynamoDB::GlobalTable", {"Properties": {"TableName": name}})
    return only(tables)[1]


def test_raw_mail_bucket_is_encrypted_private_logged_and_prunes_old_versions(each_region):
    bucket = _raw_mail_bucket(each_region)

    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert any(rule.get("NoncurrentVersionExpiration") for rule in rules)


def test_oversized_downloads_and_their_old_versions_expire_after_a_day(each_region):
    rules = _raw_mail_bucket(each_region)["LifecycleConfiguration"]["Rules"]

    [rule] = [rule for rule in rules if rule.get("Prefix") == "downloads/"]
    assert rule == {
        "Id": "expire-downloads",
        "Prefix": "downloads/",
        "Status": "Enabled",
        "ExpirationInDays": 1,
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }


def test_bucket_policy_refuses_plain_http(each_region):
    each_region.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_ses_may_write_under_inbound_prefix_for_this_account_only(each_region):
    each_region.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Effect": "Allow",
                            "Action": "s3:PutObject",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Resource": {"Fn::Join": ["", [Match.any_value(), f"/{INBOUND_PREFIX}*"]]},
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ]
                )
            }
        },
    )


def test_home_stack_owns_the_global_table_with_a_replica_in_every_region(home):
    table = _global_table(home)
    properties = table["Properties"]

    assert properties["TableName"] == TABLE_NAME
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["DeletionPolicy"] == "Retain"
    assert {replica["Region"] for replica in properties["Replicas"]} == {
        HOME_REGION,
        REPLICA_REGION,
    }
    for replica in properties["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True


def test_global_table_keys_and_indexes(home):
    properties = _global_table(home)["Properties"]

    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]} == {
        name: "S" for name in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
    }
    indexes = {index["IndexName"]: index for index in properties["GlobalSecondaryIndexes"]}
    assert indexes["gsi1"]["Projection"] == {"ProjectionType": "ALL"}
    assert indexes["gsi2"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    for name, index in indexes.items():
        assert index["KeySchema"] == [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ]


def test_idempotency_table_has_powertools_keys_expiry_and_a_replica_in_every_region(home):
    properties = _global_table(home, IDEMPOTENCY_TABLE_NAME)["Properties"]

    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert {replica["Region"] for replica in properties["Replicas"]} == {
        HOME_REGION,
        REPLICA_REGION,
    }


def test_other_regions_use_their_replicas_by_name(replica):
    replica.resource_count_is("AWS::DynamoDB::GlobalTable", 0)
    replica.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"TABLE_NAME": TABLE_NAME})}},
    )
    assert function_environment(replica, "api")["IDEMPOTENCY_TABLE_NAME"] == IDEMPOTENCY_TABLE_NAME


def test_other_regions_grant_access_to_their_local_replicas(replica):
    resources = {
        "".join(part if isinstance(part, str) else "<account>" for part in arn["Fn::Join"][1])
        for statement in statements_for(replica, "api", "dynamodb:")
        for arn in as_list(statement["Resource"])
    }

    assert resources == {
        f"arn:aws:dynamodb:{REPLICA_REGION}:<account>:table/{IDEMPOTENCY_TABLE_NAME}",
        f"arn:aws:dynamodb:{REPLICA_REGION}:<account>:table/{TABLE_NAME}",
        f"arn:aws:dynamodb:{REPLICA_REGION}:<account>:table/{TABLE_NAME}/index/*",
    }


def test_home_stack_deploys_before_the_others(synthesized: SynthesizedApp):
    home_stack = synthesized.stacks[HOME_REGION]
    regional_stacks = list(synthesized.stacks.values())

    assert home_stack in synthesized.stacks[REPLICA_REGION].dependencies
    assert not [stack for stack in home_stack.dependencies if stack in regional_stacks]


def test_each_regions_bucket_has_a_name_every_other_region_can_derive(each_named_region):
    region, template = each_named_region

    assert _raw_mail_bucket(template)["BucketName"] == default_bucket_name(region)


def test_bucket_prefix_names_the_buckets_without_the_account(each_options_region):
    region, template = each_options_region

    assert _raw_mail_bucket(template)["BucketName"] == f"{BUCKET_PREFIX}-{region}"


def test_eventual_consistency_leaves_the_mode_implicit(home):
    # Stating EVENTUAL would change deployed templates; the mode of a global table is fixed.
    for table in home.find_resources("AWS::DynamoDB::GlobalTable").values():
        assert "MultiRegionConsistency" not in table["Properties"]
        assert "GlobalTableWitnesses" not in table["Properties"]


def test_strong_consistency_makes_the_metadata_table_mrsc_across_three_regions(with_options: SynthesizedApp):
    home = with_options.templates[OPTIONS_REGIONS[0]]
    properties = _global_table(home)["Properties"]

    assert properties["MultiRegionConsistency"] == "STRONG"
    assert {replica["Region"] for replica in properties["Replicas"]} == set(OPTIONS_REGIONS)
    assert "GlobalTableWitnesses" not in properties
    # The janitor still reads each replica's stream.
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_idempotency_table_stays_eventually_consistent_under_strong(with_options: SynthesizedApp):
    home = with_options.templates[OPTIONS_REGIONS[0]]
    properties = _global_table(home, IDEMPOTENCY_TABLE_NAME)["Properties"]

    assert "MultiRegionConsistency" not in properties
    assert {replica["Region"] for replica in properties["Replicas"]} == set(OPTIONS_REGIONS)


def test_strong_consistency_with_two_regions_adds_the_witness():
    # Only the table: a whole app for one property would cost seconds of synthesis.
    config = MailConfig.parse(
        regions=["us-east-1", "us-west-2"],
        hosted_domains=["example.com"],
        table_consistency="strong",
        witness_region="us-east-2",
    )
    stack = Stack(App(), "Witness", env=Environment(region="us-east-1"))
    MetadataTable(stack, "Metadata", config=config)

    properties = _global_table(Template.from_stack(stack))["Properties"]

    assert properties["MultiRegionConsistency"] == "STRONG"
    assert properties["GlobalTableWitnesses"] == [{"Region": "us-east-2"}]
    assert {replica["Region"] for replica in properties["Replicas"]} == {"us-east-1", "us-west-2"}
