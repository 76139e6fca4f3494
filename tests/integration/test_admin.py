"""The admin and re-drive commands against a running local mode, through its moto server."""

from __future__ import annotations

import json
import os
import smtplib

import pytest

from local.service import LocalService, free_port
from mailcore import aws
from scripts import admin, redrive


@pytest.fixture
def running(tmp_path, monkeypatch):
    service = LocalService(moto_port=free_port()).start()
    endpoints = tmp_path / "endpoints.json"
    service.write_endpoints(endpoints)
    monkeypatch.setattr(admin, "ENDPOINTS_FILE", endpoints)
    monkeypatch.setattr(redrive, "ENDPOINTS_FILE", endpoints)
    yield service
    service.stop()
    # The commands point the process at the moto server, as they would a fresh process.
    os.environ.pop("MAIL_AWS_ENDPOINT_URL", None)
    aws.reset()


def send(service: LocalService, recipient: str) -> None:
    raw = f"From: x@example.org\r\nTo: {recipient}\r\nSubject: admin\r\n\r\nhi\r\n".encode()
    with smtplib.SMTP(service.host, service.smtp_port) as client:
        client.sendmail("x@example.org", [recipient], raw)


def test_domain_account_alias_and_catch_all_receive_mail(running, capsys):
    # Given a domain, an account, an alias and a catch-all made with the admin command
    assert admin.main(["domain", "add", "Example.COM"]) == 0
    assert admin.main(["account", "add", "carol@example.com", "--password", "S3cret-pass!1"]) == 0
    assert admin.main(["alias", "add", "sales@example.com", "carol@example.com"]) == 0
    assert admin.main(["catch-all", "set", "example.com", "carol@example.com"]) == 0

    # When mail arrives for all three kinds of address
    for recipient in ("carol@example.com", "sales@example.com", "nobody-yet@EXAMPLE.com"):
        send(running, recipient)

    # Then carol can sign in and finds each of them
    token = running.token("carol@example.com", "S3cret-pass!1")
    assert token.count(".") == 2
    with running.scope:
        from mailcore.mailboxes import MailService

        listing = MailService(running.table, running.bucket).list_messages(
            admin.directory.account_id_for("carol@example.com"), "inbox", 10, None
        )
    assert len(listing.messages) == 3


def test_bad_input_answers_a_clear_error(running, capsys):
    assert admin.main(["alias", "add", "x@not-hosted.org", "bob@demo.test"]) == 1
    assert "not-hosted.org is not a hosted domain" in capsys.readouterr().err
    assert admin.main(["domain", "add", "no_dots"]) == 1
    assert "is not a domain name" in capsys.readouterr().err
    assert admin.main(["alias", "add", "x@demo.test", "nobody@demo.test"]) == 1
    assert "no account has the address nobody@demo.test" in capsys.readouterr().err


def test_redrive_moves_dead_letters_back(running, capsys):
    with running.scope:
        sqs = aws.client("sqs")
        sqs.send_message(QueueUrl=running.resources.delivery_dlq_url, MessageBody=json.dumps({"x": 1}))
        for poller in running.pollers:
            poller.stop()
    assert redrive.main([]) == 0
    assert "moved 1 messages" in capsys.readouterr().out
    with running.scope:
        attributes = sqs.get_queue_attributes(
            QueueUrl=running.resources.delivery_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_a_refused_password_leaves_no_account_and_the_retry_works(running, capsys):
    # Given an account add refused for its password
    assert admin.main(["account", "add", "eve@demo.test", "--password", "short"]) == 1
    assert "Password" in capsys.readouterr().err

    # Then the address takes no mail yet
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(running, "eve@demo.test")

    # And running it again with a good password completes the account
    assert admin.main(["account", "add", "eve@demo.test", "--password", "S3cret-pass!1"]) == 0
    send(running, "eve@demo.test")
    assert running.token("eve@demo.test", "S3cret-pass!1").count(".") == 2


def test_catch_all_at_an_unhosted_domain_says_so(running, capsys):
    assert admin.main(["catch-all", "set", "unhosted.org", "bob@demo.test"]) == 1
    assert "unhosted.org is not a hosted domain" in capsys.readouterr().err


def test_an_account_on_an_alias_address_is_refused_and_leaves_no_sign_in(running, capsys):
    # Given sales@ delivering to bob as an alias
    assert admin.main(["alias", "add", "sales@demo.test", "bob@demo.test"]) == 0
    capsys.readouterr()

    # When an account is added at that address
    refused = admin.main(["account", "add", "sales@demo.test", "--password", "S3cret-pass!1"])

    # Then it is refused, and no user was created that could sign in
    assert refused == 1
    assert capsys.readouterr().err.strip() == "error: sales@demo.test already belongs to another account"
    with pytest.raises(Exception, match="UserNotFoundException"):
        running.token("sales@demo.test", "S3cret-pass!1")


@pytest.mark.parametrize(
    "domain", ["bad..dom", "1.2.3.4", "[1.2.3.4]", "no_under.com", "demo.test/x", "a" * 64 + ".org"]
)
def test_a_domain_that_is_not_a_host_name_is_refused(running, capsys, domain):
    assert admin.main(["domain", "add", domain]) == 1
    assert capsys.readouterr().err.strip() == f"error: {domain!r} is not a domain name"


def test_a_domain_in_another_script_is_hosted_in_punycode(running, capsys):
    assert admin.main(["domain", "add", "B\u00fccher.Example."]) == 0
    assert capsys.readouterr().out.strip() == "domain xn--bcher-kva.example is hosted"

    assert admin.main(["account", "add", "jorg@b\u00fccher.example", "--password", "S3cret-pass!1"]) == 0
    send(running, "jorg@xn--bcher-kva.example")


@pytest.mark.parametrize(
    "alias", ["bad alias@demo.test", "a..b@demo.test", ".lead@demo.test", "line\u2028break@demo.test"]
)
def test_an_alias_that_is_not_an_address_is_refused(running, capsys, alias):
    assert admin.main(["alias", "add", alias, "bob@demo.test"]) == 1
    assert capsys.readouterr().err.strip() == f"error: {alias!r} is not a mail address"
