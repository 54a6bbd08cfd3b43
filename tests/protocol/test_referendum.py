"""Referendum records and decision rules: canonical form, strict parsing naming the field, exact
thresholds and quorums, blank votes, double majorities, Lists questions (kept, made into each
election, refused in rules), and a verifier's real result."""

from __future__ import annotations

import copy
import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import peer_vector
from plebiscite.crypto.groups import BELENIOS_2048, ED25519
from plebiscite.crypto.hashing import h_json, sha256_hex
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import ConsistencyError, EncodingError, SizeError
from plebiscite.protocol.election_setup import make_election, make_trustee_key, make_trustees
from plebiscite.protocol.messages import QuestionL, parse_election
from plebiscite.protocol.referendum import (
    Count,
    Referendum,
    RegionResult,
    Verdict,
    check_election,
    compute_outcome,
    format_fraction,
    parse_fraction,
)

P, F, Q, N = Verdict.PASSED, Verdict.FAILED, Verdict.QUORUM_NOT_MET, Verdict.NOT_TALLIED

YES_NO_BLANK = {
    "question": "Do you approve the charter?",
    "answers": ["Yes", "No"],
    "min": 1,
    "max": 1,
    "blank": True,
}
YES_NO = {"question": "And the annex?", "answers": ["Yes", "No"], "min": 1, "max": 1}
UUIDS = ["Ab3dEf5hJk7mNp", "Bc4eFg6iKm8nPq", "Cd5fGh7jLn9oQr", "De6gHi8kMo1pRs"]


def record(rule: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": 1,
        "id": "charter-2030",
        "title": "Charter referendum",
        "questions": [YES_NO_BLANK, YES_NO],
        "regions": [
            {"name": "North", "election": UUIDS[0], "population": 300},
            {"name": "South", "election": UUIDS[1], "population": 200},
            {"name": "East", "election": UUIDS[2], "population": 100, "weight": "1/2"},
        ],
        "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},
        "opening": "2030-05-12T06:00:00Z",
        "closing": "2030-05-12T18:00:00Z",
        "rule": rule if rule is not None else {"type": "majority", "question": 0, "answer": 0},
    }
    base.update(changes)
    return base


def make(rule: dict[str, Any] | None = None, **changes: Any) -> Referendum:
    return Referendum.from_json(json.dumps(record(rule, **changes)))


def region_result(yes: int, no: int, blank: int = 0, *, roll: int | None = None, extra: int = 0):
    """A result as the verifier reports it (question 0 with its blank count first), the roll
    and the number who voted (``extra``: ballots with nothing counted in question 0)."""
    voted = yes + no + blank + extra
    return ([[blank, yes, no], [0, 0]], voted if roll is None else roll, voted)


def verdict_of(rule: dict[str, Any], yes: int, no: int, blank: int = 0, roll: int | None = None):
    ref = make(rule, regions=[{"name": "All", "election": UUIDS[0]}])
    return compute_outcome(ref, {"All": region_result(yes, no, blank, roll=roll)}).verdict


# -- the record ------------------------------------------------------------------------------


def test_canonical_form_sorted_compact_with_defaults_written_out():
    ref = make()
    raw = ref.to_json()
    value = json.loads(raw)
    assert raw == json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    assert value["rule"] == {
        "answer": 0,
        "question": 0,
        "quorum": {},
        "scope": "overall",
        "strict": True,
        "threshold": "1/2",
        "type": "majority",
    }
    assert value["regions"][0] == {
        "election": UUIDS[0],
        "name": "North",
        "population": 300,
        "weight": "1",
    }
    assert "blank" not in value["questions"][1]
    assert ref.fingerprint == h_json(raw)
    again = Referendum.from_json(raw)
    assert again == ref and again.to_json() == raw


def test_fingerprint_ignores_layout_not_content():
    a = make()
    spaced = json.dumps(dict(reversed(record().items())), indent=3).encode()
    assert Referendum.from_json(spaced).fingerprint == a.fingerprint
    b = make({"type": "majority", "question": 0, "answer": 0, "strict": False})
    assert b.fingerprint != a.fingerprint


def test_non_ascii_text_is_kept_as_utf8():
    ref = make(title="Référendum — Charte")
    assert "Référendum — Charte".encode() in ref.to_json()


def rule(typ: str = "majority", **fields: Any) -> dict[str, Any]:
    """A change to the record: its rule, about question 0, answer 0 unless told."""
    return {"rule": {"type": typ, "question": 0, "answer": 0, **fields}}


def regions(*items: dict[str, Any]) -> dict[str, Any]:
    return {"regions": list(items)}


A, B = {"name": "A", "election": UUIDS[0]}, {"name": "B", "election": UUIDS[1]}
SUPER, DOUBLE = "supermajority", "double-majority"
BAD = [
    # (change to the record, where, words of the message)
    (rule(question=2), "rule.question", "no question"),
    (rule(answer=2), "rule.answer", "no answer 2"),
    (rule(question=-1), "rule.question", "outside"),
    ({"rule": {"type": "majority", "question": 0}}, "referendum.rule", "'answer'"),
    (rule("plurality"), "rule.type", "plurality"),
    (rule(threshold="0.5"), "rule.threshold", "n/d"),
    (rule(threshold=0.5), "rule.threshold", "n/d"),
    (rule(threshold="2/4"), "rule.threshold", "'1/2'"),
    (rule(threshold="2/3"), "rule.threshold", "supermajority"),
    (rule(SUPER), "rule.threshold", "needs a threshold"),
    (rule(SUPER, threshold="1/2"), "rule.threshold", "more than 1/2"),
    (rule(SUPER, threshold="1"), "rule.threshold", "never"),
    (rule(SUPER, threshold="3/2"), "rule.threshold", "at most 1"),
    (rule(SUPER, threshold="1/1"), "rule.threshold", "'1'"),
    (rule(strict=1), "rule.strict", "true or false"),
    (rule(scope="global"), "rule.scope", "global"),
    (rule(quorum={"turnout": "3/2"}), "rule.quorum.turnout", "at most 1"),
    (rule(quorum={"turnout": "0"}), "rule.quorum.turnout", "more than 0"),
    (rule(quorum={"approval": "-1/2"}), "rule.quorum.approval", "n/d"),
    (rule(quorum={"valid": "1/2"}), "rule.quorum", "'valid'"),
    (rule(regions={"count": 1}), "referendum.rule", "'regions'"),
    (rule(DOUBLE), "referendum.rule", "'regions'"),
    (rule(DOUBLE, scope="overall", regions={"count": 1}), "referendum.rule", "'scope'"),
    (rule(DOUBLE, regions={"count": 0}), "rule.regions.count", "outside"),
    (rule(DOUBLE, regions={"count": 4}), "rule.regions.count", "outside"),
    (rule(DOUBLE, regions={"count": 1, "share": "1/2"}), "rule.regions", "exactly one"),
    (rule(DOUBLE, regions={"count": 1, "by": "weight"}), "rule.regions", "'by'"),
    (rule(DOUBLE, regions={"share": "1", "strict": True}), "rule.regions.share", "never"),
    (rule(DOUBLE, regions={"share": "1/2", "by": "area"}), "rule.regions.by", "population"),
    (rule(DOUBLE, threshold="1/3", regions={"count": 1}), "rule.threshold", "at least 1/2"),
    (regions(A, {**B, "name": "A"}), "referendum.regions[1]", "twice"),
    (regions(A, {**B, "election": UUIDS[0]}), "referendum.regions[1]", "twice"),
    (regions({**A, "election": "too-short"}), "regions[0].election", "Base58"),
    (regions({**A, "election": 12345678901234}), "regions[0].election", "Base58"),
    (regions({**A, "weight": "0"}), "regions[0].weight", "more than 0"),
    (regions({**A, "population": -5}), "regions[0].population", "outside"),
    (regions({**A, "name": ""}), "regions[0].name", "empty"),
    (regions(), "referendum.regions", "at least one"),
    ({"questions": []}, "referendum.questions", "at least one"),
    ({"questions": [{**YES_NO, "max": 3}]}, "questions[0].max", "outside"),
    ({"questions": [{**YES_NO, "blank": "yes"}]}, "questions[0].blank", "true or false"),
    ({"questions": [{**YES_NO, "answers": []}]}, "questions[0].answers", "at least one"),
    ({"questions": [{**YES_NO, "colour": "red"}]}, "questions[0]", "'colour'"),
    ({"opening": "2030-05-12 06:00:00"}, "referendum.opening", "YYYY-MM-DDTHH:MM:SSZ"),
    ({"opening": "2030-05-12T06:00:00+02:00"}, "referendum.opening", "UTC"),
    ({"closing": "2030-02-30T06:00:00Z"}, "referendum.closing", "invalid time"),
    ({"closing": "2030-05-12T06:00:00Z"}, "referendum.closing", "not after"),
    ({"version": 2}, "referendum.version", "unsupported"),
    ({"id": "-charter"}, "referendum.id", "characters"),
    ({"title": "\ud800"}, "referendum.title", "surrogate"),
    ({"title": "x" * 1001}, "referendum.title", "more than"),
    ({"trustees": {"names": ["Alice"], "threshold": 2}}, "trustees.threshold", "outside"),
    ({"trustees": {"names": []}}, "trustees.names", "at least one"),
    ({"trustees": {"names": ["A"], "hash": "ABC"}}, "trustees.hash", "SHA256"),
    ({"colour": "red"}, "referendum", "'colour'"),
]


@pytest.mark.parametrize(("change", "where", "words"), BAD)
def test_parse_errors_name_the_field(change, where, words):
    rec = record()
    rec.update(copy.deepcopy(change))
    with pytest.raises(EncodingError) as e:
        Referendum.from_json(json.dumps(rec))
    assert where in e.value.where, e.value
    assert words in str(e.value), e.value


def test_rule_on_a_non_homomorphic_question_is_refused():
    nh = {"type": "NonHomomorphic", "value": {"question": "Rank", "answers": ["A", "B"]}}
    with pytest.raises(EncodingError, match="non-homomorphic") as e:
        make({"type": "majority", "question": 1, "answer": 0}, questions=[YES_NO, nh])
    assert e.value.where == "referendum.rule.question"
    make({"type": "majority", "question": 0, "answer": 0}, questions=[YES_NO, nh])  # fine


def test_rule_on_a_question_with_several_answers_per_ballot_is_refused():
    approval = {"question": "Approve", "answers": ["A", "B", "C"], "min": 0, "max": 2}
    with pytest.raises(EncodingError, match="max 1") as e:
        make({"type": "majority", "question": 0, "answer": 0}, questions=[approval])
    assert e.value.where == "referendum.rule.question"


def test_population_share_needs_every_population():
    regions = [
        {"name": "A", "election": UUIDS[0], "population": 5},
        {"name": "B", "election": UUIDS[1]},
    ]
    rule = {
        "type": "double-majority",
        "question": 0,
        "answer": 0,
        "regions": {"share": "1/2", "by": "population"},
    }
    with pytest.raises(EncodingError, match="'B' has no population") as e:
        make(rule, regions=regions)
    assert e.value.where == "referendum.rule.regions.by"


def test_duplicate_keys_and_size_limit():
    raw = json.dumps(record())
    with pytest.raises(EncodingError, match="duplicate"):
        Referendum.from_json(raw[:-1] + ', "version": 1}')
    with pytest.raises(SizeError):
        Referendum.from_json(raw + " " * (1 << 20))


# -- fractions -------------------------------------------------------------------------------


@given(st.fractions(min_value=0, max_value=10**6, max_denominator=10**9))
def test_fraction_text_round_trips(f):
    assert parse_fraction(str(f), "x") == f


@pytest.mark.parametrize(
    "text", ["1/2 ", "01/2", "1/02", "2/4", "3/1", "-1/2", "1/0", "½", ".5", "1e3", ""]
)
def test_non_canonical_fractions_are_refused(text):
    with pytest.raises(EncodingError):
        parse_fraction(text, "x")


def test_format_fraction_is_exact():
    assert format_fraction(Fraction(7, 10)) == "7/10 (70.00%)"
    assert format_fraction(Fraction(2, 3)) == "2/3 (~66.67%)"
    assert format_fraction(Fraction(1, 8)) == "1/8 (12.50%)"
    assert format_fraction(Fraction(1)) == "1 (100.00%)"


# -- thresholds, quorums, blank votes --------------------------------------------------------


def test_tie_at_a_half_strict_and_not():
    strict = {"type": "majority", "question": 0, "answer": 0}
    loose = {**strict, "strict": False}
    assert verdict_of(strict, 50, 50) is F
    assert verdict_of(strict, 51, 50) is P
    assert verdict_of(loose, 50, 50) is P
    assert verdict_of(loose, 49, 50) is F


def test_tie_at_two_thirds_strict_and_not():
    strict = {"type": "supermajority", "question": 0, "answer": 0, "threshold": "2/3"}
    loose = {**strict, "strict": False}
    assert verdict_of(strict, 200, 100) is F
    assert verdict_of(strict, 201, 100) is P
    assert verdict_of(loose, 200, 100) is P
    assert verdict_of(loose, 199, 100) is F
    # exact: 666666666666666667 / 10**18 is just above 2/3, 666666666666666666 just below
    big = 10**18
    assert verdict_of(loose, 666666666666666667, big - 666666666666666667) is P
    assert verdict_of(loose, 666666666666666666, big - 666666666666666666) is F


def test_unanimity_non_strict():
    rule = {"type": "supermajority", "question": 0, "answer": 0, "threshold": "1", "strict": False}
    assert verdict_of(rule, 10, 0, blank=5) is P
    assert verdict_of(rule, 10, 1) is F


def test_turnout_quorum_boundary():
    rule = {"type": "majority", "question": 0, "answer": 0, "quorum": {"turnout": "1/2"}}
    assert verdict_of(rule, 300, 200, roll=1000) is P  # 500/1000 = 1/2: at least half
    assert verdict_of(rule, 300, 199, roll=1000) is Q
    assert verdict_of(rule, 100, 399, roll=1000) is Q  # quorum first: not merely failed
    assert verdict_of(rule, 100, 400, roll=1000) is F


def test_approval_quorum_boundary():
    rule = {"type": "majority", "question": 0, "answer": 0, "quorum": {"approval": "1/4"}}
    assert verdict_of(rule, 250, 10, roll=1000) is P
    assert verdict_of(rule, 249, 10, roll=1000) is Q


def test_empty_roll_and_no_valid_vote():
    quorum = {"type": "majority", "question": 0, "answer": 0, "quorum": {"turnout": "1/10"}}
    assert verdict_of(quorum, 0, 0, roll=0) is Q
    plain = {"type": "majority", "question": 0, "answer": 0}
    assert verdict_of(plain, 0, 0, roll=0) is F
    assert verdict_of(plain, 0, 0, blank=7) is F  # only blank votes: nothing valid


def test_blank_votes_count_for_turnout_not_as_valid_votes():
    rule = {"type": "majority", "question": 0, "answer": 0, "quorum": {"turnout": "1/2"}}
    # 60 yes, 40 no, 100 blank: 60/100 of the valid votes (not 60/200)
    assert verdict_of(rule, 60, 40, blank=100, roll=400) is P
    # without the blank votes, 100 of 400 voted: the quorum fails
    assert verdict_of(rule, 60, 40, blank=0, roll=400) is Q
    ref = make(rule, regions=[{"name": "All", "election": UUIDS[0]}])
    out = compute_outcome(ref, {"All": region_result(60, 40, 100, roll=400)})
    count = out.region("All").count
    assert count is not None
    assert (count.yes, count.valid, count.blank, count.voted) == (60, 100, 100, 200)
    assert count.share == Fraction(3, 5) and count.turnout == Fraction(1, 2)


def test_question_without_blank_has_no_leading_count():
    ref = make({"type": "majority", "question": 1, "answer": 1})
    ok = {name: ([[0, 0, 0], [3, 7]], 10, 10) for name in ("North", "South", "East")}
    out = compute_outcome(ref, ok)
    assert out.verdict is P and out.pooled is not None and out.pooled.yes == 21
    with pytest.raises(EncodingError, match="expected 2 counts") as e:
        compute_outcome(ref, {**ok, "East": ([[0, 0, 0], [0, 3, 7]], 10, 10)})
    assert e.value.where == "results['East'].result[1]"


# -- scopes ----------------------------------------------------------------------------------


RESULTS = {
    "North": region_result(140, 60, 10, roll=400),  # 7/10 yes
    "South": region_result(45, 55, 0, roll=200),  # 9/20 yes
    "East": region_result(20, 30, 5, roll=100),  # 2/5 yes
}


def test_overall_pools_every_region():
    out = compute_outcome(make(), RESULTS)
    assert out.pooled is not None
    assert out.pooled.yes == 205 and out.pooled.valid == 350 and out.pooled.blank == 15
    assert out.verdict is P and out.pooled_verdict is P
    assert [r.verdict for r in out.regions] == [P, F, F]  # for information
    assert "205 of 350 valid votes (15 blank) = 41/70" in out.explanation
    assert "Overall: passed." in out.explanation


def test_per_region_scope_passes_only_where_every_region_passed():
    rule = {"type": "majority", "question": 0, "answer": 0, "scope": "per-region"}
    out = compute_outcome(make(rule), RESULTS)
    assert out.verdict is F and out.pooled is None
    assert [r.verdict for r in out.regions] == [P, F, F]
    assert "not passed in 'South' (failed), 'East' (failed)" in out.explanation
    good = {k: region_result(10, 1) for k in RESULTS}
    assert compute_outcome(make(rule), good).verdict is P


def test_per_region_quorum_not_met_in_one_region():
    rule = {
        "type": "majority",
        "question": 0,
        "answer": 0,
        "scope": "per-region",
        "quorum": {"turnout": "1/2"},
    }
    out = compute_outcome(make(rule), RESULTS)
    assert [r.verdict for r in out.regions] == [P, F, F]  # every turnout at least 1/2
    out = compute_outcome(make(rule), {**RESULTS, "East": region_result(20, 20, 5, roll=100)})
    assert out.region("East").verdict is Q
    assert "quorum not met: turnout 45/100 of the roll = 9/20 (45.00%) < 1/2" in out.explanation


def test_double_majority_by_count():
    rule = {
        "type": "double-majority",
        "question": 0,
        "answer": 0,
        "regions": {"count": 2},
    }
    out = compute_outcome(make(rule), RESULTS)  # pooled passes, only North passes
    assert out.pooled_verdict is P and out.verdict is F
    assert "1 of 3 regions passed, fewer than the 2 required" in out.explanation
    results = {**RESULTS, "South": region_result(55, 45, roll=200)}
    assert compute_outcome(make(rule), results).verdict is P
    # regions pass but the pooled count fails
    results = {
        "North": region_result(10, 400),
        "South": region_result(6, 5),
        "East": region_result(6, 5),
    }
    out = compute_outcome(make(rule), results)
    assert [r.verdict for r in out.regions] == [F, P, P]
    assert out.pooled_verdict is F and out.verdict is F


def test_double_majority_by_weight_half_canton_tie_is_a_rejection():
    # a tie of region votes is a rejection when the share is strict (as Switzerland's cantons)
    rule = {
        "type": "double-majority",
        "question": 0,
        "answer": 0,
        "regions": {"share": "1/2", "strict": True},
    }
    regions = [
        {"name": "North", "election": UUIDS[0]},
        {"name": "South", "election": UUIDS[1], "weight": "1/2"},
        {"name": "East", "election": UUIDS[2], "weight": "1/2"},
    ]
    ref = make(rule, regions=regions)  # total weight 2: North alone holds exactly half
    results = {
        "North": region_result(900, 100),
        "South": region_result(1, 2),
        "East": region_result(1, 2),
    }
    out = compute_outcome(ref, results)
    assert out.pooled_verdict is P and out.verdict is F
    assert "holding weight 1 of 2 = 1/2 (50.00%) <= 1/2" in out.explanation
    loose = {**rule, "regions": {"share": "1/2", "strict": False}}
    assert compute_outcome(make(loose, regions=regions), results).verdict is P


def test_double_majority_by_population():
    rule = {
        "type": "double-majority",
        "question": 0,
        "answer": 0,
        "regions": {"share": "3/5", "by": "population"},
    }
    # populations 300, 200, 100: North + East hold 400/600 = 2/3 >= 3/5
    results = {
        "North": region_result(60, 40),
        "South": region_result(40, 60),
        "East": region_result(60, 40),
    }
    out = compute_outcome(make(rule), results)
    assert out.verdict is P
    assert "holding population 400 of 600 = 2/3 (~66.67%) >= 3/5" in out.explanation
    results["North"] = region_result(40, 60)  # only East passes: 100/600
    assert compute_outcome(make(rule), results).verdict is F


def test_double_majority_pooled_quorum_not_met():
    rule = {
        "type": "double-majority",
        "question": 0,
        "answer": 0,
        "quorum": {"turnout": "1/2"},
        "regions": {"count": 1},
    }
    results = {
        "North": region_result(90, 10, roll=150),
        "South": region_result(1, 0, roll=1000),
        "East": region_result(1, 0, roll=1000),
    }
    out = compute_outcome(make(rule), results)
    assert out.region("North").verdict is P
    assert out.pooled_verdict is Q and out.verdict is Q


# -- tallies not yet in, bad inputs ----------------------------------------------------------


def test_regions_not_tallied_yet():
    out = compute_outcome(make(), {"North": RESULTS["North"], "South": (None, 200, 0)})
    assert [r.verdict for r in out.regions] == [P, N, N]
    assert out.verdict is N and out.pooled is None
    assert "waiting for 'South', 'East'" in out.explanation
    assert compute_outcome(make(), {}).verdict is N


def test_bad_results_are_refused():
    ref = make()
    with pytest.raises(ConsistencyError, match="no region 'West'"):
        compute_outcome(ref, {**RESULTS, "West": RESULTS["North"]})
    with pytest.raises(ConsistencyError, match="11 voted but only 10"):
        compute_outcome(ref, {"North": ([[1, 5, 5], [0, 0]], 10, 11)})
    with pytest.raises(EncodingError) as e:
        compute_outcome(ref, {"North": ([[1, -5, 5], [0, 0]], 10, 10)})
    assert e.value.where == "results['North'].result[0][1]"
    with pytest.raises(EncodingError, match="3 question results, the referendum has 2"):
        compute_outcome(ref, {"North": ([[1, 5, 5], [0, 0], []], 10, 10)})
    with pytest.raises(EncodingError):
        compute_outcome(ref, {"North": ([["1", 5, 5], [0, 0]], 10, 10)})
    with pytest.raises(EncodingError):
        compute_outcome(ref, {"North": ([[True, 5, 5], [0, 0]], 10, 10)})
    with pytest.raises(EncodingError, match=r"\(result, roll, voted\)"):
        compute_outcome(ref, {"North": ([[1, 5, 5], [0, 0]], 10)})


def test_outcome_record_is_canonical_with_exact_fractions():
    out = compute_outcome(make(), RESULTS)
    value = json.loads(out.to_json())
    assert (
        out.to_json()
        == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    assert value["verdict"] == "passed"
    assert value["referendum"] == make().fingerprint
    assert value["pooled"]["share"] == "41/70" and value["pooled"]["verdict"] == "passed"
    assert value["regions"][1]["count"]["share"] == "9/20"
    assert value["regions"][1]["verdict"] == "failed"


# -- properties ------------------------------------------------------------------------------

THRESHOLDS = ["1/2", "3/5", "2/3", "3/4", "1"]


@st.composite
def rules(draw):
    typ = draw(st.sampled_from(["majority", "supermajority", "double-majority"]))
    rule: dict[str, Any] = {"type": typ, "question": 0, "answer": draw(st.integers(0, 1))}
    if typ == "supermajority":
        rule["threshold"] = draw(st.sampled_from(THRESHOLDS[1:]))
    elif typ == "double-majority":
        rule["threshold"] = draw(st.sampled_from(THRESHOLDS))
        rule["regions"] = draw(
            st.one_of(
                st.builds(lambda k: {"count": k}, st.integers(1, 3)),
                st.builds(
                    lambda s, strict, by: {"share": s, "strict": strict, "by": by},
                    st.sampled_from(["1/3", "1/2", "2/3"]),
                    st.booleans(),
                    st.sampled_from(["weight", "population"]),
                ),
            )
        )
    rule["strict"] = draw(st.booleans()) if rule.get("threshold") != "1" else False
    if typ != "double-majority":
        rule["scope"] = draw(st.sampled_from(["overall", "per-region"]))
    quorum = {}
    if draw(st.booleans()):
        quorum["turnout"] = draw(st.sampled_from(["1/4", "1/2", "2/3"]))
    if draw(st.booleans()):
        quorum["approval"] = draw(st.sampled_from(["1/10", "1/4"]))
    rule["quorum"] = quorum
    return rule


tallies = st.tuples(
    st.integers(0, 60),  # yes
    st.integers(0, 60),  # no
    st.integers(0, 20),  # blank
    st.integers(0, 20),  # voted with nothing counted
    st.integers(0, 80),  # abstentions (on the roll, did not vote)
)


def _results(ref: Referendum, counts):
    out = {}
    for region, (yes, no, blank, other, absent) in zip(ref.regions, counts, strict=True):
        voted = yes + no + blank + other
        col = [blank, yes, no] if ref.rule.answer == 0 else [blank, no, yes]
        out[region.name] = RegionResult([col, [0, 0]], voted + absent, voted)
    return out


@settings(max_examples=200, deadline=None)
@given(rules(), st.lists(tallies, min_size=3, max_size=3), st.integers(0, 2), st.booleans())
def test_verdicts_are_monotone_in_the_yes_count(rule, counts, which, convert):
    """One more yes (a no turned into a yes, or a new voter voting yes) never turns a region or
    the referendum from passed into anything else."""
    ref = make(rule)
    before = compute_outcome(ref, _results(ref, counts))
    yes, no, blank, other, absent = counts[which]
    if convert and no > 0:
        counts[which] = (yes + 1, no - 1, blank, other, absent)
    elif absent > 0:
        counts[which] = (yes + 1, no, blank, other, absent - 1)
    else:
        counts[which] = (yes + 1, no, blank, other, absent)  # a new voter on the roll
    after = compute_outcome(ref, _results(ref, counts))
    if before.verdict is P:
        assert after.verdict is P, after.explanation
    for b, a in zip(before.regions, after.regions, strict=True):
        if b.verdict is P:
            assert a.verdict is P, a.reason
    assert Referendum.from_json(ref.to_json()) == ref


@settings(max_examples=200, deadline=None)
@given(rules(), tallies)
def test_verdict_matches_integer_cross_multiplication(rule, tally):
    ref = make(rule)
    (yes, no, blank, other, absent) = tally
    results = _results(ref, [tally, tally, tally])
    out = compute_outcome(ref, results)
    r = ref.rule
    roll, voted = yes + no + blank + other + absent, yes + no + blank + other
    t = r.threshold
    quorum_ok = all(
        needed is None or (roll > 0 and num * needed.denominator >= needed.numerator * roll)
        for needed, num in ((r.quorum.turnout, voted), (r.quorum.approval, yes))
    )
    valid = yes + no
    if r.strict:
        share_ok = valid > 0 and yes * t.denominator > t.numerator * valid
    else:
        share_ok = valid > 0 and yes * t.denominator >= t.numerator * valid
    expected = P if quorum_ok and share_ok else (F if quorum_ok else Q)
    assert out.region("North").verdict is expected, out.explanation


# -- with Belenios elections -----------------------------------------------------------------


def test_verifier_result_of_a_belenios_archive():
    """The result the verifier reports for belenios-tool's "blank" election, used as is."""
    from plebiscite.protocol.verifier import verify_archive

    archive, meta = peer_vector("blank")
    report = verify_archive(lambda: archive.open("rb"), name=str(archive))
    assert report.valid and report.result is not None
    questions = [
        {
            "answers": ["Red", "Green", "Blue"],
            "min": 1,
            "max": 1,
            "question": "Colour?",
            "blank": True,
        },
        {"answers": ["Tea", "Coffee"], "blank": True, "min": 1, "max": 2, "question": "Drinks?"},
        {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Do you agree?"},
    ]
    regions = [{"name": "Only", "election": meta["uuid"]}]
    ref = make(
        {"type": "majority", "question": 0, "answer": 1}, questions=questions, regions=regions
    )
    out = compute_outcome(ref, {"Only": (report.result, report.voters, report.voted)})
    # [blank 2, Red 1, Green 2, Blue 0]: Green has 2 of the 3 valid votes; 5 of 5 voted
    assert out.pooled is not None
    assert (out.pooled.yes, out.pooled.valid, out.pooled.blank) == (2, 3, 2)
    assert out.verdict is P
    with pytest.raises(EncodingError, match="max 1"):
        make({"type": "majority", "question": 1, "answer": 0}, questions=questions, regions=regions)


def test_each_region_election_is_made_from_the_record_and_checked_against_it():
    group = BELENIOS_2048
    _, trustee = make_trustee_key(group, DeterministicRandom("referendum trustee"))
    trustees_raw = make_trustees([("Single", trustee)], group)
    base = make()
    ref = make(trustees={"names": ["Alice"], "hash": sha256_hex(trustees_raw)})
    assert ref.fingerprint != base.fingerprint
    south = ref.region("South")
    election = parse_election(
        make_election(ref.election_template(south), south.election, group, trustees_raw)
    )
    assert check_election(ref, election, trustees_raw) == south
    with pytest.raises(ConsistencyError, match="trustees structure"):
        check_election(ref, election, trustees_raw + b" ")
    stranger = parse_election(
        make_election(ref.election_template(south), UUIDS[3], group, trustees_raw)
    )
    with pytest.raises(ConsistencyError, match="not an election of referendum"):
        check_election(ref, stranger)
    other = make(questions=[YES_NO_BLANK, {**YES_NO, "question": "Another annex?"}])
    with pytest.raises(ConsistencyError, match="differs") as e:
        check_election(other, election)
    assert "question 1" in e.value.where


LISTS = {
    "type": "Lists",
    "value": {"question": "Elect the council", "answers": [["Greens", "Ada"], ["Blues", "Cy"]]},
}


def test_a_lists_question_is_kept_in_the_elections_form_and_made_into_each_election():
    ref = make(questions=[YES_NO_BLANK, LISTS])
    assert ref.to_value()["questions"][1] == LISTS
    assert Referendum.from_json(ref.to_json()) == ref
    group = ED25519
    _, trustee = make_trustee_key(group, DeterministicRandom("lists referendum trustee"))
    trustees_raw = make_trustees([("Single", trustee)], group)
    north = ref.region("North")
    election = parse_election(
        make_election(ref.election_template(north), north.election, group, trustees_raw)
    )
    assert isinstance(election.questions[1], QuestionL)
    assert check_election(ref, election, trustees_raw) == north
    # the rule's counts are those of its own question, whatever the Lists result beside it
    out = compute_outcome(ref, {"North": ([[1, 3, 1], [[3, 2], [1, 1]]], 6, 5)})
    assert out.region("North").count == Count(3, 4, 1, 5, 6)


def test_a_rule_on_a_lists_question_is_refused():
    with pytest.raises(EncodingError, match="question 1 is a Lists question") as e:
        make({"type": "majority", "question": 1, "answer": 0}, questions=[YES_NO, LISTS])
    assert e.value.where == "referendum.rule.question"
    bad = {"type": "Lists", "value": {"question": "Q", "answers": [["A list alone"]]}}
    with pytest.raises(EncodingError, match="at least one candidate") as e:
        make(questions=[YES_NO, bad])
    assert e.value.where == "referendum.questions[1].value.answers[0]"
