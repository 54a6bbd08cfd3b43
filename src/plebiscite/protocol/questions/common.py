"""What the kinds of question share: answers as JSON strings, ciphertexts and proofs in the
spec's field order, products of ciphertexts and the statement string ``S``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plebiscite._records import TYPE_CHECKING
from plebiscite.crypto.group import Group
from plebiscite.crypto.proofs import Proof
from plebiscite.errors import EncodingError
from plebiscite.protocol.jsonvalues import LIMITS, Ciphertext, arr, items

if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "answers_of",
    "ciphertext_json",
    "ciphertexts_text",
    "ordered",
    "product",
    "proof_json",
    "proof_of_json",
]


def answers_of(v: Any, where: str, text: Callable[[Any, str], str]) -> tuple[str, ...]:
    w = f"{where}.answers"
    a = arr(v, w, LIMITS.answers)
    if not a:
        raise EncodingError("a question needs at least one answer", where=w)
    return items(a, w, text)


def ordered(o: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: o[k] for k in keys if k in o}


def ciphertext_json(c: dict[str, Any]) -> dict[str, Any]:
    """A ciphertext of a ballot as given, in the spec's field order."""
    return ordered(c, ("alpha", "beta"))


def proof_of_json(p: dict[str, Any]) -> dict[str, Any]:
    """A proof of a ballot as given, in the spec's field order."""
    return ordered(p, ("challenge", "response"))


def proof_json(p: Proof) -> dict[str, str]:
    return {"challenge": str(p.challenge), "response": str(p.response)}


def ciphertexts_text(cts: Sequence[Ciphertext]) -> str:
    """``alpha,beta`` of each ciphertext, separated by commas (the end of the statement ``S``
    of overall, blank and list proofs)."""
    return ",".join(f"{a},{b}" for a, b in cts)


def product(cts: Sequence[Ciphertext], group: Group) -> Ciphertext:
    return group.product(x for x, _ in cts), group.product(y for _, y in cts)
