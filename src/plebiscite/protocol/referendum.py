"""Referendums held in several regions at once, and their decision rules.

Each region votes in its own Belenios election (its own voters, credentials and archive); all
regions share the questions and the trustees. What Belenios does not record lives in this
record, kept beside the archives: which elections form the referendum and, stated before the
vote, the rule that decides it. The record is JSON (keys here in their canonical order)::

    {"closing": "2030-05-12T18:00:00Z",
     "id": "charter-2030",
     "opening": "2030-05-12T06:00:00Z",
     "questions": [{"answers": ["Yes", "No"], "blank": true, "max": 1, "min": 1,
                    "question": "Do you approve the charter?"}],
     "regions": [{"election": "Ab3dEf5hJk7mNp", "name": "North", "population": 120000,
                  "weight": "1"}, ...],
     "rule": {"answer": 0, "question": 0, "quorum": {"turnout": "1/2"}, "scope": "overall",
              "strict": true, "threshold": "1/2", "type": "majority"},
     "title": "Charter referendum",
     "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},
     "version": 1}

``questions`` has the shape of the questions of a belenios election template (see
:func:`~plebiscite.protocol.election_setup.make_election`); ``trustees.threshold`` (optional)
is the ``k`` of a k-of-n ceremony and ``trustees.hash`` (optional) the SHA256, in hexadecimal,
of the trustees structure every region's archive must hold. In a poll ``trustees.names`` may be
empty: the election key is then the server's own key alone (the server can decrypt every
ballot).
``rule`` is optional: without it nothing is decided, the outcome is the counts (each region's
and pooled, every homomorphic answer's share of its question's valid votes as an exact
fraction), with no verdict.

Languages
---------

``"language": "en"`` (optional) states the language of the record's own texts, and
``"translations"`` (optional) gives them in other languages, by language tag (``uk``,
``en-GB``: 2 or 3 lowercase letters, then subtags of 1 to 8 letters or digits)::

    "translations": {"uk": {"title": "Референдум про хартію",
                            "questions": [{"question": "Чи схвалюєте ви хартію?",
                                           "answers": ["Так", "Ні"]}, ...]}}

one entry per question, in order, with as many answers as the original (a Lists question's
answers are its rows, each list then its candidates, row lengths kept); every text is checked as
the record's own. Both fields are written only when present (older records stay byte for byte
what they were) and are part of the fingerprint. The elections keep the original texts.

Polls
-----

``"kind": "poll"`` (``"referendum"`` by default, and then not written, so a referendum's
record is byte for byte what it was) makes the record a poll's: its regions are its *shards*,
``shard-1`` to ``shard-k`` in order, each of weight 1, separate Belenios elections sharing the
questions and the key; it has no ``rule``; and ``"assignment": "sha256-mod"`` names the public
rule that puts each voter in one shard (:func:`shard_of`)::

    shard index (from 0) = int(SHA-256(UTF-8(id) || 0x00 || UTF-8(login)), big-endian) mod k

so anyone who knows a login and the record recomputes which shard's election is its
voter's. Times are ISO 8601 in UTC, to the
second. Fractions are strings ``"n/d"`` (or ``"n"``) in lowest terms, read exactly
(:class:`fractions.Fraction`): no floating point anywhere.

:meth:`Referendum.from_json` parses strictly (no missing, unknown or duplicate field, sizes
limited, errors naming the field); :meth:`Referendum.to_json` writes the canonical form (keys
sorted, no spaces, UTF-8, every default written out) and :attr:`Referendum.fingerprint` is
``H_JSON`` of it (SHA256, Base64 without padding).

Decision rules
--------------

A rule is about one answer (``answer``, counted from 0, blank not counted) of one homomorphic
question (``question``) that takes one answer per ballot (``max`` 1). Lists questions
(``{"type": "Lists", "value": {"answers": [[list, candidate, ...], ...], "question"}}``, the
election's own form) may be asked beside it, but no rule is about one: their result counts each
list and each of its candidates (reported per region and pooled), not one answer.

For each set of counts, with ``yes`` the count of that answer, ``valid`` the sum of the counts
of all answers, ``voted`` the number of voters who voted and ``roll`` the number of voters on
the roll:

1. the quorum, if any: ``voted / roll >= turnout`` (participation quorum) and
   ``yes / roll >= approval`` (approval quorum), else *quorum not met*;
2. the threshold: ``yes / valid > threshold`` if ``strict``, ``>=`` otherwise, else *failed*
   (also *failed* when there is no valid vote at all).

**Blank ballots count for turnout but not as valid votes**: a blank vote (the leading count of
a question that allows blank) is in ``voted`` but not in ``valid``: it neither counts against
the answer nor for it, but it helps meet a turnout quorum. So does a ballot with no answer
ticked (``min`` 0). ``strict`` defaults to true; quorums are "at least".

- ``majority``: threshold ``1/2`` (the default, and the only one: more than half when strict).
- ``supermajority``: a threshold above 1/2 (required), e.g. ``"2/3"``; ``"1"`` (non-strict)
  means unanimity of the valid votes.
- ``scope``: ``overall`` (the default: every region's counts pooled, each voter counting once)
  or ``per-region`` (each region decides for itself; the overall verdict is *passed* only if
  every region passed).
- ``double-majority`` (threshold 1/2 by default, or more; no ``scope``): the test passes on
  the pooled counts **and** in enough regions, each region tested on its own counts:
  ``"regions": {"count": k}`` (at least ``k`` regions), or
  ``"regions": {"share": "1/2", "strict": true, "by": "weight"}`` (the regions that passed hold
  more than half, or at least half if not strict, of the total region ``weight``, or of the
  ``population``; ``strict`` defaults to false here, ``by`` to ``weight``). A region's weight
  defaults to 1 (e.g. ``"1/2"`` for a half-canton).

Counts are those of the verifier's result: for a weighted election they are weights; ``voted``
and ``roll`` are then in whatever unit the caller passes (voters, or total weight).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from plebiscite import strictjson
from plebiscite.crypto.hashing import h_json, sha256_hex
from plebiscite.errors import ConsistencyError, EncodingError
from plebiscite.protocol.checkpoints import utc_time
from plebiscite.protocol.messages import (
    LIMITS,
    Election,
    QuestionH,
    QuestionL,
    QuestionNH,
    arr,
    hash_ref,
    obj,
    parse_question,
    small_int,
)

__all__ = [
    "MAX_REFERENDUM_BYTES",
    "Count",
    "Counts",
    "Outcome",
    "Quorum",
    "Referendum",
    "Region",
    "RegionOutcome",
    "RegionResult",
    "RegionsRequirement",
    "Rule",
    "Translation",
    "Trustees",
    "Verdict",
    "check_election",
    "compute_outcome",
    "format_fraction",
    "parse_fraction",
    "shard_name",
    "shard_of",
]

MAX_REFERENDUM_BYTES = 1 << 20
MAX_REGIONS = 1000
MAX_TEXT = 10_000
MAX_NAME = 200

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
_UUID = re.compile(r"[1-9A-HJ-NP-Za-km-z]{14,64}\Z")
#: a language tag: a primary subtag of 2 or 3 lowercase letters, then optional subtags of 1 to 8
#: letters or digits (BCP 47's shape, e.g. ``uk``, ``en-GB``, ``sr-Latn``), at most 35 characters
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*\Z")
MAX_LANGUAGE = 35
MAX_TRANSLATIONS = 50
_FRACTION = re.compile(r"(0|[1-9][0-9]{0,17})(?:/([1-9][0-9]{0,17}))?\Z")

Question = QuestionH | QuestionNH | QuestionL


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    QUORUM_NOT_MET = "quorum-not-met"
    NOT_TALLIED = "not-tallied"


# -- field parsers ---------------------------------------------------------------------------


def _text(v: Any, where: str, max_len: int = MAX_TEXT) -> str:
    if not isinstance(v, str):
        raise EncodingError("expected a string", where=where)
    if not v:
        raise EncodingError("must not be empty", where=where)
    if len(v) > max_len:
        raise EncodingError(f"{len(v)} characters, more than the {max_len} allowed", where=where)
    try:
        v.encode()
    except UnicodeEncodeError:
        raise EncodingError("not valid Unicode (lone surrogate)", where=where) from None
    return v


def _bool(v: Any, where: str) -> bool:
    if not isinstance(v, bool):
        raise EncodingError("expected true or false", where=where)
    return v


def parse_fraction(
    v: Any,
    where: str,
    *,
    above: Fraction | None = None,
    at_least: Fraction | None = None,
    at_most: Fraction | None = None,
) -> Fraction:
    """A fraction written ``"n/d"`` or ``"n"`` (decimal, lowest terms, at most 18 digits each),
    within the bounds given."""
    m = _FRACTION.match(v) if isinstance(v, str) else None
    if m is None:
        raise EncodingError('expected a fraction written "n/d" or "n", e.g. "2/3"', where=where)
    f = Fraction(int(m[1]), int(m[2] or 1))
    if str(f) != v:
        raise EncodingError(f"write the fraction {v!r} in lowest terms: {str(f)!r}", where=where)
    if above is not None and not f > above:
        raise EncodingError(f"must be more than {above}", where=where)
    if at_least is not None and not f >= at_least:
        raise EncodingError(f"must be at least {at_least}", where=where)
    if at_most is not None and not f <= at_most:
        raise EncodingError(f"must be at most {at_most}", where=where)
    return f


def format_fraction(f: Fraction) -> str:
    """``"7/10 (70.00%)"``, ``"2/3 (~66.67%)"``: the exact fraction, then the percentage rounded
    to two decimals (half to even, exactly: no floating point)."""
    hundredths = round(f * 10_000)
    pct = f"{hundredths // 100}.{hundredths % 100:02d}%"
    return f"{f} ({'' if Fraction(hundredths, 10_000) == f else '~'}{pct})"


def _question(v: Any, where: str) -> Question:
    """A question of a belenios election template (the shape of section 4.9), every text
    checked by :func:`_text` (not empty, bounded, valid Unicode)."""
    return parse_question(v, where, _text)


def _question_value(q: Question) -> dict[str, Any]:
    if isinstance(q, QuestionNH):
        value: dict[str, Any] = {
            "type": "NonHomomorphic",
            "value": {"answers": list(q.answers), "question": q.question},
        }
        if q.extra is not None:
            value["extra"] = q.extra
        return value
    if isinstance(q, QuestionL):
        return {
            "type": "Lists",
            "value": {"answers": [list(row) for row in q.answers], "question": q.question},
        }
    out: dict[str, Any] = {"answers": list(q.answers)}
    if q.blank:
        out["blank"] = True
    out.update({"max": q.max, "min": q.min, "question": q.question})
    return out


def _canonical(value: Any) -> bytes:
    """Keys sorted, no spaces, UTF-8 (RFC 8785 for strings, integers, booleans and null)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- the record ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    name: str
    election: str
    weight: Fraction = Fraction(1)
    population: int | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "election": self.election,
            "name": self.name,
            "weight": str(self.weight),
        }
        if self.population is not None:
            out["population"] = self.population
        return out


@dataclass(frozen=True)
class Trustees:
    """The trustees every region shares: their names, the ``k`` of a k-of-n threshold ceremony
    (None: every trustee's key is needed), and optionally the SHA256 (hexadecimal) of the
    trustees structure in every region's archive."""

    names: tuple[str, ...]
    threshold: int | None = None
    hash: str | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"names": list(self.names)}
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.hash is not None:
            out["hash"] = self.hash
        return out


@dataclass(frozen=True)
class Quorum:
    """``voted / roll >= turnout`` and ``yes / roll >= approval`` (each when given)."""

    turnout: Fraction | None = None
    approval: Fraction | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.turnout is not None:
            out["turnout"] = str(self.turnout)
        if self.approval is not None:
            out["approval"] = str(self.approval)
        return out


@dataclass(frozen=True)
class RegionsRequirement:
    """How many regions a double majority needs: at least ``count`` regions, or a ``share``
    (more than it if ``strict``) of the total ``by`` (``weight`` or ``population``)."""

    count: int | None = None
    share: Fraction | None = None
    strict: bool = False
    by: str = "weight"

    def to_value(self) -> dict[str, Any]:
        if self.count is not None:
            return {"count": self.count}
        return {"by": self.by, "share": str(self.share), "strict": self.strict}


@dataclass(frozen=True)
class Rule:
    type: str  # "majority", "supermajority" or "double-majority"
    question: int
    answer: int
    threshold: Fraction
    strict: bool
    quorum: Quorum
    scope: str | None  # "overall" or "per-region"; None for a double majority
    regions: RegionsRequirement | None = None  # for a double majority only

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "answer": self.answer,
            "question": self.question,
            "quorum": self.quorum.to_value(),
            "strict": self.strict,
            "threshold": str(self.threshold),
            "type": self.type,
        }
        if self.scope is not None:
            out["scope"] = self.scope
        if self.regions is not None:
            out["regions"] = self.regions.to_value()
        return out

    def describe(self, questions: Sequence[Question]) -> str:
        q = questions[self.question]
        cmp = "more than" if self.strict else "at least"
        text = (
            f"{self.type}: answer {self.answer} ({q.answers[self.answer]!r}) of question "
            f"{self.question} ({q.question!r}) needs {cmp} {self.threshold} of the valid votes"
        )
        quorum = []
        if self.quorum.turnout is not None:
            quorum.append(f"turnout at least {self.quorum.turnout} of the roll")
        if self.quorum.approval is not None:
            quorum.append(f"answer {self.answer} at least {self.quorum.approval} of the roll")
        text += f"; quorum: {' and '.join(quorum)}" if quorum else "; no quorum"
        if self.scope == "overall":
            text += "; all regions pooled"
        elif self.scope == "per-region":
            text += "; each region decides for itself (overall: passed in every region)"
        elif self.regions is not None:
            text += "; both overall (all regions pooled) and in "
            r = self.regions
            if r.count is not None:
                text += f"at least {r.count} region{'s' if r.count > 1 else ''}"
            else:
                what = "regions' weight" if r.by == "weight" else "population"
                text += f"regions holding {'more than' if r.strict else 'at least'} {r.share} "
                text += f"of the {what}"
        return text + ". Blank votes count for turnout, not as valid votes."


RULE_TYPES = ("majority", "supermajority", "double-majority")
SCOPES = ("overall", "per-region")
_COMMON = ("type", "question", "answer")
_OPTIONAL = ("threshold", "strict", "quorum")


def _quorum(v: Any, where: str) -> Quorum:
    o = obj(v, where, (), ("turnout", "approval"))
    pos = Fraction(0)
    return Quorum(
        turnout=parse_fraction(o["turnout"], f"{where}.turnout", above=pos, at_most=Fraction(1))
        if "turnout" in o
        else None,
        approval=parse_fraction(o["approval"], f"{where}.approval", above=pos, at_most=Fraction(1))
        if "approval" in o
        else None,
    )


def _regions_requirement(v: Any, where: str, regions: Sequence[Region]) -> RegionsRequirement:
    o = obj(v, where, (), ("count", "share", "strict", "by"))
    if ("count" in o) == ("share" in o):
        raise EncodingError("give exactly one of 'count' and 'share'", where=where)
    if "count" in o:
        extra = [k for k in ("strict", "by") if k in o]
        if extra:
            raise EncodingError(f"{extra[0]!r} goes with 'share', not 'count'", where=where)
        return RegionsRequirement(count=small_int(o["count"], f"{where}.count", 1, len(regions)))
    strict = _bool(o["strict"], f"{where}.strict") if "strict" in o else False
    share = parse_fraction(o["share"], f"{where}.share", above=Fraction(0), at_most=Fraction(1))
    if strict and share == 1:
        raise EncodingError("more than the whole can never be reached", where=f"{where}.share")
    by = o.get("by", "weight")
    if by not in ("weight", "population"):
        raise EncodingError("expected 'weight' or 'population'", where=f"{where}.by")
    if by == "population":
        missing = [r.name for r in regions if r.population is None]
        if missing:
            raise EncodingError(f"region {missing[0]!r} has no population", where=f"{where}.by")
        if sum(r.population or 0 for r in regions) == 0:
            raise EncodingError("the regions' total population is 0", where=f"{where}.by")
    return RegionsRequirement(share=share, strict=strict, by=by)


def _rule(v: Any, questions: Sequence[Question], regions: Sequence[Region], where: str) -> Rule:
    o = obj(v, where, ("type",), (*_COMMON, *_OPTIONAL, "scope", "regions"))
    typ = o["type"]
    if typ not in RULE_TYPES:
        raise EncodingError(
            f"unknown rule type {typ!r} (one of {', '.join(RULE_TYPES)})", where=f"{where}.type"
        )
    if typ == "double-majority":
        obj(o, where, (*_COMMON, "regions"), _OPTIONAL)
    else:
        obj(o, where, _COMMON, (*_OPTIONAL, "scope"))

    qi = small_int(o["question"], f"{where}.question", 0, LIMITS.small_int)
    if qi >= len(questions):
        raise EncodingError(
            f"no question {qi}: the referendum has {len(questions)}", where=f"{where}.question"
        )
    q = questions[qi]
    if isinstance(q, QuestionL):
        raise EncodingError(
            f"question {qi} is a Lists question: its result counts each list and each of its "
            "candidates, no single answer whose share of the voters a rule could test (a rule "
            "needs a homomorphic question with max 1)",
            where=f"{where}.question",
        )
    if not isinstance(q, QuestionH):
        raise EncodingError(
            f"question {qi} is non-homomorphic: its result is a list of ballots, not counts",
            where=f"{where}.question",
        )
    if q.max != 1:
        raise EncodingError(
            f"question {qi} allows {q.max} answers per ballot: a rule needs a question with "
            "max 1, where a share of the valid votes is a share of the voters",
            where=f"{where}.question",
        )
    ai = small_int(o["answer"], f"{where}.answer", 0, LIMITS.small_int)
    if ai >= len(q.answers):
        raise EncodingError(
            f"no answer {ai}: question {qi} has {len(q.answers)} (blank is not an answer)",
            where=f"{where}.answer",
        )

    half, one = Fraction(1, 2), Fraction(1)
    w = f"{where}.threshold"
    if typ == "majority":
        threshold = parse_fraction(o.get("threshold", "1/2"), w)
        if threshold != half:
            raise EncodingError(
                "a majority's threshold is 1/2; use a supermajority for another", where=w
            )
    elif typ == "supermajority":
        if "threshold" not in o:
            raise EncodingError("a supermajority needs a threshold, e.g. '2/3'", where=w)
        threshold = parse_fraction(o["threshold"], w, above=half, at_most=one)
    else:
        threshold = parse_fraction(o.get("threshold", "1/2"), w, at_least=half, at_most=one)
    strict = _bool(o["strict"], f"{where}.strict") if "strict" in o else True
    if strict and threshold == 1:
        raise EncodingError("more than all the valid votes can never be reached", where=w)

    scope: str | None = None
    if typ != "double-majority":
        scope = o.get("scope", "overall")
        if scope not in SCOPES:
            raise EncodingError(
                f"unknown scope {scope!r} (one of {', '.join(SCOPES)})", where=f"{where}.scope"
            )
    return Rule(
        type=typ,
        question=qi,
        answer=ai,
        threshold=threshold,
        strict=strict,
        quorum=_quorum(o.get("quorum", {}), f"{where}.quorum"),
        scope=scope,
        regions=_regions_requirement(o["regions"], f"{where}.regions", regions)
        if typ == "double-majority"
        else None,
    )


def _region(v: Any, where: str) -> Region:
    o = obj(v, where, ("election", "name"), ("population", "weight"))
    election = o["election"]
    if not isinstance(election, str) or not _UUID.match(election):
        raise EncodingError(
            "an election uuid is 14 to 64 Base58 characters", where=f"{where}.election"
        )
    return Region(
        name=_text(o["name"], f"{where}.name", MAX_NAME),
        election=election,
        weight=parse_fraction(o["weight"], f"{where}.weight", above=Fraction(0))
        if "weight" in o
        else Fraction(1),
        population=small_int(o["population"], f"{where}.population") if "population" in o else None,
    )


def _trustees(v: Any, where: str, *, poll: bool) -> Trustees:
    """The trustees; none (the server's own key alone) only in a poll."""
    o = obj(v, where, ("names",), ("threshold", "hash"))
    names = arr(o["names"], f"{where}.names", LIMITS.trustees)
    parsed = tuple(_text(n, f"{where}.names[{i}]", MAX_NAME) for i, n in enumerate(names))
    if not parsed and not poll:
        raise EncodingError(
            "at least one trustee (only a poll may have none: the server's key alone)",
            where=f"{where}.names",
        )
    if not parsed and "threshold" in o:
        raise EncodingError("no trustee: a threshold needs trustees", where=f"{where}.threshold")
    return Trustees(
        names=parsed,
        threshold=small_int(o["threshold"], f"{where}.threshold", 1, len(parsed))
        if "threshold" in o
        else None,
        hash=hash_ref(o["hash"], f"{where}.hash") if "hash" in o else None,
    )


def shard_name(index: int) -> str:
    """The name of a poll's shard ``index`` (from 0): ``shard-1``, ``shard-2``, ..."""
    return f"shard-{index + 1}"


def shard_of(poll_id: str, login: str, shards: int) -> int:
    """The shard (from 0) of voter ``login`` in the poll ``poll_id`` split into ``shards``:
    SHA-256 of the UTF-8 poll id, one NUL byte and the UTF-8 login, read as a big-endian
    integer, modulo the number of shards (the record's ``assignment``, ``sha256-mod``).
    Public and stable: anyone who knows a login recomputes its shard."""
    if shards < 1:
        raise ValueError("a poll has at least one shard")
    digest = hashlib.sha256(poll_id.encode() + b"\0" + login.encode()).digest()
    return int.from_bytes(digest, "big") % shards


def _poll_shards(o: dict[str, Any], regions: Sequence[Region], where: str) -> None:
    """A poll's record: its voters assigned by :func:`shard_of`, its regions the shards
    ``shard-1`` to ``shard-k`` in order, of weight 1, no decision rule."""
    if o.get("assignment") != ASSIGNMENT:
        raise EncodingError(
            f"a poll assigns its voters to shards by {ASSIGNMENT!r} (SHA-256 of the id, NUL, "
            "the login, modulo the number of shards)",
            where=f"{where}.assignment",
        )
    if "rule" in o:
        raise EncodingError("a poll has no decision rule", where=f"{where}.rule")
    for i, r in enumerate(regions):
        if r.name != shard_name(i) or r.weight != 1 or r.population is not None:
            raise EncodingError(
                f"a poll's region {i} is its shard {shard_name(i)!r}, of weight 1, no population",
                where=f"{where}.regions[{i}]",
            )


def _unique(values: Sequence[str], what: str, where: str) -> None:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise EncodingError(f"{what} {v!r} appears twice", where=f"{where}[{i}]")
        seen.add(v)


def _language(v: Any, where: str) -> str:
    if not isinstance(v, str) or len(v) > MAX_LANGUAGE or not _LANGUAGE.match(v):
        raise EncodingError(
            f"{v!r} is not a language tag: 2 or 3 lowercase letters, then optional subtags"
            " of 1 to 8 letters or digits after a hyphen (e.g. uk, en-GB), at most"
            f" {MAX_LANGUAGE} characters",
            where=where,
        )
    return v


@dataclass(frozen=True)
class Translation:
    """The texts of the record in one language: its title and, for each question (in order),
    the question and its answers, in the shape of the question's own (a Lists question's answers
    are its rows, each list then its candidates)."""

    title: str
    questions: tuple[tuple[str, tuple[str, ...] | tuple[tuple[str, ...], ...]], ...]

    def to_value(self) -> dict[str, Any]:
        return {
            "questions": [
                {
                    "answers": [a if isinstance(a, str) else list(a) for a in answers],
                    "question": question,
                }
                for question, answers in self.questions
            ],
            "title": self.title,
        }


def _translated_answers(
    q: Question, v: Any, where: str
) -> tuple[str, ...] | tuple[tuple[str, ...], ...]:
    a = arr(v, where, LIMITS.answers, len(q.answers))
    if isinstance(q, QuestionL):
        rows: list[tuple[str, ...]] = []
        for i, (row, orig) in enumerate(zip(a, q.answers, strict=True)):
            r = arr(row, f"{where}[{i}]", LIMITS.answers, len(orig))
            rows.append(tuple(_text(t, f"{where}[{i}][{j}]") for j, t in enumerate(r)))
        return tuple(rows)
    return tuple(_text(t, f"{where}[{i}]") for i, t in enumerate(a))


def _translation(v: Any, questions: Sequence[Question], where: str) -> Translation:
    o = obj(v, where, ("title", "questions"))
    wq = f"{where}.questions"
    qs = arr(o["questions"], wq, LIMITS.questions, len(questions))
    texts = []
    for i, (tq, q) in enumerate(zip(qs, questions, strict=True)):
        w = f"{wq}[{i}]"
        t = obj(tq, w, ("question", "answers"))
        texts.append(
            (
                _text(t["question"], f"{w}.question"),
                _translated_answers(q, t["answers"], f"{w}.answers"),
            )
        )
    return Translation(_text(o["title"], f"{where}.title", MAX_NAME * 5), tuple(texts))


def _translations(
    v: Any, questions: Sequence[Question], language: str | None, where: str
) -> dict[str, Translation]:
    if not isinstance(v, dict):
        raise EncodingError("expected a JSON object: language tag -> texts", where=where)
    if not v:
        raise EncodingError("at least one translation (or leave the field out)", where=where)
    if len(v) > MAX_TRANSLATIONS:
        raise EncodingError(
            f"{len(v)} translations, more than the {MAX_TRANSLATIONS} allowed", where=where
        )
    out: dict[str, Translation] = {}
    for tag in sorted(v):
        w = f"{where}.{tag}" if isinstance(tag, str) and _LANGUAGE.match(tag) else where
        _language(tag, w)
        if tag == language:
            raise EncodingError(
                f"the original texts are in {tag!r}: no translation into it", where=w
            )
        out[tag] = _translation(v[tag], questions, w)
    return out


_FIELDS = ("version", "id", "title", "questions", "regions", "trustees", "opening", "closing")
_OPTIONAL_FIELDS = ("rule", "kind", "assignment", "language", "translations")
#: what a record is: a referendum (the default, not written) or a poll (its regions are its
#: shards, it has no decision rule)
KINDS = ("referendum", "poll")
#: the assignment of a poll's voters to its shards (see :func:`shard_of`)
ASSIGNMENT = "sha256-mod"


@dataclass(frozen=True)
class Referendum:
    """A referendum record (see the module docstring). :meth:`from_json` is the checking
    constructor."""

    id: str
    title: str
    questions: tuple[Question, ...]
    regions: tuple[Region, ...]
    trustees: Trustees
    opening: str
    closing: str
    rule: Rule | None
    kind: str = "referendum"
    #: the language of the original texts (a language tag), when stated
    language: str | None = None
    #: the texts in other languages, by language tag (empty: none, and not written)
    translations: Mapping[str, Translation] = field(default_factory=dict, hash=False)

    def texts(self, language: str) -> Translation | None:
        """The texts in ``language``, if the record has them (the original's when ``language``
        is the record's own)."""
        if language == self.language:
            return self.original_texts()
        return self.translations.get(language)

    def original_texts(self) -> Translation:
        return Translation(
            self.title,
            tuple(
                (q.question, tuple(tuple(r) for r in q.answers))
                if isinstance(q, QuestionL)
                else (q.question, tuple(q.answers))
                for q in self.questions
            ),
        )

    @property
    def is_poll(self) -> bool:
        return self.kind == "poll"

    @classmethod
    def from_json(cls, raw: bytes | str, where: str = "referendum") -> Referendum:
        v = strictjson.loads(raw, max_size=MAX_REFERENDUM_BYTES, where=where)
        o = obj(v, where, _FIELDS, _OPTIONAL_FIELDS)
        version = small_int(o["version"], f"{where}.version")
        if version != 1:
            raise EncodingError(f"unsupported version {version}", where=f"{where}.version")
        rid = o["id"]
        if not isinstance(rid, str) or not _ID.match(rid):
            raise EncodingError(
                "an id is 1 to 64 characters of A-Z a-z 0-9 . _ - (not starting with . _ -)",
                where=f"{where}.id",
            )
        wq = f"{where}.questions"
        qs = arr(o["questions"], wq, LIMITS.questions)
        if not qs:
            raise EncodingError("at least one question", where=wq)
        questions = tuple(_question(q, f"{wq}[{i}]") for i, q in enumerate(qs))
        wr = f"{where}.regions"
        rs = arr(o["regions"], wr, MAX_REGIONS)
        if not rs:
            raise EncodingError("at least one region", where=wr)
        regions = tuple(_region(r, f"{wr}[{i}]") for i, r in enumerate(rs))
        _unique([r.name for r in regions], "region name", wr)
        _unique([r.election for r in regions], "election", wr)
        opening = utc_time(o["opening"], f"{where}.opening")
        closing = utc_time(o["closing"], f"{where}.closing")
        if closing <= opening:  # same fixed-width format: text order is time order
            raise EncodingError(
                f"closing {closing} is not after opening {opening}", where=f"{where}.closing"
            )
        language = _language(o["language"], f"{where}.language") if "language" in o else None
        kind = o.get("kind", "referendum")
        if kind not in KINDS:
            raise EncodingError(
                f"unknown kind {kind!r} (one of {', '.join(KINDS)})", where=f"{where}.kind"
            )
        if kind == "poll":
            _poll_shards(o, regions, where)
        elif "assignment" in o:
            raise EncodingError(
                "only a poll assigns its voters to shards", where=f"{where}.assignment"
            )
        return cls(
            id=rid,
            title=_text(o["title"], f"{where}.title", MAX_NAME * 5),
            questions=questions,
            regions=regions,
            trustees=_trustees(o["trustees"], f"{where}.trustees", poll=kind == "poll"),
            opening=opening,
            closing=closing,
            rule=_rule(o["rule"], questions, regions, f"{where}.rule") if "rule" in o else None,
            kind=kind,
            language=language,
            translations=(
                _translations(o["translations"], questions, language, f"{where}.translations")
                if "translations" in o
                else {}
            ),
        )

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "closing": self.closing,
            "id": self.id,
            "opening": self.opening,
            "questions": [_question_value(q) for q in self.questions],
            "regions": [r.to_value() for r in self.regions],
        }
        if self.rule is not None:
            out["rule"] = self.rule.to_value()
        out |= {"title": self.title, "trustees": self.trustees.to_value(), "version": 1}
        if self.is_poll:  # written only when not the default: referendums' records unchanged
            out |= {"assignment": ASSIGNMENT, "kind": self.kind}
        if self.language is not None:  # written only when present: older records unchanged
            out["language"] = self.language
        if self.translations:
            out["translations"] = {k: t.to_value() for k, t in sorted(self.translations.items())}
        return out

    def to_json(self) -> bytes:
        """The canonical serialization: keys sorted, compact, UTF-8, defaults written out."""
        return _canonical(self.to_value())

    @property
    def fingerprint(self) -> str:
        """``H_JSON`` of :meth:`to_json` (SHA256, Base64 without padding)."""
        return h_json(self.to_json())

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise ConsistencyError(f"no region {name!r} in referendum {self.id}")

    def election_template(self, region: Region) -> bytes:
        """The belenios election template of ``region``'s election (for
        :func:`~plebiscite.protocol.election_setup.make_election`)."""
        return strictjson.dumps_compact(
            {
                "description": self.title,
                "name": f"{self.title} ({region.name})",
                "questions": [_question_value(q) for q in self.questions],
            }
        )


def check_election(
    referendum: Referendum, election: Election, trustees_raw: bytes | None = None
) -> Region:
    """The region whose election this is; :class:`ConsistencyError` if it is none of them, if
    its questions are not the referendum's, or (when both are known) if its trustees structure
    is not the one the referendum names."""
    where = f"election {election.uuid}"
    region = next((r for r in referendum.regions if r.election == election.uuid), None)
    if region is None:
        raise ConsistencyError(f"not an election of referendum {referendum.id}", where=where)
    if len(election.questions) != len(referendum.questions):
        raise ConsistencyError(
            f"{len(election.questions)} questions, the referendum has {len(referendum.questions)}",
            where=where,
        )
    for i, (a, b) in enumerate(zip(election.questions, referendum.questions, strict=True)):
        if a != b:
            raise ConsistencyError(
                "differs from the referendum's question", where=f"{where}, question {i}"
            )
    if trustees_raw is not None and referendum.trustees.hash is not None:
        got = sha256_hex(trustees_raw)
        if got != referendum.trustees.hash:
            raise ConsistencyError(
                f"trustees structure {got}, the referendum names {referendum.trustees.hash}",
                where=where,
            )
    return region


# -- counting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionResult:
    """What the verifier says of a region's election: its ``result`` (one entry per question,
    as :attr:`~plebiscite.protocol.report.Report.result`; None until the result is published),
    the number of voters on the ``roll`` and the number who ``voted`` (blank ballots
    included)."""

    result: Sequence[Any] | None
    roll: int
    voted: int


@dataclass(frozen=True)
class Count:
    """The counts a rule looks at. ``valid`` excludes blank votes; ``voted`` includes them."""

    yes: int
    valid: int
    blank: int
    voted: int
    roll: int

    def __add__(self, other: Count) -> Count:
        return Count(
            self.yes + other.yes,
            self.valid + other.valid,
            self.blank + other.blank,
            self.voted + other.voted,
            self.roll + other.roll,
        )

    @property
    def share(self) -> Fraction | None:
        """``yes / valid``, None without valid votes."""
        return Fraction(self.yes, self.valid) if self.valid else None

    @property
    def turnout(self) -> Fraction | None:
        """``voted / roll``, None with an empty roll."""
        return Fraction(self.voted, self.roll) if self.roll else None

    def to_value(self) -> dict[str, Any]:
        share, turnout = self.share, self.turnout
        return {
            "blank": self.blank,
            "roll": self.roll,
            "share": None if share is None else str(share),
            "turnout": None if turnout is None else str(turnout),
            "valid": self.valid,
            "voted": self.voted,
            "yes": self.yes,
        }


def _nat(v: Any, where: str) -> int:
    if type(v) is not int or v < 0:
        raise EncodingError("expected a non-negative integer", where=where)
    return v


def _count(rule: Rule, questions: Sequence[Question], res: RegionResult, where: str) -> Count:
    roll = _nat(res.roll, f"{where}.roll")
    voted = _nat(res.voted, f"{where}.voted")
    if voted > roll:
        raise ConsistencyError(f"{voted} voted but only {roll} on the roll", where=where)
    w = f"{where}.result"
    if isinstance(res.result, str | bytes) or not isinstance(res.result, Sequence):
        raise EncodingError("expected the list of the questions' results", where=w)
    if len(res.result) != len(questions):
        raise EncodingError(
            f"{len(res.result)} question results, the referendum has {len(questions)}", where=w
        )
    q = questions[rule.question]
    assert isinstance(q, QuestionH)  # checked when the rule was parsed
    wq = f"{w}[{rule.question}]"
    col = res.result[rule.question]
    n = len(q.answers) + (1 if q.blank else 0)
    if isinstance(col, str | bytes) or not isinstance(col, Sequence) or len(col) != n:
        raise EncodingError(
            f"expected {n} counts ({'blank, then ' if q.blank else ''}one per answer)", where=wq
        )
    counts = [_nat(c, f"{wq}[{j}]") for j, c in enumerate(col)]
    blank = counts[0] if q.blank else 0
    answers = counts[1:] if q.blank else counts
    return Count(answers[rule.answer], sum(answers), blank, voted, roll)


def _decide(rule: Rule, c: Count) -> tuple[Verdict, str]:
    """The rule's test on one set of counts, and why, with the exact fractions."""
    said: list[str] = []
    quorum = rule.quorum
    for name, needed, num in (
        ("turnout", quorum.turnout, c.voted),
        (f"answer {rule.answer}", quorum.approval, c.yes),
    ):
        if needed is None:
            continue
        if c.roll == 0:
            return Verdict.QUORUM_NOT_MET, f"quorum not met: nobody on the roll ({name})"
        f = Fraction(num, c.roll)
        text = f"{name} {num}/{c.roll} of the roll = {format_fraction(f)}"
        if f < needed:
            return Verdict.QUORUM_NOT_MET, f"quorum not met: {text} < {needed}"
        said.append(f"{text} >= {needed}")
    blank = f" ({c.blank} blank)" if c.blank else ""
    if c.valid == 0:
        said.insert(0, f"no valid vote{blank}")
        return Verdict.FAILED, "; ".join(said)
    share = Fraction(c.yes, c.valid)
    ok = share > rule.threshold if rule.strict else share >= rule.threshold
    op = (">" if ok else "<=") if rule.strict else (">=" if ok else "<")
    said.insert(
        0,
        f"yes {c.yes} of {c.valid} valid votes{blank} = {format_fraction(share)} {op} "
        f"{rule.threshold}",
    )
    return (Verdict.PASSED if ok else Verdict.FAILED), "; ".join(said)


@dataclass(frozen=True)
class Counts:
    """The counts of a vote under no decision rule (a poll's): each question's result as the
    verifier's (a homomorphic question's counts, blank first where it allows blank; a Lists
    question's rows, a list then its candidates; a non-homomorphic question's ballots), the
    voters on the ``roll`` and those who ``voted``, and for each homomorphic question each
    answer's share of its valid votes (blank not counted; None without a valid vote)."""

    result: tuple[Any, ...]
    voted: int
    roll: int
    shares: tuple[tuple[Fraction | None, ...] | None, ...]

    @property
    def turnout(self) -> Fraction | None:
        return Fraction(self.voted, self.roll) if self.roll else None

    def to_value(self) -> dict[str, Any]:
        turnout = self.turnout
        return {
            "result": list(self.result),
            "roll": self.roll,
            "shares": [
                None if row is None else [None if f is None else str(f) for f in row]
                for row in self.shares
            ],
            "turnout": None if turnout is None else str(turnout),
            "voted": self.voted,
        }


@dataclass(frozen=True)
class RegionOutcome:
    region: Region
    verdict: Verdict | None  # None: no decision rule, the counts are the outcome
    count: Count | None  # None: not tallied yet, or no decision rule
    reason: str
    counts: Counts | None = None  # with no decision rule, once tallied

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "count": None if self.count is None else self.count.to_value(),
            "election": self.region.election,
            "name": self.region.name,
            "reason": self.reason,
            "verdict": None if self.verdict is None else self.verdict.value,
        }
        if self.counts is not None:
            out["counts"] = self.counts.to_value()
        return out


@dataclass(frozen=True)
class Outcome:
    """The verdict of a referendum: per region, on the pooled counts (``overall`` scope and
    double majority), and overall, with a human-readable explanation."""

    referendum: str  # the fingerprint of the referendum record
    verdict: Verdict | None  # None: no decision rule, every region counted
    regions: tuple[RegionOutcome, ...]
    pooled: Count | None
    pooled_verdict: Verdict | None
    explanation: str
    pooled_counts: Counts | None = None  # with no decision rule, once every region is counted

    def region(self, name: str) -> RegionOutcome:
        for r in self.regions:
            if r.region.name == name:
                return r
        raise KeyError(name)

    def to_json(self) -> bytes:
        """The outcome record (canonical: keys sorted, compact)."""
        value: dict[str, Any] = {
            "explanation": self.explanation,
            "pooled": None
            if self.pooled is None
            else {**self.pooled.to_value(), "verdict": str(self.pooled_verdict)},
            "referendum": self.referendum,
            "regions": [r.to_value() for r in self.regions],
            "verdict": None if self.verdict is None else self.verdict.value,
        }
        if self.pooled_counts is not None:
            value["pooled_counts"] = self.pooled_counts.to_value()
        return _canonical(value)


def _regions_met(req: RegionsRequirement, regions: Sequence[RegionOutcome]) -> tuple[bool, str]:
    passed = [r for r in regions if r.verdict is Verdict.PASSED]
    if req.count is not None:
        ok = len(passed) >= req.count
        return ok, (
            f"{len(passed)} of {len(regions)} regions passed, "
            f"{'at least' if ok else 'fewer than'} the {req.count} required"
        )
    assert req.share is not None
    if req.by == "population":
        got = Fraction(sum(r.region.population or 0 for r in passed))
        total = Fraction(sum(r.region.population or 0 for r in regions))
    else:
        got = sum((r.region.weight for r in passed), Fraction(0))
        total = sum((r.region.weight for r in regions), Fraction(0))
    share = got / total
    ok = share > req.share if req.strict else share >= req.share
    op = (">" if ok else "<=") if req.strict else (">=" if ok else "<")
    return ok, (
        f"{len(passed)} of {len(regions)} regions passed, holding {req.by} {got} of {total} "
        f"= {format_fraction(share)} {op} {req.share}"
    )


def compute_outcome(
    referendum: Referendum,
    results: Mapping[str, RegionResult | tuple[Sequence[Any] | None, int, int]],
) -> Outcome:
    """Apply the referendum's rule to the regions' results, keyed by region name: each a
    :class:`RegionResult` or a tuple ``(result, roll, voted)``. A region missing from
    ``results``, or whose result is None, is *not tallied yet*, and so is the overall verdict
    until every region is tallied. Malformed results raise :class:`EncodingError`, impossible
    ones (more voters than the roll, an unknown region) :class:`ConsistencyError`. With no
    rule (a poll) there is no verdict: the outcome is each region's counts and the pooled
    counts (:func:`_count_only`)."""
    rule = referendum.rule
    names = {r.name for r in referendum.regions}
    for key in results:
        if key not in names:
            raise ConsistencyError(
                f"no region {key!r} in referendum {referendum.id}", where="results"
            )
    given_results: dict[str, RegionResult | None] = {}
    for region in referendum.regions:
        given = results.get(region.name)
        if isinstance(given, tuple):
            if len(given) != 3:
                raise EncodingError(
                    "expected (result, roll, voted)", where=f"results[{region.name!r}]"
                )
            given = RegionResult(*given)
        given_results[region.name] = given
    if rule is None:
        return _count_only(referendum, given_results)

    outcomes: list[RegionOutcome] = []
    for region in referendum.regions:
        res = given_results[region.name]
        if res is None or res.result is None:
            outcomes.append(RegionOutcome(region, Verdict.NOT_TALLIED, None, "not tallied yet"))
            continue
        count = _count(rule, referendum.questions, res, f"results[{region.name!r}]")
        verdict, reason = _decide(rule, count)
        outcomes.append(RegionOutcome(region, verdict, count, reason))

    lines = [
        f"Referendum {referendum.id} ({referendum.title!r}, record {referendum.fingerprint}).",
        "Rule: " + rule.describe(referendum.questions),
    ]
    informative = " (for information)" if rule.scope == "overall" else ""
    for o in outcomes:
        lines.append(f"Region {o.region.name!r}{informative}: {o.verdict}: {o.reason}.")

    pooled: Count | None = None
    pooled_verdict: Verdict | None = None
    missing = [o.region.name for o in outcomes if o.count is None]
    if missing:
        verdict = Verdict.NOT_TALLIED
        lines.append(f"Overall: not tallied yet (waiting for {', '.join(map(repr, missing))}).")
    elif rule.scope == "per-region":
        failing = [o for o in outcomes if o.verdict is not Verdict.PASSED]
        verdict = Verdict.FAILED if failing else Verdict.PASSED
        lines.append(
            "Overall: passed in every region."
            if not failing
            else "Overall: failed: not passed in "
            + ", ".join(f"{o.region.name!r} ({o.verdict})" for o in failing)
            + "."
        )
    else:
        pooled = sum((o.count for o in outcomes if o.count is not None), Count(0, 0, 0, 0, 0))
        pooled_verdict, reason = _decide(rule, pooled)
        lines.append(f"All regions pooled: {pooled_verdict.value}: {reason}.")
        verdict = pooled_verdict
        if rule.regions is not None:
            ok, reason = _regions_met(rule.regions, outcomes)
            lines.append(f"Regions: {reason}.")
            if pooled_verdict is Verdict.PASSED and not ok:
                verdict = Verdict.FAILED
        lines.append(f"Overall: {verdict.value}.")
    return Outcome(
        referendum=referendum.fingerprint,
        verdict=verdict,
        regions=tuple(outcomes),
        pooled=pooled,
        pooled_verdict=pooled_verdict,
        explanation="\n".join(lines),
    )


# -- no decision rule: the counts ------------------------------------------------------------


def _shares(q: Question, col: Sequence[int]) -> tuple[Fraction | None, ...] | None:
    """Each answer's share of the question's valid votes (a homomorphic question only)."""
    if not isinstance(q, QuestionH):
        return None
    answers = list(col[1:] if q.blank else col)
    valid = sum(answers)
    return tuple(Fraction(c, valid) if valid else None for c in answers)


def _column(q: Question, col: Any, where: str) -> Any:
    """One question's result, checked against its shape (counts, or a Lists question's rows;
    a non-homomorphic question's list of ballots as it is)."""
    if isinstance(col, str | bytes) or not isinstance(col, Sequence):
        raise EncodingError("expected a list", where=where)
    if isinstance(q, QuestionH):
        n = len(q.answers) + (1 if q.blank else 0)
        if len(col) != n:
            raise EncodingError(
                f"expected {n} counts ({'blank, then ' if q.blank else ''}one per answer)",
                where=where,
            )
        return [_nat(c, f"{where}[{j}]") for j, c in enumerate(col)]
    if isinstance(q, QuestionL):
        if len(col) != len(q.answers):
            raise EncodingError(f"expected {len(q.answers)} rows, one per list", where=where)
        rows = []
        for i, (row, names) in enumerate(zip(col, q.answers, strict=True)):
            w = f"{where}[{i}]"
            if isinstance(row, str | bytes) or not isinstance(row, Sequence):
                raise EncodingError("expected a list", where=w)
            if len(row) != len(names):
                raise EncodingError(
                    f"expected {len(names)} counts (the list, then its candidates)", where=w
                )
            rows.append([_nat(c, f"{w}[{j}]") for j, c in enumerate(row)])
        return rows
    return list(col)


def _counts_of(questions: Sequence[Question], res: RegionResult, where: str) -> Counts:
    roll = _nat(res.roll, f"{where}.roll")
    voted = _nat(res.voted, f"{where}.voted")
    if voted > roll:
        raise ConsistencyError(f"{voted} voted but only {roll} on the roll", where=where)
    w = f"{where}.result"
    if isinstance(res.result, str | bytes) or not isinstance(res.result, Sequence):
        raise EncodingError("expected the list of the questions' results", where=w)
    if len(res.result) != len(questions):
        raise EncodingError(
            f"{len(res.result)} question results, the record has {len(questions)}", where=w
        )
    result = tuple(
        _column(q, col, f"{w}[{i}]")
        for i, (q, col) in enumerate(zip(questions, res.result, strict=True))
    )
    return Counts(
        result, voted, roll, tuple(_shares(q, c) for q, c in zip(questions, result, strict=True))
    )


def _sum(q: Question, a: Any, b: Any) -> Any:
    if isinstance(q, QuestionH):
        return [x + y for x, y in zip(a, b, strict=True)]
    if isinstance(q, QuestionL):
        return [[x + y for x, y in zip(r, s, strict=True)] for r, s in zip(a, b, strict=True)]
    return [*a, *b]  # the ballots of a non-homomorphic question, region after region


def _pool(questions: Sequence[Question], counts: Sequence[Counts]) -> Counts:
    result: list[Any] = list(counts[0].result)
    for c in counts[1:]:
        result = [_sum(q, x, y) for q, x, y in zip(questions, result, c.result, strict=True)]
    return Counts(
        tuple(result),
        sum(c.voted for c in counts),
        sum(c.roll for c in counts),
        tuple(_shares(q, col) for q, col in zip(questions, result, strict=True)),
    )


def _describe_counts(questions: Sequence[Question], c: Counts) -> str:
    parts = [f"{c.voted} of {c.roll} on the roll voted"]
    for i, (q, col, shares) in enumerate(zip(questions, c.result, c.shares, strict=True)):
        if isinstance(q, QuestionH) and shares is not None:
            answers = col[1:] if q.blank else col
            said = [
                f"{name!r} {n}" + ("" if f is None else f" = {format_fraction(f)}")
                for name, n, f in zip(q.answers, answers, shares, strict=True)
            ]
            blank = f", blank {col[0]}" if q.blank else ""
            parts.append(f"question {i}: {', '.join(said)}{blank}")
        else:
            parts.append(f"question {i}: {json.dumps(col)}")
    return "; ".join(parts)


def _count_only(referendum: Referendum, results: Mapping[str, RegionResult | None]) -> Outcome:
    """The outcome of a record with no decision rule: each region's counts and, once every
    region is counted, the pooled counts; no verdict (``not-tallied`` until then)."""
    questions = referendum.questions
    what = "Poll" if referendum.is_poll else "Referendum"
    lines = [
        f"{what} {referendum.id} ({referendum.title!r}, record {referendum.fingerprint}).",
        "No decision rule: the outcome is the counts, shard by shard and pooled."
        if referendum.is_poll
        else "No decision rule: the outcome is the counts, region by region and pooled.",
    ]
    outcomes: list[RegionOutcome] = []
    for region in referendum.regions:
        res = results.get(region.name)
        if res is None or res.result is None:
            outcomes.append(RegionOutcome(region, Verdict.NOT_TALLIED, None, "not tallied yet"))
            lines.append(f"{region.name!r}: not tallied yet.")
            continue
        c = _counts_of(questions, res, f"results[{region.name!r}]")
        reason = _describe_counts(questions, c)
        outcomes.append(RegionOutcome(region, None, None, reason, c))
        lines.append(f"{region.name!r}: {reason}.")
    missing = [o.region.name for o in outcomes if o.counts is None]
    pooled: Counts | None = None
    verdict: Verdict | None = None
    if missing:
        verdict = Verdict.NOT_TALLIED
        lines.append(f"Pooled: not tallied yet (waiting for {', '.join(map(repr, missing))}).")
    else:
        pooled = _pool(questions, [o.counts for o in outcomes if o.counts is not None])
        lines.append(f"Pooled: {_describe_counts(questions, pooled)}.")
    return Outcome(
        referendum=referendum.fingerprint,
        verdict=verdict,
        regions=tuple(outcomes),
        pooled=None,
        pooled_verdict=None,
        explanation="\n".join(lines),
        pooled_counts=pooled,
    )
