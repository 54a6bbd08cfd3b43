"""Counting methods for non-homomorphic questions: Schulze, STV and Majority Judgment.

The result of a non-homomorphic question is the list of its decrypted ballots, one list of
integers per ballot, one integer per answer (a rank or a grade). These pure functions count
such a list the way ``belenios-tool method schulze|stv|majority-judgment`` (Belenios 2.0) does,
and each result's ``to_json()`` is exactly the JSON that ``belenios-tool`` prints (compact,
keys in its order). The methods follow their published definitions; where a definition leaves
a choice open (ties, rounding), the choice is the one ``belenios-tool`` makes, found by running
it as a black box on many inputs, and is written down below.

Input, common to the three methods:

* ``ballots`` is a list of lists of non-negative integers, all of the same length (the number
  of answers, ``nchoices``; when not given, the length of the first ballot). Anything else
  (not a list, a non-integer, a negative number, a wrong length) raises
  :class:`~plebiscite.errors.EncodingError` naming the ballot index and the value.
  ``belenios-tool`` is laxer: it also takes ``"1"`` for ``1`` and negative numbers, and
  ballots of different lengths for STV; a Belenios ballot never holds these.
* Values that fit no ballot of the method (a grade above ``ngrades``, ranks with a gap) are not
  errors: like ``belenios-tool``, Majority Judgment and STV count such ballots as invalid and
  list them in the result.

Schulze (``schulze``)
    Markus Schulze, "A new monotonic, clone-independent, reversal symmetric, and
    Condorcet-consistent single-winner election method", Social Choice and Welfare 36 (2011).
    A ballot ranks the answers: 1 is the best rank, equal ranks are allowed, 0 means unranked
    (worse than every rank). With ``blank_allowed``, an all-zero ballot is blank and not
    counted; otherwise it is a valid ballot that prefers nothing. ``raw[e][f]`` is the number
    of valid ballots ranking ``e`` strictly before ``f``. The link ``e -> f`` exists when
    ``raw[e][f] > raw[f][e]``; its strength is the pair ``[raw[e][f], raw[f][e]]``, compared
    by "winning votes" (the paper's section 2.1): more votes for the winner, then fewer votes
    for the loser. ``beatpaths[e][f]`` is the strength of the strongest path from ``e`` to
    ``f`` (for ``e = f``: of the strongest cycle through ``e``), ``[0, 0]`` when there is
    none. ``e`` beats ``f`` when ``beatpaths[e][f]`` is stronger than ``beatpaths[f][e]``;
    ``winners`` lists the answers that no answer beats, then the same among the rest, and so
    on, each group in increasing order. Output:
    ``{"valid": V, "blank": B, "raw": [[..]], "beatpaths": [[[w, l], ..]], "winners": [[..]]}``
    (``"blank"`` only when blank is allowed).

Single Transferable Vote (``stv``)
    A ballot ranks answers 1, 2, ..., k without ties or gaps, 0 for unranked (an all-zero
    ballot is valid and empty); any other ballot is invalid. The quota is Droop's:
    ``floor(valid / (nseats + 1)) + 1``, counting empty ballots. Only answers ranked on some
    valid ballot stand. Each ballot counts, at its current weight (a double, initially 1), for
    its first continuing answer. At each step, while seats remain: if no more answers continue
    than seats remain, all of them are elected at once (one ``Win`` event, increasing order);
    otherwise the answer with the most votes, if it reaches the quota, is elected and every
    ballot counting for it goes on with its weight multiplied by ``(votes - quota) / votes``
    (Gregory's surplus transfer); otherwise the answer with the fewest votes is eliminated and
    its ballots go on at their weight. Ties are broken by the order of the answers: the first
    of the answers with the most votes is elected (event ``TieWin [it, the next tied one]``),
    the last of the answers with the fewest votes is eliminated (``TieLose [it, the previous
    tied one]``). Weights are doubles, and sums of doubles depend on their order: the votes
    of an answer are summed in ``belenios-tool``'s order, that of a list of the ballots that
    starts sorted and where the ballots moved by an election go to the front, those moved by
    an elimination to the back. Output:
    ``{"ballots": [sorted valid ballots as answer lists, best first], "invalid": [sorted],
    "events": [["Win", [a, ..]] | ["Lose", a] | ["TieWin", [a, b]] | ["TieLose", [a, b]]],
    "winners": [in order of election]}``. Where ``belenios-tool`` 2.0 stops with an assertion
    failure (fewer answers ranked by anybody than both ``nseats`` and ``nchoices``), this
    function elects all the ranked answers.

Majority Judgment (``majority_judgment``)
    Michel Balinski and Rida Laraki, "A theory of measuring, electing, and ranking", PNAS 104
    (2007), and "Majority Judgment" (MIT Press, 2011). A ballot gives each answer a grade, 1
    (best) to ``ngrades``; with ``blank_allowed`` an all-zero ballot is blank; a ballot with
    any other value (0 included) is invalid. Each answer's majority value is the sequence of
    its middlemost grades, taking the middlemost grade out each time; the answers are ranked
    by comparing these sequences.
    When there are two middle grades (an even number of valid ballots), Balinski and Laraki
    take the lower (worse) one; ``belenios-tool`` takes the better one, and so does this
    function. Output:
    ``{"raw": [[count of grade 1, ..] per answer], "valid": V, "blank": B,
    "invalid": [in reverse input order], "winners": [[..]]}``, best group first.
    Inside a group of tied answers, the order is the one ``belenios-tool`` prints (that of
    OCaml's ``Array.sort``, a ternary heap sort, on answers ``0..n-1``, each group reversed);
    it means nothing but is reproduced so that the JSON is equal.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from plebiscite.errors import EncodingError

__all__ = [
    "MjResult",
    "SchulzeResult",
    "StvEvent",
    "StvResult",
    "majority_judgment",
    "schulze",
    "stv",
    "summary",
]

Ballot = tuple[int, ...]
Strength = tuple[int, int]
_NO_PATH: Strength = (0, 0)


# -- input ----------------------------------------------------------------------------------------


def _show(v: object) -> str:
    try:
        text = json.dumps(v)
    except (TypeError, ValueError):
        text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_count(name: str, value: object, *, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name} must be an integer, at least {minimum}, not {_show(value)}")
    return value


def _check_ballots(
    ballots: object, nchoices: int | None, what: str
) -> tuple[int | None, list[Ballot]]:
    """Check the shape of the ballots; return the number of choices (None if unknown: no
    ballots and no ``nchoices``) and the ballots as tuples."""
    if nchoices is not None:
        _check_count("nchoices", nchoices, minimum=1)
    if not isinstance(ballots, list | tuple):
        raise EncodingError(
            f"the ballots must be a list of lists of integers, not {_show(ballots)}"
        )
    n = nchoices
    out: list[Ballot] = []
    for i, b in enumerate(ballots):
        where = f"ballot {i}"
        if not isinstance(b, list | tuple):
            raise EncodingError(f"{_show(b)} is not a list of integers", where=where)
        if n is None:
            if not b:
                raise EncodingError("empty, a ballot has one value per answer", where=where)
            n = len(b)
        if len(b) != n:
            source = "nchoices" if nchoices is not None else "the length of ballot 0"
            raise EncodingError(f"{_plural(len(b), 'value')}, expected {n} ({source})", where=where)
        for j, v in enumerate(b):
            if type(v) is not int:
                raise EncodingError(f"value {j} is {_show(v)}, not an integer", where=where)
            if v < 0:
                raise EncodingError(f"value {j} is {v}, {what} cannot be negative", where=where)
        out.append(tuple(b))
    return n, out


def _known(n: int | None) -> int:
    if n is None:
        raise ValueError("cannot infer the number of choices from no ballots: give nchoices")
    return n


# -- Schulze ------------------------------------------------------------------------------------


def _stronger(a: Strength, b: Strength) -> bool:
    """Schulze's "winning votes": more votes for the winner, then fewer for the loser."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] < b[1])


@dataclass(frozen=True)
class SchulzeResult:
    """The Schulze count; ``blank`` is None when blank votes are not allowed."""

    valid: int
    blank: int | None
    raw: tuple[tuple[int, ...], ...]
    beatpaths: tuple[tuple[Strength, ...], ...]
    winners: tuple[tuple[int, ...], ...]

    @property
    def nchoices(self) -> int:
        return len(self.raw)

    def to_json(self) -> dict[str, Any]:
        """``belenios-tool method schulze``'s output."""
        out: dict[str, Any] = {"valid": self.valid}
        if self.blank is not None:
            out["blank"] = self.blank
        out["raw"] = [list(row) for row in self.raw]
        out["beatpaths"] = [[list(p) for p in row] for row in self.beatpaths]
        out["winners"] = [list(g) for g in self.winners]
        return out


def schulze(
    ballots: Sequence[Sequence[int]], *, nchoices: int | None = None, blank_allowed: bool
) -> SchulzeResult:
    """Count ranked ballots with Schulze's method (see the module documentation)."""
    n, checked = _check_ballots(ballots, nchoices, "a rank")
    n = _known(n)
    counted = Counter(checked)
    raw = [[0] * n for _ in range(n)]
    valid = blank = 0
    for b, k in counted.items():
        if blank_allowed and not any(b):
            blank += k
            continue
        valid += k
        for e, re in enumerate(b):
            if re == 0:
                continue  # unranked: preferred to nothing
            row = raw[e]
            for f, rf in enumerate(b):
                if rf == 0 or re < rf:
                    row[f] += k
    # strongest paths (Floyd-Warshall on the widest-path semiring), cycles included
    p = [
        [(raw[e][f], raw[f][e]) if raw[e][f] > raw[f][e] else _NO_PATH for f in range(n)]
        for e in range(n)
    ]
    for k in range(n):
        pk = p[k]
        for e in range(n):
            pek = p[e][k]
            if pek == _NO_PATH:
                continue
            pe = p[e]
            for f in range(n):
                via = pk[f] if _stronger(pek, pk[f]) else pek
                if _stronger(via, pe[f]):
                    pe[f] = via
    rest = list(range(n))
    winners: list[tuple[int, ...]] = []
    while rest:
        top = tuple(e for e in rest if not any(_stronger(p[f][e], p[e][f]) for f in rest))
        winners.append(top)  # never empty: "beats" is transitive (Schulze, section 4.1)
        rest = [e for e in rest if e not in top]
    return SchulzeResult(
        valid=valid,
        blank=blank if blank_allowed else None,
        raw=tuple(tuple(row) for row in raw),
        beatpaths=tuple(tuple(row) for row in p),
        winners=tuple(winners),
    )


# -- Majority Judgment --------------------------------------------------------------------------


def _ocaml_array_sort(items: list[int], cmp: Callable[[int, int], int]) -> list[int]:
    """Sort ``items`` by ``cmp`` with the bottom-up ternary heap sort of OCaml's ``Array.sort``.

    Any sort gives the same order of unequal items; this one also gives ``belenios-tool``'s
    order of equal ones."""
    a = list(items)

    def max_child(size: int, i: int) -> int | None:
        c = 3 * i + 1
        if c + 2 < size:
            m = c + 1 if cmp(a[c], a[c + 1]) < 0 else c
            return c + 2 if cmp(a[m], a[c + 2]) < 0 else m
        if c + 1 < size and cmp(a[c], a[c + 1]) < 0:
            return c + 1
        return c if c < size else None

    def sift_down(size: int, i: int, e: int) -> None:
        while True:
            j = max_child(size, i)
            if j is None or cmp(a[j], e) <= 0:
                a[i] = e
                return
            a[i] = a[j]
            i = j

    def hole_to_leaf(size: int, i: int) -> int:
        while (j := max_child(size, i)) is not None:
            a[i] = a[j]
            i = j
        return i

    def sift_up(i: int, e: int) -> None:
        while True:
            parent = (i - 1) // 3
            if cmp(a[parent], e) >= 0:
                a[i] = e
                return
            a[i] = a[parent]
            if parent == 0:
                a[0] = e
                return
            i = parent

    size = len(a)
    for i in range((size + 1) // 3 - 1, -1, -1):
        sift_down(size, i, a[i])
    for i in range(size - 1, 1, -1):
        e = a[i]
        a[i] = a[0]
        sift_up(hole_to_leaf(i, 0), e)
    if size > 1:
        a[0], a[1] = a[1], a[0]
    return a


def _majority_value(counts: Sequence[int]) -> tuple[int, ...]:
    """The successive middlemost grades (0 = best), the better one of two middle grades first.

    Taking out the middlemost grade again and again takes the sorted grades in the order of
    their distance to the middle, the better (lower index) first at equal distance."""
    grades = [g for g, c in enumerate(counts) for _ in range(c)]
    mid2 = len(grades) - 1  # twice the middle position
    order = sorted(range(len(grades)), key=lambda i: (abs(2 * i - mid2), i))
    return tuple(grades[i] for i in order)


@dataclass(frozen=True)
class MjResult:
    """The Majority Judgment count; ``blank`` is None when blank votes are not allowed."""

    raw: tuple[tuple[int, ...], ...]
    valid: int
    blank: int | None
    invalid: tuple[Ballot, ...]
    winners: tuple[tuple[int, ...], ...]

    @property
    def nchoices(self) -> int:
        return len(self.raw)

    def majority_grade(self, choice: int) -> int | None:
        """The first middlemost grade of ``choice`` (1 = best), None without valid ballots."""
        mv = _majority_value(self.raw[choice])
        return mv[0] + 1 if mv else None

    def to_json(self) -> dict[str, Any]:
        """``belenios-tool method majority-judgment``'s output."""
        out: dict[str, Any] = {"raw": [list(r) for r in self.raw], "valid": self.valid}
        if self.blank is not None:
            out["blank"] = self.blank
        out["invalid"] = [list(b) for b in self.invalid]
        out["winners"] = [list(g) for g in self.winners]
        return out


def majority_judgment(
    ballots: Sequence[Sequence[int]],
    *,
    nchoices: int | None = None,
    ngrades: int,
    blank_allowed: bool,
) -> MjResult:
    """Count graded ballots with Majority Judgment (see the module documentation)."""
    _check_count("ngrades", ngrades, minimum=1)
    n, checked = _check_ballots(ballots, nchoices, "a grade")
    n = _known(n)
    raw = [[0] * ngrades for _ in range(n)]
    valid = blank = 0
    invalid: list[Ballot] = []
    for b in checked:
        if blank_allowed and not any(b):
            blank += 1
        elif all(1 <= g <= ngrades for g in b):
            valid += 1
            for choice, g in enumerate(b):
                raw[choice][g - 1] += 1
        else:
            invalid.append(b)
    invalid.reverse()
    values = [_majority_value(r) for r in raw]

    def better_first(x: int, y: int) -> int:
        return (values[x] > values[y]) - (values[x] < values[y])

    groups: list[list[int]] = []
    for c in _ocaml_array_sort(list(range(n)), better_first):
        if groups and values[groups[-1][0]] == values[c]:
            groups[-1].append(c)
        else:
            groups.append([c])
    return MjResult(
        raw=tuple(tuple(r) for r in raw),
        valid=valid,
        blank=blank if blank_allowed else None,
        invalid=tuple(invalid),
        winners=tuple(tuple(reversed(g)) for g in groups),
    )


# -- Single Transferable Vote -------------------------------------------------------------------

StvKind = Literal["Win", "Lose", "TieWin", "TieLose"]


@dataclass(frozen=True)
class StvEvent:
    """One step of the count: ``Win`` (elected, one or all remaining), ``Lose`` (eliminated,
    one), ``TieWin`` / ``TieLose`` (the tie broken next: the chosen answer, the other)."""

    kind: StvKind
    choices: tuple[int, ...]

    def to_json(self) -> list[Any]:
        if self.kind == "Lose":
            return ["Lose", self.choices[0]]
        return [self.kind, list(self.choices)]


@dataclass(frozen=True)
class StvResult:
    """The STV count: ``ballots`` are the valid ballots as lists of answers, best first."""

    ballots: tuple[Ballot, ...]
    invalid: tuple[Ballot, ...]
    events: tuple[StvEvent, ...]
    winners: tuple[int, ...]
    nseats: int
    quota: int
    nchoices: int  # 0 when there were no ballots

    def to_json(self) -> dict[str, Any]:
        """``belenios-tool method stv``'s output."""
        return {
            "ballots": [list(b) for b in self.ballots],
            "invalid": [list(b) for b in self.invalid],
            "events": [e.to_json() for e in self.events],
            "winners": list(self.winners),
        }


def _preferences(b: Ballot) -> Ballot | None:
    """The answers in order of preference, or None if the ranks are not 1..k (0 = unranked)."""
    ranked = sorted((r, choice) for choice, r in enumerate(b) if r != 0)
    if any(r != i + 1 for i, (r, _) in enumerate(ranked)):
        return None
    return tuple(choice for _, choice in ranked)


class _Pile:
    """A ballot in the count: its preferences, the position of its current answer, its weight."""

    __slots__ = ("pos", "prefs", "weight")

    def __init__(self, prefs: Ballot) -> None:
        self.prefs = prefs
        self.pos = 0
        self.weight = 1.0

    def current(self) -> int:
        return self.prefs[self.pos]

    def advance(self, continuing: set[int]) -> bool:
        """Move to the next continuing answer; False when the ballot is exhausted."""
        while self.pos < len(self.prefs) and self.prefs[self.pos] not in continuing:
            self.pos += 1
        return self.pos < len(self.prefs)


def stv(ballots: Sequence[Sequence[int]], *, nseats: int, nchoices: int | None = None) -> StvResult:
    """Count ranked ballots with the Single Transferable Vote (see the module documentation)."""
    _check_count("nseats", nseats, minimum=1)
    n, checked = _check_ballots(ballots, nchoices, "a rank")
    valid: list[Ballot] = []
    invalid: list[Ballot] = []
    for b in checked:
        prefs = _preferences(b)
        if prefs is None:
            invalid.append(b)
        else:
            valid.append(prefs)
    valid.sort()
    invalid.sort()
    quota = len(valid) // (nseats + 1) + 1
    continuing = {c for prefs in valid for c in prefs}
    piles = [_Pile(prefs) for prefs in valid if prefs]
    events: list[StvEvent] = []
    winners: list[int] = []
    while len(winners) < nseats:
        if len(continuing) <= nseats - len(winners):
            rest = tuple(sorted(continuing))
            events.append(StvEvent("Win", rest))
            winners.extend(rest)
            break
        votes = dict.fromkeys(continuing, 0.0)
        for pile in piles:
            votes[pile.current()] += pile.weight
        # most votes first; equal votes: the order of the answers
        ranking = sorted(continuing, key=lambda c: (-votes[c], c))
        top = ranking[0]
        elected = votes[top] >= quota
        if elected:
            if votes[ranking[1]] == votes[top]:
                events.append(StvEvent("TieWin", (top, ranking[1])))
            events.append(StvEvent("Win", (top,)))
            winners.append(top)
            gone = top
            factor = (votes[top] - quota) / votes[top]
        else:
            gone = ranking[-1]
            if votes[ranking[-2]] == votes[gone]:
                events.append(StvEvent("TieLose", (gone, ranking[-2])))
            events.append(StvEvent("Lose", (gone,)))
        continuing.discard(gone)
        moved: list[_Pile] = []
        kept: list[_Pile] = []
        for pile in piles:
            if pile.current() != gone:
                kept.append(pile)
            elif pile.advance(continuing):
                if elected:
                    pile.weight *= factor
                moved.append(pile)
        piles = moved + kept if elected else kept + moved
    return StvResult(
        ballots=tuple(valid),
        invalid=tuple(invalid),
        events=tuple(events),
        winners=tuple(winners),
        nseats=nseats,
        quota=quota,
        nchoices=n or 0,
    )


# -- a readable summary -------------------------------------------------------------------------


def _labels(n: int, answers: Sequence[str] | None) -> list[str]:
    if answers is None:
        return [f"answer {i + 1}" for i in range(n)]
    if n and len(answers) != n:  # n = 0: an STV count of no ballots
        raise ValueError(f"{len(answers)} answer labels for {n} answers")
    return [str(a) for a in answers]


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _plural(k: int, what: str) -> str:
    return f"{k} {what}" + ("" if k == 1 else "s")


def _ranking(
    groups: Sequence[Sequence[int]], labels: Sequence[str], note: Callable[[int], str | None]
) -> list[str]:
    lines = []
    rank = 1
    for g in groups:
        first, *others = sorted(g)
        extra = [x for x in (note(first),) if x]
        if others:
            extra.append("tied with " + _and([labels[c] for c in others]))
        lines.append(f"{rank}. {labels[first]}" + (f" ({', '.join(extra)})" if extra else ""))
        rank += len(g)
    return lines


def summary(
    result: SchulzeResult | MjResult | StvResult, answers: Sequence[str] | None = None
) -> str:
    """A plain-text account of ``result`` for people: the ranking (or the elected answers and
    the steps of the count), answers named by ``answers`` or "answer 1", "answer 2", ...

    Tied answers share one line, in the order of the question, and the next rank counts them
    (1, 2, 2, 4: "2. Bob (tied with Carol)" then "4. ...")."""
    if isinstance(result, SchulzeResult):
        labels = _labels(result.nchoices, answers)
        head = f"Schulze method: {_plural(result.valid, 'valid ballot')}"
        if result.blank is not None:
            head += f", {result.blank} blank"
        return "\n".join([head, *_ranking(result.winners, labels, lambda c: None)])
    if isinstance(result, MjResult):
        labels = _labels(result.nchoices, answers)
        head = f"Majority judgment: {_plural(result.valid, 'valid ballot')}"
        if result.blank is not None:
            head += f", {result.blank} blank"
        head += f", {len(result.invalid)} invalid"

        def grade(c: int) -> str | None:
            g = result.majority_grade(c)
            return None if g is None else f"majority grade {g}"

        return "\n".join([head, *_ranking(result.winners, labels, grade)])
    labels = _labels(result.nchoices, answers)
    lines = [
        f"Single transferable vote: {_plural(result.nseats, 'seat')}, "
        f"{_plural(len(result.ballots), 'valid ballot')}, {len(result.invalid)} invalid, "
        f"quota {result.quota}",
        "Elected, in the order of the count:" if result.winners else "Nobody elected",
        *_ranking([[w] for w in result.winners], labels, lambda c: None),
        "Count:",
    ]
    for ev in result.events:
        names = [labels[c] for c in ev.choices]
        if ev.kind == "Win":
            lines.append(f"  elected: {_and(names)}" if names else "  nobody to elect")
        elif ev.kind == "Lose":
            lines.append(f"  eliminated: {names[0]}")
        elif ev.kind == "TieWin":
            lines.append(f"  tie for election between {_and(names)}: the earlier answer wins")
        else:
            lines.append(f"  tie for elimination between {_and(names)}: the later answer goes")
    return "\n".join(lines)
