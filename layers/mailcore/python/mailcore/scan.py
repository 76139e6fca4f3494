"""Spam and virus verdicts for mail that does not pass through SES receiving.

SES scans what it receives; mail between hosted accounts never reaches SES, and local
mode has no SES, so both use these stand-ins: the industry's test strings (GTUBE for spam,
EICAR for viruses) give FAIL, anything else PASS.
"""

from __future__ import annotations

GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def verdicts(raw: bytes, authenticated: bool = False) -> dict[str, str]:
    """SPF, DKIM and DMARC need DNS: PASS for our own senders, GRAY for everyone else."""
    sender_auth = "PASS" if authenticated else "GRAY"
    return {
        "spam": "FAIL" if GTUBE in raw else "PASS",
        "virus": "FAIL" if EICAR in raw else "PASS",
        "spf": sender_auth,
        "dkim": sender_auth,
        "dmarc": sender_auth,
    }
