"""Every hosted domain takes mail for its postmaster (RFC 5321, 4.5.1)."""

from __future__ import annotations

from mailcore import directory
from tests.integration.helpers import (
    deliver,
    emptied_region,  # noqa: F401 - this module's `aws`
    listing,
    message,
)


def test_postmaster_mail_goes_to_the_domains_first_account(aws, alice, bob):
    outcome = deliver(aws, message("For the postmaster", "pm-1@example.org"), ("PostMaster@demo.test",))

    assert outcome == {"PostMaster@demo.test": "stored"}
    assert [m["subject"] for m in listing(aws, alice)] == ["For the postmaster"]
    assert listing(aws, bob) == []


def test_an_alias_named_postmaster_takes_its_mail(aws, bob):
    directory.add_alias(aws.table, "postmaster@demo.test", "bob@demo.test")

    deliver(aws, message("To the alias", "pm-2@example.org"), ("postmaster@demo.test",))

    assert [m["subject"] for m in listing(aws, bob)] == ["To the alias"]


def test_a_catch_all_takes_postmaster_mail_before_the_first_account(aws, alice, bob):
    directory.set_catch_all(aws.table, "demo.test", "bob@demo.test")

    deliver(aws, message("Caught", "pm-3@example.org"), ("postmaster@demo.test",))

    assert [m["subject"] for m in listing(aws, bob)] == ["Caught"]
    assert listing(aws, alice) == []


def test_the_first_account_stays_postmaster_when_more_are_added(aws, alice):
    directory.add_account(aws.table, "carol@demo.test")

    assert directory.resolve(aws.table, ["postmaster@demo.test"]) == {"postmaster@demo.test": alice}


def test_other_role_names_are_not_taken_by_default(aws):
    assert directory.resolve(aws.table, ["abuse@demo.test"]) == {"abuse@demo.test": None}
