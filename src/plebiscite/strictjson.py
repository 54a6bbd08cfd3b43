"""Strict JSON, shared by every layer (like :mod:`plebiscite.errors`): duplicate keys, NaN,
Infinity and encodings other than UTF-8 are rejected; sizes are checked first, and, when the
caller bounds it, the memory the parse would take (:func:`memory_estimate`)."""

from __future__ import annotations

import json

from plebiscite._records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

from plebiscite.errors import EncodingError, SizeError

__all__ = ["dumps_compact", "loads", "memory_estimate"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise EncodingError(f"duplicate JSON key {k!r}")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise EncodingError(f"JSON constant {name} is not allowed")


# what CPython's json takes at most per token, beyond the text (64-bit): a list, its first slots
# and a number in them, a dict of a few keys, one more slot of a list or a dict and a number,
# half a string, and a key (its string, the pair the parser makes of it, its entry in the dict)
_LIST, _DICT, _COMMA, _QUOTE, _KEY = 136, 232, 48, 30, 120
_FIXED = 1 << 16  # the parser's own


def memory_estimate(data: bytes | str) -> int:
    """An upper estimate of the bytes ``json.loads(data)`` takes, counted before parsing: the
    text decoded and the strings' contents (four bytes a character unless it is ASCII), and per
    bracket, brace, comma, quote and key (a quote then a colon) the most an object costs in
    CPython. A text of empty lists or dicts takes about 25 times its size, one of long strings
    about twice; the estimate is within 1.4 to 5 times what a parse of 1 MB takes."""
    text = (2 if data.isascii() else 8) * len(data)
    if isinstance(data, bytes):
        lists, dicts = data.count(b"["), data.count(b"{")
        commas, quotes, keys = data.count(b","), data.count(b'"'), data.count(b'":')
    else:
        lists, dicts, commas, quotes, keys = (data.count(c) for c in ("[", "{", ",", '"', '":'))
    tokens = _LIST * lists + _DICT * dicts + _COMMA * commas + _QUOTE * quotes + _KEY * keys
    return _FIXED + text + tokens


def loads(
    data: bytes | str, *, max_size: int, where: str = "", max_memory: int | None = None
) -> Any:
    """Parse JSON after checking its size, and, given ``max_memory``, that the parse would take
    no more than that (:func:`memory_estimate`); errors name ``where``."""
    if len(data) > max_size:
        raise SizeError(f"{len(data)} bytes, more than the limit of {max_size}", where=where)
    if max_memory is not None and (_DICT + _KEY) * len(data) > max_memory:
        estimate = memory_estimate(data)
        if estimate > max_memory:
            raise SizeError(
                f"{len(data)} bytes whose parse would take about {estimate} bytes of memory, "
                f"more than the limit of {max_memory}",
                where=where,
            )
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
