import pytest
from aws_cdk.assertions import Match, Template

from .synthesis import HOME_REGION, SynthesizedApp

COMMON_ENVIRONMENT = {
    "TABLE_NAME": Match.any_value(),
    "BUCKET_NAME": Match.any_value(),
    "POWERTOOLS_METRICS_NAMESPACE": "Mail",
    "LOG_LEVEL": Match.any_value(),
}
FUNCTIONS = {
    "inbound": {
        "MemorySize": 1024,
        "Timeout": 60,
        "Environment": {
            "Variables": Match.object_like(
                {
                    **COMMON_ENVIRONMENT,
                    "INBOUND_PREFIX": "inbound/",
                    "POWERTOOLS_SERVICE_NAME": "inbound",
                }
            )
        },
    },
    "api": {
        "MemorySize": 512,
        "Timeout": 15,
        "Environment": {
            "Variables": Match.object_like({**COMMON_ENVIRONMENT, "POWERTOOLS_SERVICE_NAME": "api"})
        },
    },
}


def _function_logical_id(template: Template, service: str) -> str:
    found = template.find_resources(
        "AWS::Lambda::Function",
        {
            "Properties": {
                "Environment": {
                    "Variables": Match.object_like({"POWERTOOLS_SERVICE_NAME": service})
                }
            }
        },
    )
    assert len(found) == 1
    return next(iter(found))


def _policy_statements(template: Template, service: str) -> list[dict]:
    function = template.to_json()["Resources"][_function_logical_id(template, service)]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}}
    )
    return [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: str | list) -> list:
    return value if isinstance(value, list) else [value]


def _s3_statements(template: Template, service: str) -> list[dict]:
    return [
        statement
        for statement in _policy_statements(template, service)
        if any(action.startswith("s3:") for action in _as_list(statement["Action"]))
    ]


@pytest.mark.parametrize("service", FUNCTIONS)
def test_function_shape(each_region, service):
    each_region.has_resource_properties(
        "AWS::Lambda::Function",
        {
            **FUNCTIONS[service],
            "Handler": "handler.handler",
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "TracingConfig": {"Mode": "Active"},
            "LoggingConfig": Match.object_like(
                {"LogFormat": "JSON", "LogGroup": Match.any_value()}
            ),
        },
    )


def test_both_functions_load_both_layers_built_for_their_runtime(each_region):
    layers = each_region.find_resources("AWS::Lambda::LayerVersion")
    functions = each_region.find_resources("AWS::Lambda::Function")

    assert len(layers) == 2
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    for service in FUNCTIONS:
        function = functions[_function_logical_id(each_region, service)]
        assert {ref["Ref"] for ref in function["Properties"]["Layers"]} == set(layers)


def test_every_log_group_expires(each_region):
    for log_group in each_region.find_resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] > 0


def test_inbound_reads_only_inbound_objects_and_never_deletes(synthesized: SynthesizedApp):
    statements = _s3_statements(synthesized.templates[HOME_REGION], "inbound")

    object_arns = [
        resource
        for statement in statements
        for resource in _as_list(statement["Resource"])
        if "Fn::Join" in resource
    ]
    assert object_arns
    assert all(arn["Fn::Join"][1][-1] == "/inbound/*" for arn in object_arns)
    actions = [action for statement in statements for action in _as_list(statement["Action"])]
    assert not [action for action in actions if action.startswith("s3:Delete")]


def test_api_may_read_and_delete_any_object(synthesized: SynthesizedApp):
    statements = _s3_statements(synthesized.templates[HOME_REGION], "api")

    actions = {action for statement in statements for action in _as_list(statement["Action"])}
    assert {"s3:GetObject*", "s3:DeleteObject*"} <= actions


def test_both_functions_read_and_write_the_table(each_region):
    for service in FUNCTIONS:
        actions = {
            action
            for statement in _policy_statements(each_region, service)
            for action in _as_list(statement["Action"])
        }
        assert {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"} <= actions
