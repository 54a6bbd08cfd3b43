"""Strict JSON, shared by every layer (like :mod:`plebiscite.errors`): duplicate keys, NaN,
Infinity, encodings other than UTF-8 and strings that are not Unicode text (a lone surrogate
such as ``"\\ud800"``) are rejected; the size and the depth of nesting are checked first,
before anything is parsed. :func:`loads` is total: whatever the input, it returns a value or
raises :class:`~plebiscite.errors.EncodingError` or :class:`~plebiscite.errors.SizeError`."""

from __future__ import annotations

import json
import re
from itertools import accumulate

from plebiscite._records import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

from plebiscite.errors import EncodingError, SizeError

__all__ = ["MAX_DEPTH", "depth", "dumps_compact", "loads"]

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
# an escape that stands for a surrogate (paired ones, outside the Basic Multilingual Plane,
# are fine; lone ones are not text)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def depth(text: str) -> int:
    """The deepest nesting of arrays and objects in the JSON ``text`` (brackets inside
    strings do not count), without parsing it: the highest count of brackets opened and not
    yet closed, whichever their kinds (malformed text gets the depth its brackets reach)."""
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
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


def _lone_surrogate(value: Any) -> str | None:
    """Where (a JSON path) a string of ``value`` holds a lone surrogate; None if none does.
    Iterative: ``value`` may be as deep as :data:`MAX_DEPTH` allows."""
    todo: list[tuple[Any, str]] = [(value, "")]
    while todo:
        v, path = todo.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return path or "the value"
        elif isinstance(v, list):
            todo.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, dict):
            for k, x in v.items():
                if _SURROGATE.search(k):
                    return f"{path}: a key" if path else "a key"
                todo.append((x, f"{path}.{k}" if path else k))
    return None


def loads(data: bytes | str, *, max_size: int, where: str = "", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON after checking its size and its depth; errors name ``where``."""
    if not isinstance(data, bytes | str):
        raise EncodingError(f"expected JSON text, got {type(data).__name__}", where=where)
    if len(data) > max_size:
        raise SizeError(f"{len(data)} bytes, more than the limit of {max_size}", where=where)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")  # UTF-8 only: no BOM, no UTF-16 or UTF-32 guessing
        except UnicodeDecodeError as e:
            raise EncodingError(f"not UTF-8: {e.reason} at byte {e.start}", where=where) from None
        if data.startswith("\ufeff"):
            raise EncodingError("a byte order mark is not allowed", where=where)
    elif _SURROGATE.search(data):
        raise EncodingError("the text holds a lone surrogate: not Unicode text", where=where)
    if depth(data) > max_depth:
        raise EncodingError(
            f"arrays and objects nested more than {max_depth} deep",
            where=where,
        )
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except EncodingError as e:
        raise e.at(where) from None
    except (ValueError, RecursionError) as e:
        raise EncodingError(f"invalid JSON: {e}", where=where) from None
    if _SURROGATE_ESCAPE.search(data) and (at := _lone_surrogate(value)) is not None:
        raise EncodingError(
            f"a lone surrogate escape (\\ud800 to \\udfff unpaired) in {at}: not Unicode text",
            where=where,
        )
    return value


def dumps_compact(value: Any) -> bytes:
    """Compact serialization (no spaces), keys in the order of the Python dict."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
