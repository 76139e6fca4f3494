"""`python -m local.token ADDRESS`: print an ID token for a local account."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request

from local.resources import DEMO_PASSWORD


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=__doc__)
    parser.add_argument("address")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--api", default="http://127.0.0.1:8080")
    args = parser.parse_args()
    request = urllib.request.Request(
        f"{args.api}/local/token",
        data=json.dumps({"username": args.address, "password": args.password}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as response:
            print(json.load(response)["id_token"])
    except urllib.error.HTTPError as error:
        sys.exit(f"sign-in refused ({error.code}): {error.read().decode()}")
    except urllib.error.URLError as error:
        sys.exit(f"local mode is not answering at {args.api}: {error.reason}")


if __name__ == "__main__":
    main()
