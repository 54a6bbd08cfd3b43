"""Hash functions of the specification.

Every challenge is ``SHA256(prefix|...)`` read as a 256-bit big-endian number, reduced modulo q;
the prefixes (``pok``, ``sigmsg``, ``prove``, ``bproof0``, ``bproof1``, ``raweg``, ``sig``,
``decrypt``, ``shuffle-challenge(s)``, ``ggen``) and separators are exactly the spec's.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

__all__ = ["h_json", "join_numbers", "sha256_hex", "sha256_int"]


def sha256_int(text: str) -> int:
    """SHA256 of the UTF-8 text, as a 256-bit big-endian number."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def h_json(data: bytes) -> str:
    """``H_JSON`` of section 4.15: Base64 (no padding) of SHA256 of a serialization."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")


def join_numbers(values: Iterable[object], sep: str = ",") -> str:
    """Numbers in base 10, or group elements in their encoding, separated by ``sep``."""
    return sep.join(str(v) for v in values)
