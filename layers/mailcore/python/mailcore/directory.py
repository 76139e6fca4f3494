"""Hosted domains, accounts, aliases and catch-alls, and resolving a recipient to an account."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime

from mailcore import addresses
from mailcore.errors import ConflictError, InvalidRequestError, NotFoundError
from mailcore.repository import SYSTEM_MAILBOXES, Table, account_pk


def domain_key(domain: str) -> tuple[str, str]:
    return f"DOMAIN#{_ascii(domain)}", "DOMAIN"


def _ascii(domain: str) -> str:
    """A domain as its item is named: lower case, punycode for other scripts; as given if not IDNA."""
    domain = domain.lower()
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def address_key(address: str) -> tuple[str, str]:
    return f"ADDR#{canonical(address)}", "ADDR"


def canonical(address: str) -> str:
    """An address as the directory and the user pools name it: lower case, punycode domain."""
    local, domain = addresses.split(address)
    return f"{local}@{_ascii(domain)}" if local else addresses.normalize(address)


def account_id_for(address: str) -> str:
    """Accounts are named after the address they were created with, so a retry is harmless."""
    digest = hashlib.sha256(addresses.normalize(address).encode()).hexdigest()
    return f"a{digest[:20]}"


def resolve(table: Table, recipients: list[str]) -> dict[str, str | None]:
    """Map each recipient to the account that receives its mail, in one batch read.

    Order of precedence: the exact address, the address without its `+tag`, the domain's
    catch-all. A recipient at a domain we do not host resolves to None.
    """
    cached = {d: _cached_domain(table, d) for d in {addresses.split(r)[1] for r in recipients}}
    wanted = [k for r in recipients for k in lookup_keys(r) if k[0] != "DOMAIN#" + addresses.split(r)[1]]
    wanted += [domain_key(d) for d, hit in cached.items() if hit is None]
    found = table.get_many(wanted)
    for domain, hit in cached.items():
        item = found.get(domain_key(domain)) if hit is None else hit[1]
        if hit is None:
            _domains[(table.name, domain)] = (time.monotonic(), item)
        if item is not None:
            found[domain_key(domain)] = item
    return {r: account_from(r, found) for r in recipients}


# Every message reads its recipients' domain items; a few large domains would make them hot
# keys. They change rarely (a catch-all set, a domain added), so each container keeps them
# for a minute: such a change reaches receiving within a minute.
DOMAIN_CACHE_SECONDS = 60.0
_domains: dict[tuple[str, str], tuple[float, dict | None]] = {}


def _cached_domain(table: Table, domain: str) -> tuple[float, dict | None] | None:
    hit = _domains.get((table.name, domain))
    if hit is None or time.monotonic() - hit[0] > DOMAIN_CACHE_SECONDS:
        return None
    return hit


def forget_cached_domains() -> None:
    """Changes made in this process take effect at once; tests start from nothing."""
    _domains.clear()


def lookup_keys(recipient: str) -> list[tuple[str, str]]:
    """The items that decide where a recipient's mail goes, for a batch read with others."""
    return [
        address_key(recipient),
        address_key(addresses.without_tag(recipient)),
        domain_key(addresses.split(recipient)[1]),
    ]


def account_from(recipient: str, found: dict) -> str | None:
    domain = found.get(domain_key(addresses.split(recipient)[1]))
    if domain is None:
        return None
    for key in (address_key(recipient), address_key(addresses.without_tag(recipient))):
        if key in found:
            return found[key]["account_id"]
    if domain.get("catch_all_account"):
        return domain["catch_all_account"]
    # Every domain takes mail for its postmaster (RFC 5321, 4.5.1), in any case.
    if addresses.split(recipient)[0].casefold() == "postmaster":
        return domain.get("postmaster_account")
    return None


def add_domain(table: Table, domain: str) -> str:
    """Host a domain; returns its name as stored (lower case, ASCII)."""
    domain = _valid_domain(domain)
    pk, sk = domain_key(domain)
    table.put_new({"pk": pk, "sk": sk, "kind": "domain", "domain": domain, "created_at": _now()})
    forget_cached_domains()
    return domain


def add_account(table: Table, address: str) -> str:
    """Create the account, its address and its system mailboxes; returns the account id.

    The first account of a domain also receives its postmaster's mail, until an alias or an
    account named postmaster takes it.
    """
    address, domain = _hosted(table, address)
    account_id = account_id_for(address)
    pk, sk = address_key(address)
    if not table.put_new({"pk": pk, "sk": sk, "kind": "address", "account_id": account_id}):
        existing = table.get(pk, sk) or {}
        if existing.get("account_id") != account_id:
            raise ConflictError(f"{address} already belongs to another account")
    table.put_new(
        {
            "pk": account_pk(account_id),
            "sk": "ACCOUNT",
            "kind": "account",
            "account_id": account_id,
            "address": address,
            "created_at": _now(),
        }
    )
    for mailbox_id, name in SYSTEM_MAILBOXES.items():
        table.put_new(
            {
                "pk": account_pk(account_id),
                "sk": f"MBX#{mailbox_id}",
                "kind": "mailbox",
                "mailbox_id": mailbox_id,
                "name": name,
                "role": mailbox_id,
                "created_at": _now(),
            }
        )
    if not domain.get("postmaster_account"):
        table.update(domain["pk"], domain["sk"], {"postmaster_account": account_id})
        forget_cached_domains()
    return account_id


def add_alias(table: Table, alias: str, target: str) -> str:
    """Deliver mail for `alias` to the account that owns `target`."""
    account_id = _account_of_address(table, target)
    alias = hosted_address(table, alias)
    pk, sk = address_key(alias)
    if not table.put_new({"pk": pk, "sk": sk, "kind": "alias", "account_id": account_id}):
        raise ConflictError(f"{alias} is already in use")
    return account_id


def set_catch_all(table: Table, domain: str, target: str) -> str:
    account_id = _account_of_address(table, target)
    pk, sk = domain_key(_valid_domain(domain))
    if table.get(pk, sk) is None:
        raise NotFoundError(f"{domain} is not a hosted domain; add it first")
    table.update(pk, sk, {"catch_all_account": account_id})
    forget_cached_domains()
    return account_id


def _account_of_address(table: Table, address: str) -> str:
    item = table.get(*address_key(address))
    if item is None:
        raise NotFoundError(f"no account has the address {address}")
    return item["account_id"]


def free_for_account(table: Table, address: str) -> str:
    """The address, at a hosted domain and not yet another account's or an alias."""
    address = hosted_address(table, address)
    item = table.get(*address_key(address))
    if item is not None and item.get("account_id") != account_id_for(address):
        raise ConflictError(f"{address} already belongs to another account")
    return address


def hosted_address(table: Table, address: str) -> str:
    return _hosted(table, address)[0]


def _hosted(table: Table, address: str) -> tuple[str, dict]:
    """The address as the directory names it, and its domain's item; refused if not hosted."""
    local, domain = addresses.split(address)
    if not domain or not _LOCAL_PART.fullmatch(local) or not local.isprintable():
        raise InvalidRequestError(f"{address!r} is not a mail address")
    item = table.get(*domain_key(domain))
    if item is None:
        raise NotFoundError(f"{domain} is not a hosted domain; add it first")
    return canonical(address), item


# The part before the @ of a hosted address: dot-separated atoms (RFC 5322), which may hold
# UTF-8 letters (RFC 6531), at most 64 octets; no spaces, quotes, controls or empty atoms.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LOCAL_PART = re.compile(rf"(?=.{{1,64}}$){_ATOM}(\.{_ATOM})*")

# A host name of two labels or more, each of letters, digits and inner hyphens, ending in a
# name (not a number): what SES receives mail for and DNS publishes MX records under.
_DOMAIN_NAME = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)


def _valid_domain(domain: str) -> str:
    """The domain in lower case and ASCII; names in other scripts become punycode."""
    ascii_name = _ascii(domain.strip().rstrip("."))
    if not _DOMAIN_NAME.fullmatch(ascii_name):
        raise InvalidRequestError(f"{domain!r} is not a domain name")
    return ascii_name


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
