"""Per-recipient delivery statuses of a sent message, each in an item of its own.

The Sent copy is changed by its owner (seen, flagged, moved) in any region, while delivery
and feedback write statuses in the region that sent it. Under global tables a whole item
replicates and the later write wins, so statuses kept inside the Sent copy could be undone
by a flag set elsewhere. Kept apart, each status item has one writer and nothing is lost;
the Sent copy holds only the recipients it was queued for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailcore.repository import Table, account_pk


def status_key(account_id: str, message_id: str, recipient: str) -> tuple[str, str]:
    return account_pk(account_id), f"DLV#{message_id}#{recipient.lower()}"


def keys(account_id: str, message_id: str, recipients: list[str]) -> list[tuple[str, str]]:
    return [status_key(account_id, message_id, r) for r in recipients]


def save(table: Table, account_id: str, message_id: str, statuses: dict[str, dict[str, str]]) -> None:
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    items = []
    for recipient, status in statuses.items():
        pk, sk = status_key(account_id, message_id, recipient)
        items.append(
            {"pk": pk, "sk": sk, "kind": "delivery_status", "recipient": recipient, "at": at, **status}
        )
    table.put_many(items)


def merged(
    queued: dict[str, Any], found: dict[tuple[str, str], dict[str, Any]], account_id: str, message_id: str
) -> dict:
    """Each recipient's latest status: its status item where one exists, else `queued`."""
    current = {}
    for recipient in queued:
        item = found.get(status_key(account_id, message_id, recipient))
        current[recipient] = _status(item) if item else {"status": "queued"}
    return current


def current(table: Table, item: dict[str, Any]) -> dict[str, dict[str, str]]:
    account_id, message_id = item["account_id"], item["message_id"]
    found = table.get_many(keys(account_id, message_id, list(item["delivery"])))
    return merged(item["delivery"], found, account_id, message_id)


def _status(item: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in item.items() if k not in {"pk", "sk", "kind", "recipient", "at"}}
