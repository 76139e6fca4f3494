"""`python -m local.send`, the README's way to put a message into local mode."""

from __future__ import annotations

import pytest

from local import send
from local.service import free_port
from tests.e2e.helpers import BOB


def test_a_message_to_a_hosted_address_is_sent(service, capsys):
    send.main(["--server", f"{service.host}:{service.smtp_port}", "--to", BOB])

    assert capsys.readouterr().out.splitlines()[-1] == "sent"


def test_an_unknown_recipient_is_reported_without_a_traceback(service):
    with pytest.raises(SystemExit) as refused:
        send.main(["--server", f"{service.host}:{service.smtp_port}", "--to", "nobody@demo.test"])

    assert str(refused.value).startswith("refused: {'nobody@demo.test': (550, ")


def test_a_closed_port_is_reported_without_a_traceback():
    port = free_port()

    with pytest.raises(SystemExit) as closed:
        send.main(["--server", f"127.0.0.1:{port}", "--to", BOB])

    assert str(closed.value).startswith(f"local mode is not answering at 127.0.0.1:{port}: ")
