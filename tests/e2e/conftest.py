"""The local stack for end-to-end tests: one LocalService per module, driven over SMTP and HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.service import LocalService
from tests.e2e.helpers import ALICE, BOB, Reader, sign_in


@pytest.fixture(scope="module")
def service() -> Iterator[LocalService]:
    started = LocalService().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def alice(service: LocalService) -> Reader:
    return sign_in(service, ALICE)


@pytest.fixture(scope="module")
def bob(service: LocalService) -> Reader:
    return sign_in(service, BOB)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the totals the corpus test recorded, where this conftest takes part in the summary."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "corpus_totals":
                terminalreporter.write_sep("-", "corpus end to end")
                terminalreporter.write_line(value)
