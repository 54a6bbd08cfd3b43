"""Strict JSON, shared by every layer (like :mod:`plebiscite.errors`): duplicate keys, NaN,
Infinity and encodings other than UTF-8 are rejected; sizes are checked first."""

from __future__ import annotations

import json

from plebiscite._records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

from plebiscite.errors import EncodingError, SizeError

__all__ = ["dumps_compact", "loads"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise EncodingError(f"duplicate JSON key {k!r}")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise EncodingError(f"JSON constant {name} is not allowed")


def loads(data: bytes | str, *, max_size: int, where: str = "") -> Any:
    """Parse JSON after checking its size; errors name ``where``."""
    if len(data) > max_size:
        raise SizeError(f"{len(data)} bytes, more than the limit of {max_size}", where=where)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")  # UTF-8 only: no BOM, no UTF-16 or UTF-32 guessing
        except UnicodeDecodeError as e:
            raise EncodingError(f"not UTF-8: {e.reason} at byte {e.start}", where=where) from None
        if data.startswith("\ufeff"):
            raise EncodingError("a byte order mark is not allowed", where=where)
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except EncodingError as e:
        raise e.at(where) from None
    except (ValueError, RecursionError) as e:
        raise EncodingError(f"invalid JSON: {e}", where=where) from None


def dumps_compact(value: Any) -> bytes:
    """Compact serialization (no spaces), keys in the order of the Python dict."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
