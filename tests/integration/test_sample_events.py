"""Every sample event in events/ goes through its function and gets the answer AWS expects."""

from __future__ import annotations

import json

from local.lambda_context import LocalContext
from mailcore import tokens
from tests.conftest import load_event
from tests.integration.helpers import deliver


def test_api_event_after_the_lambda_authorizer_lists_the_inbox(aws):
    from functions.api import handler as api_function

    deliver(aws)
    response = api_function.handler(
        load_event("api_list_messages_lambda_authorizer.json"), LocalContext("api")
    )

    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])["messages"]) == 1


def test_authorizer_refuses_the_sample_token_it_cannot_verify(aws, monkeypatch):
    from functions.authorizer import handler as authorizer_function

    # The sample's token is not signed by any pool; the registered local pool is the only issuer.
    monkeypatch.setattr(authorizer_function, "_pools", (0.0, []))
    answer = authorizer_function.handler(load_event("authorizer_request.json"), LocalContext("authorizer"))

    assert answer == {"isAuthorized": False}
    assert tokens.registered_pools(aws.table)[0].user_pool_id == aws.resources.user_pool_id


def test_delivery_job_for_a_missing_sent_copy_still_delivers(aws):
    from functions.delivery import handler as delivery_function

    event = load_event("delivery_job.json")
    job = json.loads(event["Records"][0]["body"])
    aws.bucket.put(job["raw_key"], b"From: bob@demo.test\r\nTo: alice@demo.test\r\nSubject: Hi\r\n\r\nHi\r\n")
    job["raw_bucket"] = aws.bucket.name
    event["Records"][0]["body"] = json.dumps(job)

    answer = delivery_function.handler(event, LocalContext("delivery"))

    assert answer == {"batchItemFailures": []}
    inbox = aws.api("GET", "/mailboxes/inbox/messages", aws.account("alice@demo.test")).json()
    assert [m["subject"] for m in inbox["messages"]] == ["Hi"]


def test_janitor_removes_a_message_whose_tombstone_arrived(aws):
    from functions.janitor import handler as janitor_function

    event = load_event("janitor_stream.json")
    keys = event["Records"][0]["dynamodb"]["Keys"]
    pk, sk = keys["pk"]["S"], keys["sk"]["S"]
    message_sk = sk.replace("TOMB#", "MSG#")
    aws.table.put({"pk": pk, "sk": message_sk, "kind": "message"})
    aws.table.put({"pk": pk, "sk": sk, "kind": "tombstone"})

    answer = janitor_function.handler(event, LocalContext("janitor"))

    assert answer == {"removed": 1}
    assert aws.table.get(pk, message_sk) is None


def test_authorizer_grants_a_token_from_any_registered_pool(aws, monkeypatch):
    from functions.authorizer import handler as authorizer_function
    from local import auth, resources

    # moto signs with its own bundled key; the authorizer fetches real pools' keys over HTTPS
    monkeypatch.setattr(tokens, "cognito_keys", lambda: auth.MotoKeys())
    monkeypatch.setattr(authorizer_function, "_pools", (0.0, []))
    event = load_event("authorizer_request.json")
    event["headers"]["authorization"] = (
        f"Bearer {resources.sign_in(aws.resources, 'bob@demo.test', resources.DEMO_PASSWORD)}"
    )

    answer = authorizer_function.handler(event, LocalContext("authorizer"))

    assert answer["isAuthorized"] is True
    assert answer["context"]["account_id"] == aws.account("bob@demo.test")
