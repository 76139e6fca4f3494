"""Entry point: ``cdk synth`` (through cdk.json) or ``python -m cdk.app`` from the repo root."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack, Validations
from cdk_nag import AwsSolutionsChecks

from cdk.config import MailConfig
from cdk.replication import ReplicationStack
from cdk.stack import MailStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
REPLICATION_STACK_NAME = "Mail-replication"


def stack_name(region: str) -> str:
    return f"Mail-{region}"


@dataclass(frozen=True)
class MailStacks:
    """The app's stacks: one per region, and with two regions or more, the replication stack."""

    regional: dict[str, MailStack]
    replication: ReplicationStack | None

    @property
    def all(self) -> list[Stack]:
        return [*self.regional.values(), *([self.replication] if self.replication else [])]


def build_app(app: App) -> MailStacks:
    """Adds the stacks to ``app`` in deploy order, and the cdk-nag checks over all of them.

    The home stack comes first (its global tables create the other regions' replicas), then
    every other region, then the replication stack, which needs every region's bucket.

    The account comes from CDK_DEFAULT_ACCOUNT, which the CDK CLI sets from the credentials in
    use. Without it the stacks stay account-agnostic (``AWS::AccountId`` is resolved at deploy
    time), so synthesis needs no credentials and no placeholder account ends up in a template.
    """
    config = MailConfig.from_node(app.node)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")

    regional = {
        region: MailStack(
            app,
            stack_name(region),
            config=config,
            env=Environment(account=account, region=region),
        )
        for region in config.regions
    }
    home = regional[config.home_region]
    for stack in regional.values():
        if stack is not home:
            stack.add_stack_dependency(home, "global table replicas come from the home stack")

    replication = None
    if len(config.regions) > 1:
        replication = ReplicationStack(
            app,
            REPLICATION_STACK_NAME,
            config=config,
            env=Environment(account=account, region=config.home_region),
        )
        for stack in regional.values():
            replication.add_stack_dependency(stack, "S3 replicates only to buckets that exist")

    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return MailStacks(regional, replication)


def cdk_json_context() -> dict[str, Any]:
    return json.loads(CDK_JSON.read_text())["context"]


def main() -> None:
    # Run by the CDK CLI, the context arrives in CDK_CONTEXT_JSON and overrides these defaults;
    # run directly, cdk.json's context still applies and the assembly goes to ./cdk.out.
    outdir = None if "CDK_OUTDIR" in os.environ else "cdk.out"
    app = App(context=cdk_json_context(), outdir=outdir)
    build_app(app)
    app.synth()


if __name__ == "__main__":
    main()
