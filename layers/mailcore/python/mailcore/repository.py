"""Data access: the one place that knows the table's keys and the bucket's layout.

Item types and the access pattern each serves are described in docs/DATA-MODEL.md.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mailcore import aws, dynamo
from mailcore.errors import ConflictError, InvalidRequestError, NotFoundError, StorageError
from mailcore.settings import get_settings

BATCH_GET_LIMIT = 100  # keys per BatchGetItem request
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem request

SYSTEM_MAILBOXES = {
    "inbox": "Inbox",
    "junk": "Junk",
    "trash": "Trash",
    "sent": "Sent",
    "drafts": "Drafts",
}


def account_pk(account_id: str) -> str:
    return f"ACCT#{account_id}"


def mailbox_index_pk(account_id: str, mailbox_id: str) -> str:
    return f"MBX#{account_id}#{mailbox_id}"


def unread_index_pk(account_id: str, mailbox_id: str) -> str:
    return f"UNREAD#{account_id}#{mailbox_id}"


def message_keys(account_id: str, message_id: str) -> dict[str, str]:
    return {"pk": account_pk(account_id), "sk": f"MSG#{message_id}"}


def placement(account_id: str, message_id: str, mailbox_id: str, received_at: str, seen: bool):
    """The index attributes that put a message in a mailbox listing and its unread count."""
    values: dict[str, Any] = {
        "mailbox_id": mailbox_id,
        "gsi1pk": mailbox_index_pk(account_id, mailbox_id),
        "gsi1sk": f"{received_at}#{message_id}",
    }
    if not seen:
        values["gsi2pk"] = unread_index_pk(account_id, mailbox_id)
        values["gsi2sk"] = message_id
    return values


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


class Table:
    """The metadata table of one region."""

    def __init__(self, name: str | None = None, region: str | None = None) -> None:
        self.name = name or get_settings().table_name
        self.region = region

    @property
    def _ddb(self) -> Any:
        return aws.client("dynamodb", self.region)

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._call("get_item", Key=dynamo.to_item({"pk": pk, "sk": sk}))
        item = response.get("Item")
        return dynamo.from_item(item) if item else None

    def get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Read the items, 100 a request (BatchGetItem's limit), retrying what DynamoDB left unprocessed."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            found.update(self._get_batch(unique[start : start + BATCH_GET_LIMIT]))
        return found

    def _get_batch(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        request = {self.name: {"Keys": [dynamo.to_item({"pk": p, "sk": s}) for p, s in keys]}}
        while request:
            response = self._call("batch_get_item", RequestItems=request)
            for raw in response.get("Responses", {}).get(self.name, []):
                item = dynamo.from_item(raw)
                found[(item["pk"], item["sk"])] = item
            request = response.get("UnprocessedKeys") or {}
        return found

    def put_many(self, items: list[dict[str, Any]]) -> None:
        self._write_many([{"PutRequest": {"Item": dynamo.to_item(i)}} for i in items])

    def delete_many(self, keys: list[tuple[str, str]]) -> None:
        self._write_many([{"DeleteRequest": {"Key": dynamo.to_item({"pk": p, "sk": s})}} for p, s in keys])

    def _write_many(self, requests: list[dict[str, Any]]) -> None:
        """25 writes a request (BatchWriteItem's limit), retrying what DynamoDB left over."""
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {self.name: requests[start : start + BATCH_WRITE_LIMIT]}
            while pending:
                response = self._call("batch_write_item", RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def put_new(self, values: dict[str, Any]) -> bool:
        """Write an item unless one with the same keys exists; False when it did."""
        try:
            self._call(
                "put_item",
                Item=dynamo.to_item(values),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConflictError:
            return False
        return True

    def put(self, values: dict[str, Any]) -> None:
        self._call("put_item", Item=dynamo.to_item(values))

    def update(
        self,
        pk: str,
        sk: str,
        set_values: dict[str, Any],
        remove: list[str] | None = None,
        condition: str = "attribute_exists(pk)",
    ) -> dict[str, Any]:
        """Set and remove attributes of an existing item; NotFoundError when it is gone."""
        names = {f"#s{i}": k for i, k in enumerate(set_values)}
        names.update({f"#r{i}": k for i, k in enumerate(remove or [])})
        clauses = []
        if set_values:
            clauses.append("SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(set_values))))
        if remove:
            clauses.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove))))
        try:
            response = self._call(
                "update_item",
                Key=dynamo.to_item({"pk": pk, "sk": sk}),
                UpdateExpression=" ".join(clauses),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    f":s{i}": dynamo.value(v) for i, v in enumerate(set_values.values())
                }
                or None,
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
            )
        except ConflictError as error:
            raise NotFoundError("no such item") from error
        return dynamo.from_item(response["Attributes"])

    def delete_for_good(self, pk: str, message_id: str) -> None:
        """Delete a message and leave a tombstone, in one transaction.

        The tombstone is written once and never changed; the janitor removes any copy of the
        message that replication brings back after it, so a delete stays a delete.
        """
        tombstone = {"pk": pk, "sk": f"TOMB#{message_id}", "kind": "tombstone", "deleted_at": _now()}
        self._call(
            "transact_write_items",
            TransactItems=[
                {
                    "Delete": {
                        "TableName": self.name,
                        "Key": dynamo.to_item({"pk": pk, "sk": f"MSG#{message_id}"}),
                    }
                },
                {"Put": {"TableName": self.name, "Item": dynamo.to_item(tombstone)}},
            ],
        )

    def delete(self, pk: str, sk: str) -> None:
        self._call("delete_item", Key=dynamo.to_item({"pk": pk, "sk": sk}))

    def query_prefix(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        """Every item of a partition whose sort key starts with `prefix` (all of them for "")."""
        items: list[dict[str, Any]] = []
        # DynamoDB refuses an empty string in a key condition.
        condition, values = "pk = :pk AND begins_with(sk, :prefix)", {":pk": pk, ":prefix": prefix}
        if not prefix:
            condition, values = "pk = :pk", {":pk": pk}
        request: dict[str, Any] = {
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": dynamo.to_item(values),
        }
        while True:
            response = self._call("query", **request)
            items.extend(dynamo.from_item(i) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def query_index_page(self, index_pk: str, limit: int, cursor: str | None) -> Page:
        """A page of a mailbox listing, newest first, with an opaque cursor for the next."""
        request: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": dynamo.to_item({":pk": index_pk}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = _decode_cursor(cursor, index_pk)
        response = self._call("query", **request)
        last = response.get("LastEvaluatedKey")
        return Page(
            items=[dynamo.from_item(i) for i in response.get("Items", [])],
            cursor=_encode_cursor(last) if last else None,
        )

    def count(self, index: str, index_pk: str) -> int:
        request: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{index}pk = :pk",
            "ExpressionAttributeValues": dynamo.to_item({":pk": index_pk}),
            "Select": "COUNT",
        }
        total = 0
        while True:
            response = self._call("query", **request)
            total += response.get("Count", 0)
            if "LastEvaluatedKey" not in response:
                return total
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        if operation not in {"batch_get_item", "batch_write_item", "transact_write_items"}:
            kwargs.setdefault("TableName", self.name)
        return _translated(getattr(self._ddb, operation), **kwargs)


class Bucket:
    """The raw-message bucket of one region."""

    def __init__(self, name: str | None = None, region: str | None = None) -> None:
        self.name = name or get_settings().bucket_name
        self.region = region

    def get(self, key: str, bucket: str | None = None) -> bytes:
        s3 = aws.client("s3", self.region)
        response = _translated(s3.get_object, Bucket=bucket or self.name, Key=key)
        return response["Body"].read()

    def get_with_metadata(self, key: str) -> tuple[bytes, dict[str, str]]:
        s3 = aws.client("s3", self.region)
        response = _translated(s3.get_object, Bucket=self.name, Key=key)
        return response["Body"].read(), response.get("Metadata", {})

    def put(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        s3 = aws.client("s3", self.region)
        extra = {"Metadata": metadata} if metadata else {}
        _translated(s3.put_object, Bucket=self.name, Key=key, Body=data, **extra)

    def presigned_get(self, key: str, content_type: str, disposition: str, seconds: int) -> str:
        params = {
            "Bucket": self.name,
            "Key": key,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
        }
        return aws.presigning_client(self.region).generate_presigned_url(
            "get_object", Params=params, ExpiresIn=seconds
        )

    def delete(self, key: str, bucket: str | None = None) -> None:
        s3 = aws.client("s3", self.region)
        _translated(s3.delete_object, Bucket=bucket or self.name, Key=key)


_MISSING = {"NoSuchKey", "NoSuchBucket", "ResourceNotFoundException", "404"}
_CONFLICT = {"ConditionalCheckFailedException", "TransactionCanceledException"}


def _translated(call: Any, **kwargs: Any) -> dict[str, Any]:
    """Make the AWS call, turning ClientError codes into the service's own errors."""
    from botocore.exceptions import ClientError

    try:
        return call(**kwargs)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _MISSING:
            raise NotFoundError(code) from error
        if code in _CONFLICT:
            raise ConflictError(code) from error
        if code == "ValidationException":
            raise InvalidRequestError(error.response["Error"].get("Message", code)) from error
        raise StorageError(code) from error


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _encode_cursor(key: dict[str, Any]) -> str:
    plain = dynamo.from_item(key)
    return base64.urlsafe_b64encode(json.dumps(plain, sort_keys=True).encode()).decode()


def _decode_cursor(cursor: str, index_pk: str) -> dict[str, Any]:
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, RecursionError) as error:
        # RecursionError: a forged cursor of nested JSON arrays ("[[[[...") deeper than the parser goes.
        raise InvalidRequestError("cursor is not one this API returned") from error
    if not isinstance(plain, dict) or plain.get("gsi1pk") != index_pk:
        raise InvalidRequestError("cursor belongs to another listing")
    if not all(isinstance(plain.get(k), str) for k in ("pk", "sk", "gsi1pk", "gsi1sk")):
        raise InvalidRequestError("cursor is not one this API returned")
    return dynamo.to_item({k: plain[k] for k in ("pk", "sk", "gsi1pk", "gsi1sk")})
