"""JSON shapes shared by every message parser: objects with known fields, arrays of bounded
length, small integers, strings, hashes, proofs and ciphertexts. Each check names the field it
is about and happens before any arithmetic."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from plebiscite._records import TYPE_CHECKING
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.proofs import Proof
from plebiscite.errors import EncodingError, MembershipError

if TYPE_CHECKING:
    from typing import Any, TypeVar

__all__ = [
    "LIMITS",
    "Ciphertext",
    "arr",
    "check_uuid",
    "ciphertext",
    "element_not_one",
    "hash_ref",
    "items",
    "obj",
    "proof",
    "proofs",
    "small_int",
    "string",
]

if TYPE_CHECKING:
    T = TypeVar("T")
Ciphertext = tuple[Element, Element]
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
UUID_PATTERN = re.compile(r"[1-9A-HJ-NP-Za-km-z]{14,64}\Z")


def check_uuid(uuid: str, where: str) -> str:
    """``uuid`` if it is an election uuid (14 to 64 Base58 characters), else an error naming
    what is wrong with it: the credentials of an election are bound to its uuid, so a uuid
    that the election would refuse is refused before any credential is derived from it."""
    if UUID_PATTERN.match(uuid):
        return uuid
    bad = next((c for c in uuid if c not in BASE58), None)
    if bad is not None:
        what = f"{bad!r} at position {uuid.index(bad) + 1} is not a Base58 character"
        if bad in "0OIl":
            what += " (Base58 leaves out 0, O, I and l)"
    else:
        what = f"{len(uuid)} characters, expected 14 to 64"
    raise EncodingError(f"not an election uuid: {what}", where=where)


_HASH = re.compile(r"[0-9a-f]{64}\Z")


class LIMITS:
    """Size limits applied before parsing."""

    election_bytes = 1 << 20
    questions = 256
    answers = 1024
    ballot_bytes = 1 << 20
    event_bytes = 4096
    credentials_bytes = 1 << 31
    # the memory the parse of one member of an archive may take (strictjson.memory_estimate):
    # a JSON text of empty lists or dicts takes about 25 times its size in CPython
    parse_memory = 1 << 31
    trustees = 256
    small_int = (1 << 53) - 1


# -- shape helpers ---------------------------------------------------------------------------


def obj(
    v: Any, where: str, required: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise EncodingError(f"expected a JSON object, got {_jtype(v)}", where=where)
    missing = [k for k in required if k not in v]
    if missing:
        raise EncodingError(f"missing field {missing[0]!r}", where=where)
    unknown = [k for k in v if k not in required and k not in optional]
    if unknown:
        raise EncodingError(f"unknown field {unknown[0]!r}", where=where)
    return v


def arr(v: Any, where: str, max_len: int, length: int | None = None) -> list[Any]:
    if not isinstance(v, list):
        raise EncodingError(f"expected a JSON array, got {_jtype(v)}", where=where)
    if len(v) > max_len:
        raise EncodingError(
            f"array has {len(v)} items, more than the {max_len} allowed", where=where
        )
    if length is not None and len(v) != length:
        raise EncodingError(f"array has {len(v)} items, expected {length}", where=where)
    return v


def small_int(v: Any, where: str, lo: int = 0, hi: int = LIMITS.small_int) -> int:
    if type(v) is not int:
        raise EncodingError(f"expected an integer, got {_jtype(v)}", where=where)
    if not lo <= v <= hi:
        raise EncodingError(f"integer {v} outside [{lo}, {hi}]", where=where)
    return v


def string(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise EncodingError(f"expected a string, got {_jtype(v)}", where=where)
    return v


def hash_ref(v: Any, where: str) -> str:
    if not isinstance(v, str) or not _HASH.match(v):
        raise EncodingError("expected a SHA256 hash in lowercase hexadecimal", where=where)
    return v


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(v), type(v).__name__)


def items(v: list[Any], where: str, parse: Callable[[Any, str], T]) -> tuple[T, ...]:
    return tuple(parse(x, f"{where}[{i}]") for i, x in enumerate(v))


def proof(group: Group, v: Any, where: str) -> Proof:
    o = obj(v, where, ("challenge", "response"))
    return Proof(
        group.scalar(o["challenge"], where=f"{where}.challenge"),
        group.scalar(o["response"], where=f"{where}.response"),
    )


def proofs(
    group: Group, v: Any, where: str, max_len: int, length: int | None = None
) -> tuple[Proof, ...]:
    return items(arr(v, where, max_len, length), where, lambda x, w: proof(group, x, w))


def element_not_one(group: Group, v: Any, where: str) -> Element:
    x = group.element(v, where=where)
    if x == group.one:
        raise MembershipError("the neutral element 1 is not allowed here", where=where)
    return x


def ciphertext(
    group: Group, v: Any, where: str, *, ballot: bool = False, defer_membership: bool = False
) -> Ciphertext:
    """A ciphertext; in a ballot ``alpha`` may not be 1. With ``defer_membership`` only the
    encoding (and in finite fields the range ``1 <= x < p``) is checked here: the caller must
    check membership before using the elements (``verify_iproof(..., check_membership=True)``
    does)."""
    o = obj(v, where, ("alpha", "beta"))
    if defer_membership:
        alpha = group.decode(o["alpha"], where=f"{where}.alpha")
        beta = group.decode(o["beta"], where=f"{where}.beta")
    else:
        alpha = group.element(o["alpha"], where=f"{where}.alpha")
        beta = group.element(o["beta"], where=f"{where}.beta")
    if ballot and alpha == group.one:
        raise MembershipError("the neutral element 1 is not allowed here", where=f"{where}.alpha")
    return alpha, beta
