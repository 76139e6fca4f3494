"""Domain items are kept for a minute per container, so large domains are not hot keys."""

from __future__ import annotations

from mailcore import directory


def test_second_resolution_does_not_read_the_domain_again(aws, monkeypatch):
    asked: list[list[tuple[str, str]]] = []
    original = aws.table.get_many
    monkeypatch.setattr(aws.table, "get_many", lambda keys: asked.append(keys) or original(keys))

    first = directory.resolve(aws.table, ["bob@demo.test"])
    second = directory.resolve(aws.table, ["Bob+news@Demo.Test"])

    assert first == {"bob@demo.test": aws.account("bob@demo.test")}
    assert second == {"Bob+news@Demo.Test": aws.account("bob@demo.test")}
    assert ("DOMAIN#demo.test", "DOMAIN") in asked[0]
    assert ("DOMAIN#demo.test", "DOMAIN") not in asked[1]


def test_a_change_made_elsewhere_is_seen_once_the_entry_expires(aws, monkeypatch):
    # Given the domain cached without a catch-all
    assert directory.resolve(aws.table, ["ghost@demo.test"]) == {"ghost@demo.test": None}

    # When another process (another region, the admin command) sets one
    aws.table.update("DOMAIN#demo.test", "DOMAIN", {"catch_all_account": aws.account("alice@demo.test")})

    # Then it is not seen while the entry is fresh, and is seen after it expires
    assert directory.resolve(aws.table, ["ghost@demo.test"]) == {"ghost@demo.test": None}
    monkeypatch.setattr(directory, "DOMAIN_CACHE_SECONDS", 0.0)
    assert directory.resolve(aws.table, ["ghost@demo.test"]) == {
        "ghost@demo.test": aws.account("alice@demo.test")
    }


def test_a_catch_all_set_in_this_process_applies_at_once(aws):
    assert directory.resolve(aws.table, ["ghost@demo.test"]) == {"ghost@demo.test": None}

    directory.set_catch_all(aws.table, "demo.test", "alice@demo.test")

    assert directory.resolve(aws.table, ["ghost@demo.test"]) == {
        "ghost@demo.test": aws.account("alice@demo.test")
    }
