"""What the infrastructure tests share: the test context, the synthesized app, template readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match, Template

from cdk.app import cdk_json_context
from cdk.stack import MailStack

HOME_REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"
HOSTED_DOMAINS = ["example.com", "example.org"]


def app_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context, without bundling: CDK stages no bundled asset for stacks not listed
    in ``aws:cdk:bundling-stacks``, so pip never runs and tests need no network."""
    return {**cdk_json_context(), "aws:cdk:bundling-stacks": [], **overrides}


@dataclass(frozen=True)
class SynthesizedApp:
    stacks: dict[str, MailStack]
    templates: dict[str, Template]
    assembly_dir: Path
    bundling_attempts: list[str]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def only(resources: dict[str, dict]) -> tuple[str, dict]:
    """The one (logical id, resource) in ``resources``; fails unless there is exactly one."""
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def function_logical_id(template: Template, service: str) -> str:
    """The function whose Powertools service name is ``service``."""
    environment = {"Variables": Match.object_like({"POWERTOOLS_SERVICE_NAME": service})}
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Environment": environment}})
    return only(functions)[0]


def function_environment(template: Template, service: str) -> dict[str, Any]:
    function = template.to_json()["Resources"][function_logical_id(template, service)]
    return function["Properties"]["Environment"]["Variables"]


def policy_statements(template: Template, service: str) -> list[dict]:
    """Every statement of the IAM policies attached to the role of ``service``'s function."""
    function = template.to_json()["Resources"][function_logical_id(template, service)]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    return [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def statements_for(template: Template, service: str, action_prefix: str) -> list[dict]:
    """``service``'s statements that allow any action starting with ``action_prefix``."""
    return [
        statement
        for statement in policy_statements(template, service)
        if any(action.startswith(action_prefix) for action in as_list(statement["Action"]))
    ]


def actions_of(statements: list[dict]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def object_prefixes(statements: list[dict]) -> set[str]:
    """The key patterns of bucket-object ARNs (``<bucket arn>/outbound/*`` -> ``outbound/*``)."""
    return {
        resource["Fn::Join"][1][-1].lstrip("/")
        for statement in statements
        for resource in as_list(statement["Resource"])
        if isinstance(resource, dict) and "Fn::Join" in resource
    }
