"""Strict JSON, shared by every layer (like :mod:`plebiscite.errors`): duplicate keys, NaN,
Infinity, encodings other than UTF-8 and strings that are not Unicode text (a lone surrogate
such as ``"\\ud800"``) are rejected; the size, the depth of nesting and, when the caller bounds
it, the memory the parse would take (:func:`memory_estimate`) are checked first, before
anything is parsed. :func:`loads` is total: whatever the input, it returns a value or raises
:class:`~plebiscite.errors.EncodingError` or :class:`~plebiscite.errors.SizeError`."""

from __future__ import annotations

import json
import re
from itertools import accumulate

from plebiscite._records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

from plebiscite.errors import EncodingError, SizeError

__all__ = ["MAX_DEPTH", "depth", "dumps_compact", "loads", "memory_estimate"]

MAX_DEPTH = 64
"""Arrays and objects nested deeper than this are refused before parsing: no message of the
protocol comes near (a 3.x threshold ceremony's, the deepest, nests 9 levels, JSON texts
inside strings included), and every value that passes can be walked without recursion
limits."""

# a JSON string (its escapes included), or one bracket outside strings
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_STRINGS = re.compile(_STRING, re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_QUOTED = re.compile(r'"[^"]*"?')
# an escape that stands for a surrogate (paired ones, outside the Basic Multilingual Plane,
# are fine; lone ones are not text)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def depth(text: str | bytes) -> int:
    """The deepest nesting of arrays and objects in the JSON ``text`` (brackets inside
    strings do not count), without parsing it: the highest count of brackets opened and not
    yet closed, whichever their kinds (malformed text gets the depth its brackets reach)."""
    if isinstance(text, bytes):
        if b'\\"' not in text:  # every quote opens or closes a string: C speed throughout
            structure = text.translate(None, _NOT_STRUCTURE).decode("ascii")
            return _bracket_depth(_QUOTED.sub("", structure))
        text = text.decode("utf-8", "replace")
    if '\\"' in text:  # a quote inside a string: the strings found one by one
        return _bracket_depth(_NOT_BRACKETS.sub("", _STRINGS.sub("", text)))
    return _bracket_depth(_NOT_BRACKETS.sub("", "".join(text.split('"')[0::2])))


def _bracket_depth(brackets: str) -> int:
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


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


def _lone_surrogate(value: Any) -> tuple[str, bool] | None:
    """Where (a JSON path: ``a.b[2]``, '' for the value itself) a string of ``value`` holds a
    lone surrogate, and whether it is a key there; None if none does. Iterative: ``value``
    may be as deep as :data:`MAX_DEPTH` allows."""
    todo: list[tuple[Any, str]] = [(value, "")]
    while todo:
        v, path = todo.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return path, False
        elif isinstance(v, list):
            todo.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                if _SURROGATE.search(k):
                    return path, True
                todo.append((x, f"{path}.{k}" if path else k))
    return None


def _joined(where: str, path: str) -> str:
    if not path:
        return where
    if not where or path.startswith("["):
        return f"{where}{path}"
    return f"{where}.{path}"


def loads(
    data: bytes | str,
    *,
    max_size: int,
    where: str = "",
    max_memory: int | None = None,
    max_depth: int = MAX_DEPTH,
) -> Any:
    """Parse JSON after checking its size, its depth and, given ``max_memory``, that the parse
    would take no more than that (:func:`memory_estimate`); errors name ``where``."""
    if not isinstance(data, bytes | str):
        raise EncodingError(f"expected JSON text, got {type(data).__name__}", where=where)
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
    if depth(data) > max_depth:
        raise EncodingError(f"arrays and objects nested more than {max_depth} deep", where=where)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")  # UTF-8 only: no BOM, no UTF-16 or UTF-32 guessing
        except UnicodeDecodeError as e:
            raise EncodingError(f"not UTF-8: {e.reason} at byte {e.start}", where=where) from None
        if data.startswith("\ufeff"):
            raise EncodingError("a byte order mark is not allowed", where=where)
    elif _SURROGATE.search(data):
        raise EncodingError("the text holds a lone surrogate: not Unicode text", where=where)
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except EncodingError as e:
        raise e.at(where) from None
    except (ValueError, RecursionError) as e:
        raise EncodingError(f"invalid JSON: {e}", where=where) from None
    if "\\u" in data and _SURROGATE_ESCAPE.search(data):
        found = _lone_surrogate(value)
        if found is not None:
            path, key = found
            raise EncodingError(
                f"{'a key holds' if key else 'not Unicode text:'} a lone surrogate escape "
                "(\\ud800 to \\udfff unpaired)",
                where=_joined(where, path),
            )
    return value


def dumps_compact(value: Any) -> bytes:
    """Compact serialization (no spaces), keys in the order of the Python dict."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
