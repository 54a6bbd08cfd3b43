"""The count of curve operations a ballot's verification takes in Ed25519, against the calls
the verifier really makes: on libsodium (:func:`plebiscite.protocol.cost.ballot_operations_ed25519`)
and on curve25519-dalek (:func:`plebiscite.protocol.cost.ballot_operations_dalek`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from plebiscite import strictjson
from plebiscite.crypto import ed25519
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import generate_credential
from plebiscite.crypto.groups import ED25519, GROUPS
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.cost import (
    DalekOperationCount,
    Ed25519OperationCount,
    ballot_operations_dalek,
    ballot_operations_ed25519,
)
from plebiscite.protocol.election_setup import make_election, make_trustee_key, make_trustees
from plebiscite.protocol.messages import Election, QuestionH, parse_election

YES_NO = {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Agree?"}
ONE_OF_THREE = {"answers": ["Red", "Green", "Blue"], "min": 1, "max": 1, "question": "Colour?"}
BLANK = {"answers": ["A", "B", "C"], "min": 1, "max": 2, "blank": True, "question": "Pick?"}
RANK = {"type": "NonHomomorphic", "value": {"answers": ["X", "Y", "Z"], "question": "Rank?"}}

CASES: dict[str, tuple[list[dict[str, Any]], list[Any]]] = {
    "bench": ([YES_NO, ONE_OF_THREE], [[1, 0], [0, 0, 1]]),
    "blank": ([BLANK, YES_NO], [[0, 1, 0, 1], [0, 1]]),
    "blank-vote": ([BLANK], [[1, 0, 0, 0]]),
    "non-homomorphic": ([RANK, YES_NO], [[2, 3, 1], [1, 0]]),
}

CALLS = {
    "crypto_scalarmult_ed25519_noclamp": "variable",
    "crypto_scalarmult_ed25519_base_noclamp": "base",
    "crypto_core_ed25519_add": "additions",
    "crypto_core_ed25519_sub": "additions",
    "crypto_core_ed25519_is_valid_point": "membership_explicit",
}


def _election(questions: list[dict[str, Any]]) -> tuple[Election, DeterministicRandom]:
    rng = DeterministicRandom("cost")
    _, pub = make_trustee_key(ED25519, rng)
    trustees = make_trustees([("Single", pub)], ED25519)
    template = {"description": "cost", "name": "cost", "questions": questions}
    raw = make_election(strictjson.dumps_compact(template), "Y78eKXT7f169DV", ED25519, trustees)
    return parse_election(raw), rng


#: The native library's calls (curve25519-dalek) and what they count.
NATIVE_CALLS = {
    "ple_mul_base2_vartime": "base_double",
    "ple_precomputed_vartime": "precomputed",
    "ple_multi_vartime": "multi",
    "ple_sum": "sums",
    "ple_add": "additions",
    "ple_sub": "additions",
    "ple_member": "membership",
    "ple_mul": "variable",
    "ple_mul_many": "variable",
    "ple_mul2": "variable",
}


class _Counting:
    """A library, each call of ``calls`` counted."""

    def __init__(self, lib: Any, calls: dict[str, str] = CALLS) -> None:
        self._lib = lib
        self._calls = calls
        self.counts: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        f = getattr(self._lib, name)
        if name not in self._calls:
            return f

        def counted(*args: Any) -> Any:
            self.counts[self._calls[name]] += 1
            return f(*args)

        return counted


def test_bench_election():
    """The election of bench/verify3.py: a yes/no and a one-of-three question."""
    election, _ = _election(CASES["bench"][0])
    assert ballot_operations_ed25519(election) == Ed25519OperationCount(
        variable=37, base=20, additions=48, membership=11, membership_explicit=1
    )


def test_bench_election_dalek():
    election, _ = _election(CASES["bench"][0])
    assert ballot_operations_dalek(election) == DalekOperationCount(
        base_double=13, precomputed=12, sums=4, additions=10, membership=11
    )


@pytest.mark.parametrize("case", list(CASES))
def test_count_is_the_calls_made(case, monkeypatch):
    """On libsodium (the fallback, whichever backend this process has)."""
    monkeypatch.setitem(GROUPS, "Ed25519", ed25519.Ed25519())
    questions, vote = CASES[case]
    election, rng = _election(questions)
    assert election.group.backend == "libsodium"
    ctx = Context(election.group, election.public_key)
    raw = make_ballot(election, generate_credential(rng), vote, rng, ctx=ctx)
    counting = _Counting(ed25519.lib)
    monkeypatch.setattr(ed25519, "lib", counting)
    verify_ballot(parse_ballot(raw, election), election, ctx)
    expected = ballot_operations_ed25519(election)
    # the count also has the ballot's share of the tally (2 additions a homomorphic
    # ciphertext) and the check of its credential, made when the list of credentials is read
    tally = sum(2 * q.size for q in election.questions if isinstance(q, QuestionH))
    assert counting.counts == Counter(
        variable=expected.variable,
        base=expected.base,
        additions=expected.additions - tally,
        membership_explicit=expected.membership_explicit - 1,
    )


@pytest.mark.skipif(ed25519.BACKEND != "curve25519-dalek", reason="native library not built")
@pytest.mark.parametrize("case", list(CASES))
def test_count_is_the_native_calls_made(case, monkeypatch):
    questions, vote = CASES[case]
    election, rng = _election(questions)
    ctx = Context(election.group, election.public_key)
    raw = make_ballot(election, generate_credential(rng), vote, rng, ctx=ctx)
    counting = _Counting(ed25519._native, NATIVE_CALLS)
    monkeypatch.setattr(ed25519, "_native", counting)
    verify_ballot(parse_ballot(raw, election), election, ctx)
    expected = ballot_operations_dalek(election)
    tally = sum(2 * q.size for q in election.questions if isinstance(q, QuestionH))
    # no constant-time multiplication: every one is of public values
    assert counting.counts == Counter(
        base_double=expected.base_double,
        precomputed=expected.precomputed,
        sums=expected.sums,
        membership=expected.membership - 1,
    )
    assert expected.additions == tally
