"""Malformed variants of a valid message, by class: every parser must refuse each of them with
its own error (an HTTP 4xx, a :class:`plebiscite.errors.PlebisciteError`, a finding of the
verifier), never crash.

A message is bytes holding one JSON value, or several on their own lines (a shuffle and its
owned wrapper, a ceremony's ``.jsons`` file). :func:`mutants` makes its variants:

- ``surrogate``: a string, or an object key, at some place of the value replaced by one
  holding a lone surrogate (``"\\ud800"``, escaped as JSON escapes it);
- ``type``: the value at some place replaced by one of another JSON type (null, a boolean,
  numbers, a string, an array, an object), or wrapped in an array;
- ``deep``: the value at some place replaced by arrays or objects nested far deeper than any
  message (200 and 100 000 levels);
- ``shape``: a key removed, or an unknown key added;
- ``bytes``: damage to the raw text (not UTF-8, a byte order mark, truncated, trailing
  garbage, an encoded surrogate, empty, another JSON value altogether).

Places are every value of the message, and every value inside a string that holds JSON
text (a certificate's signed message, an election inside a setup, ...), at any depth.

The fuzzing tests run a few tens of seconds in the suite; ``PLEBISCITE_FUZZ_SCALE=N`` (``./dev
fuzz``: 20) multiplies what each tries by N (:func:`examples`).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["KINDS", "SCALE", "Mutant", "examples", "mutants", "places"]

SCALE = max(1, int(os.environ.get("PLEBISCITE_FUZZ_SCALE", "1")))


def examples(n: int) -> int:
    """How many cases a fuzzing test that tries ``n`` in the suite tries now."""
    return n * SCALE


KINDS = ("surrogate", "type", "deep", "shape", "bytes")

#: a place in a value: keys and indexes from the top, a ``str`` step ``"<json>"`` entering a
#: string that holds JSON text
Path = tuple[Any, ...]
JSON_TEXT = "<json>"

WRONG_TYPES: tuple[Any, ...] = (None, True, False, 0, -1, 2**64, 1.5, -0.0, "", "x", [], {})
DEEP_ARRAY = "[" * 200 + "]" * 200
DEEP_OBJECT = '{"a":' * 200 + "0" + "}" * 200
VERY_DEEP = "[" * 100_000 + "]" * 100_000


@dataclass(frozen=True)
class Mutant:
    kind: str
    where: str  # what was changed, for the failure message
    body: bytes


def _as_json(text: str) -> Any:
    """The value of ``text`` if it is a JSON array or object, else None."""
    if not text or text[0] not in "[{":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


def places(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every place of ``value`` (itself first), entering strings that hold JSON text."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from places(v, (*path, i))
    elif isinstance(value, str):
        inner = _as_json(value)
        if inner is not None:
            yield from places(inner, (*path, JSON_TEXT))


def _replace(value: Any, path: Path, fn: Callable[[Any], Any]) -> Any:
    """``value`` with the value at ``path`` replaced by ``fn(old)`` (a copy along the path;
    a JSON text is written back compact, non-ASCII characters escaped)."""
    if not path:
        return fn(value)
    step, rest = path[0], path[1:]
    if step == JSON_TEXT:
        return _dumps(_replace(_as_json(value), rest, fn))
    if isinstance(value, dict):
        return {**value, step: _replace(value[step], rest, fn)}
    out = list(value)
    out[step] = _replace(value[step], rest, fn)
    return out


class _Raw:
    """JSON text to put as it is in place of a value (nesting deeper than ``json.dumps``
    writes)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _dumps(value: Any) -> str:
    raws: list[str] = []

    def default(o: Any) -> Any:
        if isinstance(o, _Raw):
            raws.append(o.text)
            return f"\x00raw{len(raws) - 1}\x00"
        raise TypeError(type(o).__name__)

    text = json.dumps(value, separators=(",", ":"), default=default)
    for i, raw in enumerate(raws):
        text = text.replace(f'"\\u0000raw{i}\\u0000"', raw)
    return text


def _name(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "(top)"


def _value_mutants(here: Any, where: str) -> Iterator[tuple[str, str, Callable[[Any], Any]]]:
    """The changes of the value ``here`` (at ``where``): kind, what, the function."""
    if isinstance(here, str):
        yield "surrogate", f"{where}: a lone surrogate", lambda s: s + "\ud800"
        yield "surrogate", f"{where}: only a low surrogate", lambda _: "\udc00"
    if isinstance(here, dict) and here:
        k = next(iter(here))
        yield (
            "surrogate",
            f"{where}: a key with a lone surrogate",
            lambda o: {(f"{j}\ud800" if j == k else j): x for j, x in o.items()},
        )
        yield (
            "shape",
            f"{where}: key {k!r} removed",
            lambda o: {j: x for j, x in o.items() if j != k},
        )
        yield "shape", f"{where}: an unknown key", lambda o: {**o, "zz": 1}
    for wrong in WRONG_TYPES:
        if type(wrong) is not type(here) or wrong != here:
            yield "type", f"{where}: {json.dumps(wrong)}", lambda _, w=wrong: w
    yield "type", f"{where}: wrapped in an array", lambda o: [o]
    yield "deep", f"{where}: arrays 200 deep", lambda _: _Raw(DEEP_ARRAY)
    yield "deep", f"{where}: objects 200 deep", lambda _: _Raw(DEEP_OBJECT)


def _raw_mutants(body: bytes) -> Iterator[Mutant]:
    half = body[: len(body) // 2]
    for where, raw in (
        ("empty", b""),
        ("not UTF-8", b"\xff" + body),
        ("a byte order mark", b"\xef\xbb\xbf" + body),
        ("truncated", half),
        ("trailing garbage", body + b" x"),
        ("an encoded surrogate", body.replace(b'"', b'"\xed\xa0\x80', 1)),
        ("a NUL byte", body.replace(b'"', b'"\x00', 1)),
        ("null", b"null"),
        ("a number", b"12345678901234567890"),
        ("a huge number", b"9" * 5000),
        ("a string", b'"x"'),
        ("an array", b"[]"),
        ("an object", b"{}"),
        ("NaN", b"NaN"),
        ("arrays 100000 deep", VERY_DEEP.encode()),
        ("a lone surrogate alone", b'"\\ud800"'),
    ):
        yield Mutant("bytes", where, raw)


def mutants(
    body: bytes, rng: random.Random | None = None, limit: int | None = None
) -> list[Mutant]:
    """The malformed variants of ``body``: all of them, or ``limit`` of them drawn by ``rng``
    (every kind represented)."""
    found: list[tuple[str, str, Callable[[], bytes]]] = [
        (m.kind, m.where, lambda b=m.body: b) for m in _raw_mutants(body)
    ]
    try:
        lines = body.decode("utf-8").splitlines() or [""]
        values = [json.loads(line) for line in lines]
    except ValueError:
        values = []
    for n, value in enumerate(values):
        for path, here in places(value):
            label = f"line {n + 1} {_name(path)}" if len(values) > 1 else _name(path)
            for kind, where, fn in _value_mutants(here, label):

                def make(n: int = n, value: Any = value, path: Path = path, fn: Any = fn) -> bytes:
                    changed = _dumps(_replace(value, path, fn))
                    return "\n".join(changed if i == n else x for i, x in enumerate(lines)).encode()

                found.append((kind, where, make))
    if limit is not None and len(found) > limit:
        rng = rng or random.Random(0)
        order = list(range(len(found)))
        rng.shuffle(order)
        first: dict[str, int] = {}
        for i in order:
            first.setdefault(found[i][0], i)
        chosen = list(first.values())
        chosen += [i for i in order if i not in chosen][: max(0, limit - len(chosen))]
        found = [found[i] for i in sorted(chosen)]
    return [Mutant(kind, where, make()) for kind, where, make in found]
