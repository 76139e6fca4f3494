"""Acknowledging cdk-nag findings: each one named exactly as cdk-nag reports it, with a reason.

cdk-nag 3 matches acknowledgements by full finding id, so a wildcard resource has to be spelled
the way cdk-nag prints it: ``<LogicalId.Arn>/index/*`` for a GetAtt, ``<AWS::AccountId>`` for a
Ref. ``wildcard_resource`` derives that spelling from the token instead of copying logical ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def managed_policy(name: str) -> str:
    return f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]"


BASIC_EXECUTION_ROLE = managed_policy("service-role/AWSLambdaBasicExecutionRole")


def acknowledge(scope: IConstruct, findings: Mapping[str, str]) -> None:
    """Acknowledges each finding id in ``findings`` on ``scope`` and its children."""
    Validations.of(scope).acknowledge(
        *(Acknowledgment(id=finding, reason=reason) for finding, reason in findings.items())
    )


def wildcard_action(action: str) -> str:
    return f"AwsSolutions-IAM5[Action::{action}]"


def wildcard_resource(scope: IConstruct, arn: str) -> str:
    return f"AwsSolutions-IAM5[Resource::{_render(Stack.of(scope).resolve(arn))}]"


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<" + ".".join(value["Fn::GetAtt"]) + ">"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_render(part) for part in parts)
    raise ValueError(f"no cdk-nag spelling for {value!r}")
