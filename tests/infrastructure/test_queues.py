import pytest
from aws_cdk.assertions import Match, Template

from cdk.queues import MAX_RECEIVE_COUNT

from .synthesis import function_logical_id, only

FOURTEEN_DAYS = 14 * 24 * 3600

# Each consumed queue: the function behind it, its timeout, and the outputs an operator redrives with.
CONSUMED_QUEUES = {
    "delivery": {"timeout": 60, "queue_output": "DeliveryQueueUrl", "dlq_output": "DeliveryDlqUrl"},
    "feedback": {"timeout": 30, "queue_output": "FeedbackQueueUrl", "dlq_output": "FeedbackDlqUrl"},
}


def _resource(template: Template, logical_id: str) -> dict:
    return template.to_json()["Resources"][logical_id]


def _event_source_mapping(template: Template, service: str) -> dict:
    mappings = template.find_resources(
        "AWS::Lambda::EventSourceMapping",
        {"Properties": {"FunctionName": {"Ref": function_logical_id(template, service)}}},
    )
    return only(mappings)[1]["Properties"]


def _consumed_queue_id(template: Template, service: str) -> str:
    return _event_source_mapping(template, service)["EventSourceArn"]["Fn::GetAtt"][0]


def _dead_letter_queue_id(template: Template, queue_id: str) -> str:
    redrive = _resource(template, queue_id)["Properties"]["RedrivePolicy"]
    return redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]


def _output_ref(template: Template, name: str) -> str:
    return template.to_json()["Outputs"][name]["Value"]["Ref"]


def _alarms_on(template: Template, queue_id: str, metric: str) -> list[dict]:
    alarms = template.find_resources(
        "AWS::CloudWatch::Alarm",
        {
            "Properties": {
                "MetricName": metric,
                "Namespace": "AWS/SQS",
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
            }
        },
    )
    return [alarm["Properties"] for alarm in alarms.values()]


@pytest.mark.parametrize("service", CONSUMED_QUEUES)
def test_consumer_reads_batches_and_reports_partial_failures(each_region, service):
    mapping = _event_source_mapping(each_region, service)

    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10
    assert 1 <= mapping["MaximumBatchingWindowInSeconds"] <= 5


@pytest.mark.parametrize("service", CONSUMED_QUEUES)
def test_queue_hides_a_message_for_six_function_timeouts_and_redrives_after_five_tries(each_region, service):
    queue_id = _consumed_queue_id(each_region, service)
    queue = _resource(each_region, queue_id)["Properties"]

    assert queue["VisibilityTimeout"] >= 6 * CONSUMED_QUEUES[service]["timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVE_COUNT == 5
    dead_letters = _resource(each_region, _dead_letter_queue_id(each_region, queue_id))
    assert dead_letters["Properties"]["MessageRetentionPeriod"] == FOURTEEN_DAYS


@pytest.mark.parametrize("service", CONSUMED_QUEUES)
def test_queue_keeps_jobs_fourteen_days_so_a_long_outage_loses_none(each_region, service):
    queue = _resource(each_region, _consumed_queue_id(each_region, service))["Properties"]

    assert queue["MessageRetentionPeriod"] == FOURTEEN_DAYS == 1209600


@pytest.mark.parametrize("service", CONSUMED_QUEUES)
def test_outputs_name_the_queue_and_its_dead_letter_queue_for_redrive(each_region, service):
    queue_id = _consumed_queue_id(each_region, service)
    outputs = CONSUMED_QUEUES[service]

    assert _output_ref(each_region, outputs["queue_output"]) == queue_id
    assert _output_ref(each_region, outputs["dlq_output"]) == _dead_letter_queue_id(each_region, queue_id)


def test_every_queue_is_encrypted_and_refuses_plain_http(each_region):
    queues = each_region.find_resources("AWS::SQS::Queue")
    policies = each_region.find_resources("AWS::SQS::QueuePolicy")

    # delivery and feedback with their dead-letter queues, inbound and janitor failures
    assert len(queues) == 6
    for queue_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
        assert any(
            {"Ref": queue_id} in policy["Properties"]["Queues"]
            and any(
                statement["Effect"] == "Deny"
                and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            )
            for policy in policies.values()
        ), queue_id


@pytest.mark.parametrize("service", CONSUMED_QUEUES)
def test_alarms_on_any_dead_letter_and_on_a_backlog(each_region, service):
    queue_id = _consumed_queue_id(each_region, service)
    dead_letters_id = _dead_letter_queue_id(each_region, queue_id)

    [depth] = _alarms_on(each_region, dead_letters_id, "ApproximateNumberOfMessagesVisible")
    assert depth["Threshold"] == 0
    assert depth["ComparisonOperator"] == "GreaterThanThreshold"
    [age] = _alarms_on(each_region, queue_id, "ApproximateAgeOfOldestMessage")
    assert age["Threshold"] == 15 * 60
    assert age["ComparisonOperator"] == "GreaterThanThreshold"
    assert age["Statistic"] == depth["Statistic"] == "Maximum"


def test_inbound_failures_after_retries_go_to_an_alarmed_queue(each_region):
    each_region.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": function_logical_id(each_region, "inbound")},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}},
        },
    )
    config = only(each_region.find_resources("AWS::Lambda::EventInvokeConfig"))[1]
    queue_id = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]

    assert _resource(each_region, queue_id)["Type"] == "AWS::SQS::Queue"
    assert _output_ref(each_region, "InboundFailuresQueueUrl") == queue_id
    [depth] = _alarms_on(each_region, queue_id, "ApproximateNumberOfMessagesVisible")
    assert depth["Threshold"] == 0
