"""A poll's record (a referendum record of kind poll): written only when not the default, its
shards and their public assignment rule, no decision rule, possibly no trustee; the outcome
under no rule: each region's counts and the pooled counts with exact shares, no verdict."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plebiscite.errors import ConsistencyError, EncodingError
from plebiscite.protocol.referendum import (
    Referendum,
    Verdict,
    compute_outcome,
    shard_name,
    shard_of,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "kat" / "poll-shards.json"
UUIDS = ["Ab3dEf5hJk7mNp", "Bc4eFg6iKm8nPq", "Cd5fGh7jLn9oQr"]
QUESTIONS = [
    {"question": "Lunch?", "answers": ["Pizza", "Sushi"], "min": 1, "max": 1, "blank": True},
    {"type": "Lists", "value": {"question": "Lists", "answers": [["L1", "a", "b"], ["L2", "c"]]}},
    {"type": "NonHomomorphic", "value": {"question": "Rank", "answers": ["x", "y"]}},
]


def poll(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": 1,
        "id": "lunch-abcdefghij",
        "kind": "poll",
        "assignment": "sha256-mod",
        "title": "Lunch",
        "questions": QUESTIONS,
        "regions": [{"name": shard_name(i), "election": UUIDS[i]} for i in range(2)],
        "trustees": {"names": []},
        "opening": "2030-05-12T06:00:00Z",
        "closing": "2030-05-12T18:00:00Z",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def make(**changes: Any) -> Referendum:
    return Referendum.from_json(json.dumps(poll(**changes)))


def test_a_poll_record_in_canonical_form():
    p = make()
    assert p.is_poll and p.rule is None and p.trustees.names == ()
    value = json.loads(p.to_json())
    assert value["kind"] == "poll" and value["assignment"] == "sha256-mod"
    assert "rule" not in value
    assert Referendum.from_json(p.to_json()) == p


def test_a_referendum_record_writes_no_kind():
    ref = make(kind=None, assignment=None, trustees={"names": ["Alice"]})
    value = json.loads(ref.to_json())
    assert not ref.is_poll and "kind" not in value and "assignment" not in value
    assert "rule" not in value  # no rule: nothing decided, the counts alone


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"kind": "survey"}, "referendum.kind", "unknown kind"),
        ({"assignment": None}, "referendum.assignment", "sha256-mod"),
        ({"assignment": "round-robin"}, "referendum.assignment", "sha256-mod"),
        (
            {"rule": {"type": "majority", "question": 0, "answer": 0}},
            "referendum.rule",
            "no decision rule",
        ),
        (
            {"regions": [{"name": "North", "election": UUIDS[0]}]},
            "referendum.regions[0]",
            "shard-1",
        ),
        (
            {"regions": [{"name": "shard-1", "election": UUIDS[0], "weight": "2"}]},
            "referendum.regions[0]",
            "weight 1",
        ),
        (
            {"trustees": {"names": [], "threshold": 1}},
            "referendum.trustees.threshold",
            "needs trustees",
        ),
        ({"kind": None}, "referendum.assignment", "only a poll"),
        ({"kind": None, "assignment": None}, "referendum.trustees.names", "at least one trustee"),
    ],
)
def test_parse_errors_name_the_field(change, where, message):
    with pytest.raises(EncodingError) as e:
        make(**change)
    assert e.value.where == where and message in e.value.message


def test_the_assignment_rule_known_answers():
    for v in json.loads(VECTORS.read_text())["vectors"]:
        assert shard_of(v["poll"], v["login"], v["shards"]) == v["shard"]
        assert int(v["sha256"], 16) % v["shards"] == v["shard"]
    with pytest.raises(ValueError):
        shard_of("p", "a", 0)


@given(st.text(min_size=1, max_size=20), st.text(max_size=40), st.integers(1, 50))
def test_the_assignment_is_stable_and_in_range(pid, login, k):
    i = shard_of(pid, login, k)
    assert 0 <= i < k and shard_of(pid, login, k) == i


def results(a: tuple[int, int, int], b: tuple[int, int, int]) -> dict[str, Any]:
    def one(c: tuple[int, int, int], ballots: list[list[int]]) -> tuple[Any, int, int]:
        blank, pizza, sushi = c
        voted = blank + pizza + sushi
        return ([[blank, pizza, sushi], [[1, 1, 0], [0, 0]], ballots], voted + 1, voted)

    return {"shard-1": one(a, [[1, 2]]), "shard-2": one(b, [[2, 1], [1, 2]])}


def test_no_rule_the_counts_pooled_with_exact_shares_and_no_verdict():
    p = make()
    out = compute_outcome(p, results((1, 2, 1), (0, 1, 3)))
    assert out.verdict is None and out.pooled is None and out.pooled_verdict is None
    assert [r.verdict for r in out.regions] == [None, None]
    s1 = out.regions[0].counts
    assert s1 is not None and s1.shares[0] == (Fraction(2, 3), Fraction(1, 3))
    pooled = out.pooled_counts
    assert pooled is not None
    assert pooled.result[0] == [1, 3, 4] and pooled.shares[0] == (Fraction(3, 7), Fraction(4, 7))
    assert pooled.result[1] == [[2, 2, 0], [0, 0]] and pooled.shares[1] is None
    assert pooled.result[2] == [[1, 2], [2, 1], [1, 2]]
    assert (pooled.voted, pooled.roll, pooled.turnout) == (8, 10, Fraction(4, 5))
    value = json.loads(out.to_json())
    assert value["verdict"] is None
    assert value["pooled_counts"]["shares"] == [["3/7", "4/7"], None, None]
    assert value["regions"][1]["counts"]["turnout"] == "4/5"
    assert "'Pizza' 3 = 3/7" in out.explanation and "No decision rule" in out.explanation


def test_no_rule_not_tallied_until_every_shard_is():
    p = make()
    out = compute_outcome(p, {"shard-1": results((1, 1, 1), (0, 0, 0))["shard-1"]})
    assert out.verdict is Verdict.NOT_TALLIED and out.pooled_counts is None
    assert out.regions[1].verdict is Verdict.NOT_TALLIED
    assert json.loads(out.to_json())["verdict"] == "not-tallied"


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ([[1, 2], [[1, 1, 0], [0, 0]], []], "expected 3 counts"),
        ([[0, 1, 2], [[1, 1], [0, 0]], []], "the list, then its candidates"),
        ([[0, 1, 2], [[1, 1, 0]], []], "one per list"),
        ([[0, -1, 2], [[1, 1, 0], [0, 0]], []], "non-negative"),
        ([[0, 1, 2]], "1 question results, the record has 3"),
    ],
)
def test_no_rule_malformed_results_are_refused(result, message):
    with pytest.raises(EncodingError) as e:
        compute_outcome(make(), {"shard-1": (result, 5, 3)})
    assert message in str(e.value)


def test_no_rule_more_voters_than_the_roll():
    with pytest.raises(ConsistencyError):
        compute_outcome(make(), {"shard-1": ([[0, 1, 2], [[1, 1, 0], [0, 0]], []], 2, 3)})
