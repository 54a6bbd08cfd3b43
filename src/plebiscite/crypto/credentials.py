"""Voter credentials (section 4.8), in both forms of the record:

- Belenios 3.x: 22 Base58 characters in groups of 5-6-5-6 (``XXXXX-XXXXXX-XXXXX-XXXXXX``), no
  checksum, ``secret(c) = SHA256(derive_credential|uuid|0|c) || SHA256(derive_credential|uuid|
  1|c)`` (the two digests in hexadecimal, read as one 512-bit number) ``mod q``;
- Belenios 2.0: 15 characters, the last a checksum (``XXX-XXX-XXX-XXX-XXX``),
  ``secret(c) = PBKDF2-HMAC-SHA256(c, uuid, 1000 iterations) mod q``.

Which form a credential has is told by its shape; new elections get the 3.x form.
"""

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
    "generate_legacy_credential",
    "parse_credential",
]

_GROUPS_3 = (5, 6, 5, 6)  # the 3.x form's groups of characters

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_DIGIT = {c: i for i, c in enumerate(BASE58)}


def _checksum(first14: str) -> str:
    n = 0
    for c in first14:
        n = n * 58 + _DIGIT[c]
    return BASE58[53 - n % 53]  # in 1..53: "53 - c1 mod 53" of section 4.8


def _format3(plain: str) -> str:
    out, i = [], 0
    for n in _GROUPS_3:
        out.append(plain[i : i + n])
        i += n
    return "-".join(out)


def parse_credential(text: str) -> str:
    """Check a secret credential and return it in its dashed form: the 3.x form
    (``XXXXX-XXXXXX-XXXXX-XXXXXX`` or its 22 characters) or the 2.0 one
    (``XXX-XXX-XXX-XXX-XXX`` or 15 characters, whose checksum catches a typing error)."""
    raw = text.strip()
    plain = raw.replace("-", "")
    if any(c not in _DIGIT for c in plain) or len(plain) not in (15, 22):
        raise EncodingError(
            "a credential is 22 Base58 characters, XXXXX-XXXXXX-XXXXX-XXXXXX (or, in a "
            "Belenios 2.0 election, 15: XXX-XXX-XXX-XXX-XXX)"
        )
    if len(plain) == 22:
        if raw != plain and raw != _format3(plain):
            raise EncodingError("dashes in a credential go after characters 5, 11 and 16")
        return _format3(plain)
    if raw != plain and raw != format_credential(plain):
        raise EncodingError("dashes in a credential go after every third character")
    if _checksum(plain[:14]) != plain[14]:
        raise EncodingError("credential checksum does not match: check for a typing error")
    return format_credential(plain)


def format_credential(plain: str) -> str:
    return "-".join(plain[i : i + 3] for i in range(0, 15, 3))


def credential_secret(credential: str, uuid: str, group: Group) -> int:
    """``secret(c)`` of the form of ``c`` (as given: the dashed form is what is hashed)."""
    if len(credential.replace("-", "")) == 22:
        x = "".join(
            hashlib.sha256(f"derive_credential|{uuid}|{i}|{credential}".encode()).hexdigest()
            for i in (0, 1)
        )
        return int(x, 16) % group.q
    key = hashlib.pbkdf2_hmac("sha256", credential.encode(), uuid.encode(), 1000, 32)
    return int.from_bytes(key, "big") % group.q


def generate_credential(rng: RandomSource) -> str:
    """A fresh secret credential of the 3.x form: 22 random Base58 characters (128.9 bits)."""
    return _format3("".join(BASE58[int(rng.below(58))] for _ in range(22)))


def generate_legacy_credential(rng: RandomSource) -> str:
    """A fresh secret credential of the 2.0 form: 14 random Base58 characters and the
    checksum."""
    first = "".join(BASE58[int(rng.below(58))] for _ in range(14))
    return format_credential(first + _checksum(first))
