"""Administer hosted domains, accounts, aliases and catch-alls.

Against local mode (the default; reads .local/endpoints.json written by `make run`):
    make admin ARGS="domain add example.com"
    make admin ARGS="account add carol@example.com --password 'S3cret-pass!'"
    make admin ARGS="alias add sales@example.com carol@example.com"
    make admin ARGS="catch-all set example.com carol@example.com"

Against the deployed regions (AWS credentials from the usual places; each regional stack's
outputs name its table and user pool). The table is global, so directory items are
written once, in the first region; an account's user is created in every region's pool,
so that sign-in keeps working while any one region is down:
    make admin ARGS="--regions us-east-1,eu-west-1 account add carol@example.com --password '...'"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from local.resources import (
    Resources,
    add_sign_in,
    add_user,
    use_local_environment,
    verify_sending_domain,
)
from mailcore import aws, directory
from mailcore.errors import MailError
from mailcore.repository import Table

ENDPOINTS_FILE = Path(".local/endpoints.json")


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = _parser().parse_args(argv)
    try:
        regions = [r for r in (args.regions or "").split(",") if r]
        pools = [_deployed(f"{args.stack_prefix}-{r}", r) for r in regions] or [_local()]
        print(_run(args, pools))
    except (MailError, LookupError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _run(args: argparse.Namespace, regions: list[Resources]) -> str:
    home = regions[0]
    table = Table(home.table_name, home.region)
    if args.kind == "domain":
        domain = directory.add_domain(table, args.domain)
        if not args.regions:
            verify_sending_domain(home, domain)
        return f"domain {domain} is hosted"
    if args.kind == "account":
        account_id = add_user(home, args.address, args.password)
        for other in regions[1:]:
            add_sign_in(other, args.address, args.password)
        return f"account {args.address} created with id {account_id} in {len(regions)} region(s)"
    if args.kind == "alias":
        directory.add_alias(table, args.alias, args.target)
        return f"mail for {args.alias} goes to {args.target}"
    directory.set_catch_all(table, args.domain, args.target)
    return f"unknown addresses at {args.domain} go to {args.target}"


def _local() -> Resources:
    if not ENDPOINTS_FILE.exists():
        raise LookupError(f"{ENDPOINTS_FILE} not found: start local mode with `make run` first")
    endpoints = json.loads(ENDPOINTS_FILE.read_text())
    if not endpoints.get("aws_endpoint_url"):
        raise LookupError("local mode was started without a moto port; start it with `make run`")
    resources = Resources(**{k: v for k, v in endpoints.items() if k in Resources.__dataclass_fields__})
    use_local_environment(resources)
    os.environ["MAIL_AWS_ENDPOINT_URL"] = endpoints["aws_endpoint_url"]
    aws.reset()
    return resources


def _deployed(stack: str, region: str) -> Resources:
    outputs = aws.client("cloudformation", region).describe_stacks(StackName=stack)["Stacks"][0]
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs.get("Outputs", [])}
    try:
        return Resources(
            region=region,
            table_name=values["TableName"],
            bucket_name=values["BucketName"],
            user_pool_id=values["UserPoolId"],
            client_id=values["UserPoolClientId"],
        )
    except KeyError as missing:
        raise LookupError(f"stack {stack} has no output {missing}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/admin.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--regions", help="deployed regions, comma-separated; local mode when absent")
    parser.add_argument("--stack-prefix", default="Mail", help="regional stacks are named PREFIX-REGION")
    kinds = parser.add_subparsers(dest="kind", required=True)
    domain = kinds.add_parser("domain").add_subparsers(dest="action", required=True)
    domain.add_parser("add").add_argument("domain")
    account = kinds.add_parser("account").add_subparsers(dest="action", required=True)
    adding = account.add_parser("add")
    adding.add_argument("address")
    adding.add_argument("--password", required=True)
    alias = kinds.add_parser("alias").add_subparsers(dest="action", required=True)
    alias_add = alias.add_parser("add")
    alias_add.add_argument("alias")
    alias_add.add_argument("target")
    catch_all = kinds.add_parser("catch-all").add_subparsers(dest="action", required=True)
    catch_all_set = catch_all.add_parser("set")
    catch_all_set.add_argument("domain")
    catch_all_set.add_argument("target")
    return parser


if __name__ == "__main__":
    sys.exit(main())
