"""`python -m local.send`: send one message to the local SMTP listener."""

from __future__ import annotations

import argparse
import smtplib
import sys
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.send", description=__doc__)
    parser.add_argument("--server", default="127.0.0.1:2525")
    parser.add_argument("--from", dest="sender", default="someone@example.org")
    parser.add_argument("--to", required=True, action="append")
    parser.add_argument("--subject", default="Hello from local mode")
    parser.add_argument("--body", default="It works.")
    args = parser.parse_args(argv)
    message = EmailMessage()
    message["From"] = args.sender
    message["To"] = ", ".join(args.to)
    message["Subject"] = args.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=args.sender.rpartition("@")[2] or None)
    message.set_content(args.body)
    host, _, port = args.server.partition(":")
    try:
        with smtplib.SMTP(host, int(port or 25)) as client:
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        sys.exit(f"refused: {error.recipients}")
    except (OSError, smtplib.SMTPException) as error:
        sys.exit(f"local mode is not answering at {args.server}: {error}")
    print("sent" if not refused else f"refused: {refused}")


if __name__ == "__main__":
    main()
