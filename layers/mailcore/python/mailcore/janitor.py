"""Keep deletes deleted under replication.

Global tables resolve conflicts per item by last writer wins, so a change made in one
region to a message that another region has just deleted can bring the message back once
both writes have replicated. Deleting a message leaves an insert-only tombstone; this
module, fed with the table's stream in every region, deletes any message that has one.
"""

from __future__ import annotations

from typing import Any

from mailcore import dynamo
from mailcore.repository import Table


def clean(records: list[dict[str, Any]], table: Table) -> int:
    """Handle a batch of stream records; returns how many resurrected messages it removed."""
    candidates = {key for r in records if _needs_check(r) and (key := _message_key(r)) is not None}
    if not candidates:
        return 0
    wanted = [
        k for pk, message_id in candidates for k in ((pk, f"MSG#{message_id}"), (pk, f"TOMB#{message_id}"))
    ]
    found = table.get_many(wanted)
    removed = 0
    for pk, message_id in candidates:
        if (pk, f"TOMB#{message_id}") in found and (pk, f"MSG#{message_id}") in found:
            table.delete(pk, f"MSG#{message_id}")
            removed += 1
    return removed


def _needs_check(record: dict[str, Any]) -> bool:
    keys = dynamo.from_item(record.get("dynamodb", {}).get("Keys", {}))
    sk = str(keys.get("sk", ""))
    if sk.startswith("MSG#"):
        return record.get("eventName") in {"INSERT", "MODIFY"}
    return sk.startswith("TOMB#") and record.get("eventName") == "INSERT"


def _message_key(record: dict[str, Any]) -> tuple[str, str] | None:
    keys = dynamo.from_item(record.get("dynamodb", {}).get("Keys", {}))
    pk, sk = str(keys.get("pk", "")), str(keys.get("sk", ""))
    _, _, message_id = sk.partition("#")
    return (pk, message_id) if pk and message_id else None
