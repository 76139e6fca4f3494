"""Address normalisation used to resolve recipients."""

from __future__ import annotations

import pytest

from mailcore import addresses


@pytest.mark.parametrize(
    ("address", "normal"),
    [
        ("bob@demo.test", "bob@demo.test"),
        ("Bob@DEMO.Test", "bob@demo.test"),
        ("  <Bob@Demo.test>  ", "bob@demo.test"),
        ('"Bob Smith" <BOB@demo.test>', "bob@demo.test"),
        ("Bob+News@Demo.Test", "bob+news@demo.test"),
    ],
)
def test_normalize(address, normal):
    assert addresses.normalize(address) == normal


@pytest.mark.parametrize(
    ("address", "untagged"),
    [
        ("bob+news@demo.test", "bob@demo.test"),
        ("Bob+News@DEMO.test", "bob@demo.test"),
        ("bob+a+b@demo.test", "bob@demo.test"),
        ("bob+@demo.test", "bob@demo.test"),
        ("bob@demo.test", "bob@demo.test"),
        ("+only-a-tag@demo.test", "+only-a-tag@demo.test"),
    ],
)
def test_without_tag(address, untagged):
    assert addresses.without_tag(address) == untagged


def test_split_at_the_last_at_sign():
    assert addresses.split("Bob@Demo.Test") == ("bob", "demo.test")
    assert addresses.split('"a@b"@demo.test')[1] == "demo.test"
