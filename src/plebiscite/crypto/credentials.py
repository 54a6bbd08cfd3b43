"""Voter credentials (section 4.8): the 15-character secret, its checksum, its derived secret."""

from __future__ import annotations

import hashlib

from plebiscite.crypto.groups import Group
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import EncodingError

__all__ = [
    "BASE58",
    "credential_secret",
    "format_credential",
    "generate_credential",
    "parse_credential",
]

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(BASE58)}


def _checksum(first14: str) -> str:
    n = 0
    for c in first14:
        n = n * 58 + _DIGIT[c]
    return BASE58[53 - n % 53]  # in 1..53: "53 - c1 mod 53" of section 4.8


def parse_credential(text: str) -> str:
    """Check a secret credential (``XXX-XXX-XXX-XXX-XXX`` or 15 characters) and return it in
    the dashed form. A typing error is caught by the checksum."""
    raw = text.strip()
    plain = raw.replace("-", "")
    if len(plain) != 15 or any(c not in _DIGIT for c in plain):
        raise EncodingError("a credential is 15 Base58 characters, e.g. XXX-XXX-XXX-XXX-XXX")
    if raw != plain and raw != format_credential(plain):
        raise EncodingError("dashes in a credential go after every third character")
    if _checksum(plain[:14]) != plain[14]:
        raise EncodingError("credential checksum does not match: check for a typing error")
    return format_credential(plain)


def format_credential(plain: str) -> str:
    return "-".join(plain[i : i + 3] for i in range(0, 15, 3))


def credential_secret(credential: str, uuid: str, group: Group) -> int:
    """``secret(c)``: PBKDF2-HMAC-SHA256(c, salt = uuid, 1000 iterations, one block) mod q."""
    key = hashlib.pbkdf2_hmac("sha256", credential.encode(), uuid.encode(), 1000, 32)
    return int.from_bytes(key, "big") % group.q


def generate_credential(rng: RandomSource) -> str:
    """A fresh secret credential: 14 random Base58 characters and the checksum."""
    first = "".join(BASE58[int(rng.below(58))] for _ in range(14))
    return format_credential(first + _checksum(first))
