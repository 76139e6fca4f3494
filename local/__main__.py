"""`python -m local`: run the whole service on this machine until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from local.resources import DEMO_ACCOUNTS, DEMO_PASSWORD
from local.service import LocalService

ENDPOINTS_FILE = Path(".local/endpoints.json")


def main() -> None:
    args = _arguments()
    os.environ.setdefault("LOG_LEVEL", args.log_level)
    service = LocalService(
        region=args.region,
        host=args.host,
        smtp_port=args.smtp_port,
        http_port=args.http_port,
        moto_port=args.moto_port,
        bounce=set(args.bounce),
        complain=set(args.complain),
        transient_failure_rate=args.ses_failure_rate,
    ).start()
    service.write_endpoints(ENDPOINTS_FILE)
    print(_banner(service), flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--moto-port", type=int, default=5001)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument(
        "--bounce",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="SES answers mail to it with a bounce",
    )
    parser.add_argument(
        "--complain", action="append", default=[], metavar="ADDRESS", help="its recipient complains"
    )
    parser.add_argument(
        "--ses-failure-rate", type=float, default=0.0, help="share of SES calls that fail with throttling"
    )
    return parser.parse_args()


def _banner(service: LocalService) -> str:
    http = f"http://{service.host}:{service.http_port}"
    alice, bob = DEMO_ACCOUNTS
    return f"""
Local mail service is running (Ctrl-C stops it; all data lives in memory).

  SMTP   {service.host}:{service.smtp_port}   hosted domain demo.test, accounts {alice}, {bob}
  HTTP   {http}   (OpenAPI document at {http}/openapi.json, with a token)
  AWS    http://{service.host}:{service.moto_port}   (moto; endpoints in {ENDPOINTS_FILE})

Send a message:
  .venv/bin/python -m local.send --server {service.host}:{service.smtp_port} --to {bob} \\
      --subject "Hello" --body "First message"
  (or any SMTP client: swaks --server {service.host}:{service.smtp_port} --to {bob})

Get a token (password {DEMO_PASSWORD}) and read the inbox:
  TOKEN=$(.venv/bin/python -m local.token {bob} --api {http})
  curl -s -H "Authorization: Bearer $TOKEN" {http}/mailboxes
  curl -s -H "Authorization: Bearer $TOKEN" {http}/mailboxes/inbox/messages

Send through the API (to the other demo account, or anywhere: outside mail is kept by moto's SES):
  curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' {http}/outbox \\
    -d '{{"to": ["{alice}"], "subject": "Hi Alice", "text": "From Bob"}}'
  curl -s {http}/local/outbox          # what left for other domains
  (bounce@simulator.amazonses.com bounces, complaint@simulator.amazonses.com complains)
"""


if __name__ == "__main__":
    main()
