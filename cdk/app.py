"""Entry point: ``cdk synth`` (through cdk.json) or ``python -m cdk.app`` from the repo root."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from cdk.config import MailConfig
from cdk.stack import MailStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def stack_name(region: str) -> str:
    return f"Mail-{region}"


def build_app(app: App) -> dict[str, MailStack]:
    """Adds one stack per configured region to ``app`` and the cdk-nag checks over all of them.

    The account comes from CDK_DEFAULT_ACCOUNT, which the CDK CLI sets from the credentials in
    use. Without it the stacks stay account-agnostic (``AWS::AccountId`` is resolved at deploy
    time), so synthesis needs no credentials and no placeholder account ends up in a template.
    """
    config = MailConfig.from_node(app.node)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")

    stacks = {
        region: MailStack(
            app,
            stack_name(region),
            config=config,
            env=Environment(account=account, region=region),
        )
        for region in config.regions
    }
    home = stacks[config.home_region]
    for stack in stacks.values():
        if stack is not home:
            # The home stack's global tables create this region's replicas.
            stack.add_stack_dependency(home, "global table replicas come from the home stack")

    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stacks


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
