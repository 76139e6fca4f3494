import json

import pytest
from aws_cdk.assertions import Match

from cdk.storage import IDEMPOTENCY_TABLE_NAME, REPLICATED_PREFIXES, TABLE_NAME

from .synthesis import (
    HOME_REGION,
    REPLICA_REGION,
    SynthesizedApp,
    actions_of,
    as_list,
    custom_resources,
    flat,
    function_environment,
    function_logical_id,
    object_prefixes,
    sdk_call,
    statements_for,
)

COMMON_ENVIRONMENT = {
    "TABLE_NAME": Match.any_value(),
    "BUCKET_NAME": Match.any_value(),
    "POWERTOOLS_METRICS_NAMESPACE": "Mail",
    "LOG_LEVEL": Match.any_value(),
}
FUNCTIONS = {
    "inbound": {"MemorySize": 1024, "Timeout": 60, "INBOUND_PREFIX": "inbound/"},
    "api": {"MemorySize": 512, "Timeout": 15},
    "delivery": {"MemorySize": 512, "Timeout": 60},
    "feedback": {"MemorySize": 512, "Timeout": 30},
    "janitor": {"MemorySize": 512, "Timeout": 60},
    "authorizer": {"MemorySize": 512, "Timeout": 10},
}
SERVICES = list(FUNCTIONS)
TABLE_WRITERS = ["inbound", "api", "delivery", "feedback", "janitor"]

# Environment variables mailcore.settings reads, by the functions that need them.
SENDING_ENVIRONMENT = {
    "api": {"DELIVERY_QUEUE_URL", "IDEMPOTENCY_TABLE_NAME"},
    "delivery": {"DELIVERY_QUEUE_URL", "CONFIGURATION_SET_NAME", "DELIVERY_ATTEMPTS"},
    "feedback": set(),
    "inbound": set(),
    "janitor": set(),
    "authorizer": set(),
}


def _delivery_queue_ref(template) -> dict:
    queue_id = template.to_json()["Outputs"]["DeliveryQueueUrl"]["Value"]["Ref"]
    return {"Ref": queue_id}


@pytest.mark.parametrize("service", SERVICES)
def test_function_shape(each_region, service):
    shape = dict(FUNCTIONS[service])
    variables = {key: shape.pop(key) for key in list(shape) if key.isupper()}

    each_region.has_resource_properties(
        "AWS::Lambda::Function",
        {
            **shape,
            "Handler": "handler.handler",
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": Match.object_like({"LogFormat": "JSON", "LogGroup": Match.any_value()}),
            "Environment": {
                "Variables": Match.object_like(
                    {**COMMON_ENVIRONMENT, **variables, "POWERTOOLS_SERVICE_NAME": service}
                )
            },
        },
    )


@pytest.mark.parametrize("service", SERVICES)
def test_each_function_gets_the_sending_settings_it_reads_and_no_others(each_region, service):
    environment = function_environment(each_region, service)
    all_sending = set().union(*SENDING_ENVIRONMENT.values())

    assert all_sending & set(environment) == SENDING_ENVIRONMENT[service]


def test_sending_settings_name_the_queue_table_and_configuration_set(each_region):
    api = function_environment(each_region, "api")
    delivery = function_environment(each_region, "delivery")
    outputs = {name: output["Value"] for name, output in each_region.to_json()["Outputs"].items()}
    configuration_set_id = next(iter(each_region.find_resources("AWS::SES::ConfigurationSet")))

    assert api["DELIVERY_QUEUE_URL"] == delivery["DELIVERY_QUEUE_URL"] == outputs["DeliveryQueueUrl"]
    assert api["IDEMPOTENCY_TABLE_NAME"] == outputs["IdempotencyTableName"]
    assert delivery["CONFIGURATION_SET_NAME"] == {"Ref": configuration_set_id}


def test_delivery_knows_its_last_try_is_the_queues_last_receive(each_region):
    delivery = function_environment(each_region, "delivery")
    (queue,) = [
        q["Properties"]
        for q in each_region.find_resources("AWS::SQS::Queue").values()
        if q["Properties"].get("RedrivePolicy") and "Delivery" in json.dumps(q["Properties"]["RedrivePolicy"])
    ]

    assert delivery["DELIVERY_ATTEMPTS"] == str(queue["RedrivePolicy"]["maxReceiveCount"]) == "5"


def test_every_function_loads_both_layers_built_for_its_runtime(each_region):
    layers = each_region.find_resources("AWS::Lambda::LayerVersion")
    functions = each_region.find_resources("AWS::Lambda::Function")

    assert len(layers) == 2
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    for service in SERVICES:
        function = functions[function_logical_id(each_region, service)]
        assert {ref["Ref"] for ref in function["Properties"]["Layers"]} == set(layers)


def test_every_log_group_expires(each_region):
    for log_group in each_region.find_resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] > 0


@pytest.mark.parametrize(
    ("service", "reads", "writes", "deletes"),
    [
        ("inbound", {"inbound/*"}, set(), False),
        ("api", {"*"}, {"outbound/*", "drafts/*", "uploads/*", "downloads/*"}, True),
        ("delivery", {"outbound/*", "drafts/*", "notices/*"}, {"notices/*"}, False),
        ("feedback", {"outbound/*"}, {"notices/*"}, False),
        ("janitor", set(), set(), False),
        ("authorizer", set(), set(), False),
    ],
)
def test_bucket_access_is_scoped_to_the_prefixes_each_function_uses(
    synthesized: SynthesizedApp, service, reads, writes, deletes
):
    template = synthesized.templates[HOME_REGION]

    read = statements_for(template, service, "s3:GetObject")
    written = statements_for(template, service, "s3:PutObject")
    deleted = statements_for(template, service, "s3:DeleteObject")

    assert object_prefixes(read) == reads
    assert object_prefixes(written) == writes
    assert bool(deleted) is deletes
    if deleted:
        assert object_prefixes(deleted) == {"*"}


@pytest.mark.parametrize("service", TABLE_WRITERS)
def test_every_function_but_the_authorizer_reads_and_writes_the_metadata_table(each_region, service):
    actions = actions_of(statements_for(each_region, service, "dynamodb:"))

    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"} <= actions


def test_authorizer_only_reads_the_metadata_table(each_region):
    actions = actions_of(statements_for(each_region, "authorizer", "dynamodb:"))

    assert {"dynamodb:GetItem", "dynamodb:Query"} <= actions
    assert not [action for action in actions if action.split(":")[1].startswith(("Put", "Update", "Delete"))]
    assert not [action for action in actions if "Write" in action]


def test_only_the_api_uses_the_idempotency_table(synthesized: SynthesizedApp):
    template = synthesized.templates[HOME_REGION]
    table_id = next(
        logical_id
        for logical_id, table in template.find_resources("AWS::DynamoDB::GlobalTable").items()
        if table["Properties"]["TableName"] == IDEMPOTENCY_TABLE_NAME
    )
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}

    def granted(service: str) -> set[str]:
        return {
            action
            for statement in statements_for(template, service, "dynamodb:")
            if table_arn in as_list(statement["Resource"])
            for action in as_list(statement["Action"])
        }

    assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= granted(
        "api"
    )
    assert [service for service in SERVICES if service != "api" and granted(service)] == []


def test_api_may_only_send_to_the_delivery_queue(each_region):
    statements = statements_for(each_region, "api", "sqs:")

    assert "sqs:SendMessage" in actions_of(statements)
    assert not {"sqs:ReceiveMessage", "sqs:DeleteMessage"} & actions_of(statements)
    assert {statement["Resource"]["Fn::GetAtt"][0] for statement in statements} == {
        _delivery_queue_ref(each_region)["Ref"]
    }


def test_delivery_may_defer_messages_on_its_own_queue(each_region):
    statements = statements_for(each_region, "delivery", "sqs:")

    assert "sqs:ChangeMessageVisibility" in actions_of(statements)
    assert "sqs:SendMessage" not in actions_of(statements)
    assert {statement["Resource"]["Fn::GetAtt"][0] for statement in statements} == {
        _delivery_queue_ref(each_region)["Ref"]
    }


def test_api_may_read_bodies_from_the_other_regions_buckets_under_replicated_prefixes(each_named_region):
    region, template = each_named_region
    other = REPLICA_REGION if region == HOME_REGION else HOME_REGION
    statements = [
        statement
        for statement in statements_for(template, "api", "s3:GetObject")
        if statement["Action"] == "s3:GetObject"
    ]

    [statement] = statements
    assert {flat(arn) for arn in statement["Resource"]} == {
        f"arn:<AWS::Partition>:s3:::mail-raw-<AWS::AccountId>-{other}/{prefix}*"
        for prefix in REPLICATED_PREFIXES
    }


def test_janitor_reads_its_regions_stream_from_the_latest_record_in_batches_of_100(each_region):
    mapping = _stream_mapping(each_region)

    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["BatchSize"] == 100
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 1 <= mapping["MaximumRetryAttempts"] <= 10
    assert "FunctionResponseTypes" not in mapping


def test_janitor_is_invoked_only_for_message_writes_and_new_tombstones(each_region):
    filters = _stream_mapping(each_region)["FilterCriteria"]["Filters"]

    assert [json.loads(entry["Pattern"]) for entry in filters] == [
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "MSG#"}]}}}},
        {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "TOMB#"}]}}}},
    ]


def test_home_janitor_reads_the_global_tables_own_stream(home):
    table_id = next(
        logical_id
        for logical_id, table in home.find_resources("AWS::DynamoDB::GlobalTable").items()
        if table["Properties"]["TableName"] == TABLE_NAME
    )

    assert _stream_mapping(home)["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}


def test_other_janitors_read_their_replicas_stream_as_dynamodb_describes_it(replica):
    [lookup] = custom_resources(replica, "DynamoDB", "describeTable")
    lookup_id = next(
        logical_id
        for logical_id, resource in replica.find_resources("Custom::AWS").items()
        if resource["Properties"] == lookup
    )
    call = sdk_call(lookup, "Create")

    assert call["parameters"] == {"TableName": TABLE_NAME}
    # A custom resource may answer at most 4 KB: only the stream ARN comes back.
    assert call["outputPaths"] == ["Table.LatestStreamArn"]
    assert sdk_call(lookup, "Update") == call
    assert _stream_mapping(replica)["EventSourceArn"] == {"Fn::GetAtt": [lookup_id, "Table.LatestStreamArn"]}


def test_janitor_may_read_the_stream_and_write_the_table(each_region):
    actions = actions_of(statements_for(each_region, "janitor", "dynamodb:"))

    assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream"} <= actions
    assert {"dynamodb:BatchGetItem", "dynamodb:DeleteItem"} <= actions


def test_janitor_failures_go_to_an_alarmed_queue_named_in_the_outputs(each_region):
    destination = _stream_mapping(each_region)["DestinationConfig"]["OnFailure"]["Destination"]
    queue_id = destination["Fn::GetAtt"][0]
    outputs = each_region.to_json()["Outputs"]

    assert each_region.to_json()["Resources"][queue_id]["Type"] == "AWS::SQS::Queue"
    assert outputs["JanitorFailuresQueueUrl"]["Value"] == {"Ref": queue_id}
    each_region.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )
    assert "sqs:SendMessage" in actions_of(statements_for(each_region, "janitor", "sqs:"))


def _stream_mapping(template) -> dict:
    mappings = template.find_resources(
        "AWS::Lambda::EventSourceMapping",
        {"Properties": {"FunctionName": {"Ref": function_logical_id(template, "janitor")}}},
    )
    assert len(mappings) == 1
    return next(iter(mappings.values()))["Properties"]
