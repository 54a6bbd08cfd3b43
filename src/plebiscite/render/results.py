"""The counts and shares of a referendum's published result, from its public status
(``GET /api/referendums/ID``), as the dashboard's charts show them (``static/js/result-charts.js``
computes the same, from the same JSON).

For every question with counts (homomorphic and Lists questions; a ranking's result is its
decrypted ballots, in each region's archive), over the regions that have a result, all of them
pooled or one region alone, one :class:`Row` per answer:

- a homomorphic question: one row per answer, its share the count over the sum of the answers'
  counts (the answers chosen; with one answer per ballot, the valid votes); with blank allowed
  a last row of the blank votes, counted apart (no share);
- a Lists question: one row per list (its ballots, its share of all the lists' ballots), each
  followed by its candidates' rows (a candidate's share: of its list's ballots).

Shares are exact fractions, shown as percentages with one decimal rounded half up
(:func:`percent_tenths`). Counts of ``2**30`` and more are strings in the JSON: read here as
integers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

__all__ = [
    "Chart",
    "Row",
    "charts_of_status",
    "counted_regions",
    "format_count",
    "format_percent",
    "message",
    "percent_tenths",
]

Kind = Literal["answer", "blank", "list", "candidate"]


@dataclass(frozen=True)
class Row:
    """One bar: its label, the exact count and its share (None: counted apart)."""

    label: str
    count: int
    share: Fraction | None
    kind: Kind


@dataclass(frozen=True)
class Chart:
    """The rows of one question (``index`` in the record)."""

    index: int
    question: str
    rows: tuple[Row, ...]


def message(messages: Mapping[str, Any], key: str, **params: object) -> str:
    """The catalogue's message ``key`` (``static/i18n/LANG.json``) with its ``{name}``
    placeholders replaced; a plural message takes its ``other`` form; the key if absent."""
    m = messages.get(key, key)
    if isinstance(m, dict):
        m = m.get("other", key)
    text = str(m)
    for name, value in params.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("a count is not a boolean")
    return int(v)


def _share(count: int, total: int) -> Fraction | None:
    return Fraction(count, total) if total > 0 else Fraction(0)


def counted_regions(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The regions of the status that have a result."""
    return [r for r in status.get("regions", []) if isinstance(r.get("result"), list)]


def _pooled(results: Sequence[Any]) -> Any:
    """The element-wise sum of nested lists of counts of one shape."""
    first = results[0]
    if isinstance(first, list):
        return [_pooled([r[i] for r in results]) for i in range(len(first))]
    return sum(_int(r) for r in results)


def _homomorphic(value: Mapping[str, Any], counts: Sequence[Any]) -> list[Row]:
    blank = bool(value.get("blank"))
    answers = [str(a) for a in value["answers"]]
    nums = [_int(c) for c in counts]
    own = nums[1:] if blank else nums
    total = sum(own)
    rows = [Row(a, c, _share(c, total), "answer") for a, c in zip(answers, own, strict=True)]
    return rows


def _lists(
    value: Mapping[str, Any], counts: Sequence[Any], messages: Mapping[str, Any]
) -> list[Row]:
    lists = [[_int(c) for c in row] for row in counts]
    total = sum(row[0] for row in lists)
    rows = []
    for (name, *candidates), row in zip(value["answers"], lists, strict=True):
        rows.append(
            Row(message(messages, "observe.list", list=name), row[0], _share(row[0], total), "list")
        )
        for candidate, c in zip(candidates, row[1:], strict=True):
            rows.append(Row(str(candidate), c, _share(c, row[0]), "candidate"))
    return rows


def charts_of_status(
    status: Mapping[str, Any], messages: Mapping[str, Any], region: str | None = None
) -> list[Chart]:
    """The rows of every question with counts, over the regions that have a result, pooled
    (``region`` None) or of the region named ``region``; empty before any result."""
    regions = counted_regions(status)
    if region is not None:
        regions = [r for r in regions if r.get("name") == region]
    if not regions:
        return []
    out = []
    for q, question in enumerate(status["record"]["questions"]):
        results = [r["result"][q] for r in regions]
        if "answers" in question:
            counts = _pooled(results)
            rows = _homomorphic(question, counts)
            if question.get("blank"):
                rows.append(Row(message(messages, "observe.blank"), _int(counts[0]), None, "blank"))
            out.append(Chart(q, str(question["question"]), tuple(rows)))
        elif question.get("type") == "Lists":
            value = question["value"]
            rows = _lists(value, _pooled(results), messages)
            out.append(Chart(q, str(value["question"]), tuple(rows)))
    return out


def percent_tenths(share: Fraction) -> int:
    """``share`` in tenths of a percent, rounded half up: 1/3 is 333, 2/3 is 667."""
    return int((share * 2000 + 1) // 2)


_SEPARATORS = {"en": (",", "."), "uk": ("\u00a0", ","), "ru": ("\u00a0", ",")}


def format_count(n: int, lang: str) -> str:
    """``n`` with the thousands separator of ``lang`` (1,234 in English, 1 234 otherwise)."""
    group, _ = _SEPARATORS.get(lang, _SEPARATORS["en"])
    return f"{n:,}".replace(",", group)


def format_percent(share: Fraction, lang: str) -> str:
    """``share`` as a percentage with one decimal (``33.3%``; ``33,3%`` in Ukrainian and
    Russian)."""
    _, point = _SEPARATORS.get(lang, _SEPARATORS["en"])
    tenths = percent_tenths(share)
    whole = format_count(tenths // 10, lang)
    return f"{whole}{point}{tenths % 10}%"
