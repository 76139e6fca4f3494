"""What the infrastructure tests share: the test context, the synthesized app, template readers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match, Template

from cdk.app import cdk_json_context
from cdk.replication import ReplicationStack
from cdk.stack import MailStack

HOME_REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"
HOSTED_DOMAINS = ["example.com", "example.org"]

# The second app: three regions, a strongly consistent table, and every optional piece on.
OPTIONS_REGIONS = ["us-east-1", "us-east-2", "us-west-2"]
OPTIONS_DOMAINS = ["example.com", "lists.example.com"]
ZONE_ID = "Z0123456789EXAMPLEZONE"
API_DOMAIN = "api.example.com"
BUCKET_PREFIX = "acme-mail-raw"
API_THROTTLE = {"rateLimit": 750, "burstLimit": 1500}
CERTIFICATE_ARNS = {
    region: f"arn:aws:acm:{region}:123456789012:certificate/0000000{index}-0000-0000-0000-000000000000"
    for index, region in enumerate(OPTIONS_REGIONS)
}
OPTIONS_CONTEXT = {
    "regions": OPTIONS_REGIONS,
    "hostedDomains": OPTIONS_DOMAINS,
    "tableConsistency": "strong",
    "bucketPrefix": BUCKET_PREFIX,
    "replicationTimeControl": True,
    "hostedZoneId": ZONE_ID,
    "hostedZoneName": "example.com",
    "apiDomainName": API_DOMAIN,
    "apiCertificateArns": CERTIFICATE_ARNS,
    "apiThrottle": API_THROTTLE,
}


def app_context(**overrides: Any) -> dict[str, Any]:
    """cdk.json's context, without bundling: CDK stages no bundled asset for stacks not listed
    in ``aws:cdk:bundling-stacks``, so pip never runs and tests need no network."""
    return {**cdk_json_context(), "aws:cdk:bundling-stacks": [], **overrides}


@dataclass(frozen=True)
class SynthesizedApp:
    stacks: dict[str, MailStack]
    templates: dict[str, Template]
    replication_stack: ReplicationStack | None
    replication: Template | None
    assembly_dir: Path
    bundling_attempts: list[str]


def default_bucket_name(region: str) -> dict:
    """The raw-mail bucket's name without bucketPrefix, as CloudFormation gets it."""
    return {"Fn::Join": ["", ["mail-raw-", {"Ref": "AWS::AccountId"}, f"-{region}"]]}


def custom_resources(template: Template, service: str, action: str) -> list[dict]:
    """The ``Custom::AWS`` resources whose create call is ``service.action``, parameters still tokens."""
    resources = [resource["Properties"] for resource in template.find_resources("Custom::AWS").values()]
    return [
        properties
        for properties in resources
        if _service_action(sdk_call(properties, "Create")) == (service, action)
    ]


def _service_action(call: dict) -> tuple[str, str]:
    return call["service"], call["action"]


def sdk_call(properties: dict, phase: str) -> dict:
    """One phase of a ``Custom::AWS`` resource as the provider reads it, tokens shown as ``<Ref>``."""
    return json.loads(flat(properties[phase]))


def flat(value: dict | str) -> str:
    """An ARN or name as one string, references shown as ``<Ref>`` (``<AWS::AccountId>``)."""
    if isinstance(value, str):
        return value
    return "".join(part if isinstance(part, str) else _placeholder(part) for part in value["Fn::Join"][1])


def _placeholder(token: dict) -> str:
    if "Ref" in token:
        return f"<{token['Ref']}>"
    return "<" + ".".join(token["Fn::GetAtt"]) + ">"


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
    """The key patterns of the stack's own bucket's object ARNs (``<bucket arn>/outbound/*`` ->
    ``outbound/*``); other regions' buckets, addressed by name, are left out."""
    return {
        resource["Fn::Join"][1][-1].lstrip("/")
        for statement in statements
        for resource in as_list(statement["Resource"])
        if isinstance(resource, dict) and "Fn::GetAtt" in resource.get("Fn::Join", ["", [{}]])[1][0]
    }
