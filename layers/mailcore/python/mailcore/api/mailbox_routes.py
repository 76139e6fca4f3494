"""Mailboxes and received messages."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from mailcore.api.app import account, download
from mailcore.mailboxes import MailService
from mailcore.models import (
    Deleted,
    Mailbox,
    MailboxList,
    MailboxRename,
    MessageChange,
    MessageDetail,
    MessagePage,
    MessageSummary,
    NewMailbox,
)
from mailcore.repository import Bucket, Table

ID = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]

router = APIGatewayHttpRouter()


def _service() -> MailService:
    return MailService(Table(), Bucket())


@router.get("/mailboxes")
def list_mailboxes() -> MailboxList:
    return MailboxList(mailboxes=_service().list_mailboxes(account()))


@router.post("/mailboxes")
def create_mailbox(body: NewMailbox) -> Response[Mailbox]:
    mailbox = _service().create_mailbox(account(), body.name)
    return Response(201, content_types.APPLICATION_JSON, mailbox)


@router.patch("/mailboxes/<mailbox_id>")
def rename_mailbox(mailbox_id: ID, body: MailboxRename) -> Mailbox:
    return _service().rename_mailbox(account(), mailbox_id, body.name)


@router.delete("/mailboxes/<mailbox_id>")
def delete_mailbox(mailbox_id: ID) -> Deleted:
    return _service().delete_mailbox(account(), mailbox_id)


@router.get("/mailboxes/<mailbox_id>/messages")
def list_messages(
    mailbox_id: ID,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> MessagePage:
    return _service().list_messages(account(), mailbox_id, limit, cursor)


@router.get("/messages/<message_id>")
def get_message(message_id: ID) -> MessageDetail:
    return _service().get_message(account(), message_id)


@router.patch("/messages/<message_id>")
def change_message(message_id: ID, body: MessageChange) -> MessageSummary:
    return _service().change_message(account(), message_id, body)


@router.delete("/messages/<message_id>")
def delete_message(message_id: ID, permanent: Annotated[bool, Query()] = False) -> Deleted:
    return _service().delete_message(account(), message_id, permanent)


# NOTE: the two download routes have no return annotation on purpose. With one, Powertools
# validates the body and serializes the bytes as UTF-8 text, which fails (a 500) on 8-bit mail
# and binary attachments; without one, bytes go out base64-encoded, as API Gateway expects.
@router.get("/messages/<message_id>/raw")
def raw_message(message_id: ID):
    data = _service().raw_message(account(), message_id)
    return download(data, "message/rfc822", f"{message_id}.eml", _spill(message_id, "raw"))


@router.get("/messages/<message_id>/attachments/<index>")
def attachment(message_id: ID, index: Annotated[int, Path(ge=0, le=10_000)]):
    described, data = _service().attachment(account(), message_id, index)
    return download(data, described.content_type, described.filename, _spill(message_id, str(index)))


def _spill(message_id: str, part: str) -> str:
    """Where a download too large for a response is put; the bucket expires these in a day."""
    return f"downloads/{account()}/{message_id}/{part}"
