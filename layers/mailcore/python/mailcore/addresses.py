"""Mail address normalisation used when resolving recipients."""

from __future__ import annotations

from email.utils import parseaddr


def normalize(address: str) -> str:
    """Lower-case the whole address and drop surrounding angle brackets and spaces.

    Domains are case-insensitive by definition; local parts are treated the same way here
    because no hosted account may differ from another by case alone.
    """
    _, bare = parseaddr(address.strip())
    return (bare or address).strip().strip("<>").lower()


def split(address: str) -> tuple[str, str]:
    local, _, domain = normalize(address).rpartition("@")
    return local, domain


def without_tag(address: str) -> str:
    """`user+tag@domain` becomes `user@domain`; other addresses are returned normalised."""
    local, domain = split(address)
    base = local.split("+", 1)[0] or local
    return f"{base}@{domain}"
