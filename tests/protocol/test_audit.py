"""Benaloh's challenge in Python (plebiscite.protocol.audit): a true audit passes, and every
kind of mismatch is found and located (question, answer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gmpy2 import mpz

from cli_run import cli
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.audit import check_audit, choice_problems
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import Election, QuestionH, parse_election

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


class Recording:
    """A random source that remembers every draw (bound, value)."""

    def __init__(self, seed: str) -> None:
        self.inner = DeterministicRandom(seed)
        self.draws: list[tuple[int, mpz]] = []

    def below(self, n: Any) -> mpz:
        v = self.inner.below(n)
        self.draws.append((int(n), v))
        return v


def audited_ballot(
    election: Election, credential: str, choices: Any, seed: str
) -> tuple[bytes, dict[str, Any]]:
    """make_ballot, and the audit data read back from its draws (in make_ballot's order)."""
    rng = Recording(seed)
    ballot = make_ballot(election, credential, choices, rng)
    draws = iter(rng.draws)
    answers: list[dict[str, Any]] = []
    for q, vote in zip(election.questions, choices, strict=True):
        if isinstance(q, QuestionH):
            rs = [next(draws)[1] for _ in vote]
            k = q.max - q.min + 1
            skip = 3 * len(vote) + (3 + 1 + 2 * k if q.blank else 1 + 2 * (k - 1))
            for _ in range(skip):
                next(draws)
            answers.append({"choices": list(vote), "randomness": [str(r) for r in rs]})
        else:
            assert election.group.embedding is not None
            pad = 1 << election.group.embedding.padding
            eps = None
            while True:
                n, v = next(draws)
                if n != pad:
                    r = v
                    break
                eps = v
            next(draws)  # the proof's w
            answers.append({"choices": list(vote), "randomness": [str(r)], "epsilon": int(eps)})
    audit = {
        "election_uuid": election.uuid,
        "election_hash": election.fingerprint,
        "tracker": h_json(ballot),
        "answers": answers,
    }
    return ballot, audit


def _plebiscite() -> tuple[Election, list[str]]:
    d = VECTORS / "plebiscite"
    creds = [line.split()[-1] for line in (d / "private_creds.txt").read_text().splitlines()]
    return parse_election((d / "election.json").read_bytes().strip()), creds


def _belenios(name: str) -> tuple[Election, list[str]]:
    meta = json.loads((VECTORS / "belenios" / f"{name}.json").read_text())
    with (VECTORS / "belenios" / f"{name}.bel").open("rb") as f:
        data = {m.hash: m.content for m in iter_members(f) if m.kind == "data"}
    setup = next(json.loads(c) for c in data.values() if c.startswith(b'{"election":'))
    return parse_election(data[setup["election"]]), meta["private_credentials"]


def _keys(report: Any) -> set[tuple[Any, Any, str]]:
    return {(p.question, p.answer, p.code) for p in report.problems}


def _copy(audit: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(audit))


@pytest.mark.parametrize(
    ("which", "choices"),
    [
        ("plebiscite", [[0, 1, 0], [1, 0, 1], [2, 1, 3]]),
        ("plebiscite", [[1, 0, 0], [0, 0, 0], [1, 2, 3]]),
        ("blank", [[0, 0, 1, 0], [0, 1, 1], [1, 0]]),
        ("approval", [[0, 0, 0], [0, 1]]),
    ],
)
def test_a_true_audit_passes(which, choices):
    election, creds = _plebiscite() if which == "plebiscite" else _belenios(which)
    ballot, audit = audited_ballot(election, creds[0], choices, f"audit {choices}")
    report = check_audit(election, ballot, audit)
    assert report.ok, report.problems
    assert report.ciphertexts == sum(
        len(c) if isinstance(q, QuestionH) else 1
        for q, c in zip(election.questions, choices, strict=True)
    )
    # with surrounding white space, as a file may have it
    assert check_audit(election, b"\n" + ballot + b"\n", audit).ok


def test_every_mismatch_is_located():
    election, creds = _plebiscite()
    ballot, audit = audited_ballot(election, creds[0], [[0, 1, 0], [1, 0, 1], [2, 1, 3]], "s")

    a = _copy(audit)
    a["answers"][0]["choices"] = [0, 0, 1]  # "No" instead of "Yes"
    assert _keys(check_audit(election, ballot, a)) == {(1, 1, "plaintext"), (1, 2, "plaintext")}
    msgs = [p.message for p in check_audit(election, ballot, a).problems]
    assert msgs == [
        "question 1, answer 1: the ballot encrypts 1, the audit says 0",
        "question 1, answer 2: the ballot encrypts 0, the audit says 1",
    ]

    a = _copy(audit)
    a["answers"][0]["choices"] = [1, 1, 0]  # blank and "Yes": not a vote
    assert _keys(check_audit(election, ballot, a)) == {(1, None, "choices"), (1, 0, "plaintext")}

    a = _copy(audit)
    a["answers"][1]["randomness"][0] = "1"
    assert _keys(check_audit(election, ballot, a)) == {(2, 1, "randomness")}

    a = _copy(audit)
    a["answers"][2]["choices"] = [1, 2, 3]
    assert _keys(check_audit(election, ballot, a)) == {(3, None, "plaintext")}

    a = _copy(audit)
    a["answers"][2]["epsilon"] ^= 1
    assert _keys(check_audit(election, ballot, a)) == {(3, None, "plaintext")}

    a = _copy(audit)
    a["tracker"] = "A" + a["tracker"][1:]
    assert _keys(check_audit(election, ballot, a)) == {(None, None, "tracker")}

    a = _copy(audit)
    a["election_uuid"] = "x"
    assert _keys(check_audit(election, ballot, a)) == {(None, None, "election_mismatch")}


@pytest.mark.parametrize(
    "mutate",
    [
        lambda a: a.pop("answers"),
        lambda a: a["answers"].pop(),
        lambda a: a["answers"][0].__setitem__("randomness", ["1"]),
        lambda a: a["answers"][0]["randomness"].__setitem__(0, "01"),
        lambda a: a["answers"][0]["randomness"].__setitem__(0, 5),
        lambda a: a["answers"][0]["randomness"].__setitem__(0, "9" * 700),
        lambda a: a["answers"][2].pop("epsilon"),
        lambda a: a["answers"][2].__setitem__("epsilon", 256),
        lambda a: a["answers"][1].__setitem__("choices", "101"),
    ],
)
def test_a_malformed_audit_is_refused_with_a_reason(mutate):
    election, creds = _plebiscite()
    ballot, audit = audited_ballot(election, creds[0], [[0, 1, 0], [1, 0, 1], [2, 1, 3]], "s")
    a = _copy(audit)
    mutate(a)
    report = check_audit(election, ballot, a)
    assert _keys(report) == {(None, None, "audit_format")}
    assert report.problems[0].message.startswith("audit: ")
    assert check_audit(election, ballot, [audit]).problems[0].code == "audit_format"


def test_a_bad_ballot_is_reported():
    election, creds = _plebiscite()
    ballot, audit = audited_ballot(election, creds[0], [[0, 1, 0], [1, 0, 1], [2, 1, 3]], "s")
    assert _keys(check_audit(election, b"{}", audit)) == {
        (None, None, "tracker"),
        (None, None, "ballot"),
    }
    # a proof changed after the audit: the ciphertexts match, the ballot is not valid
    v = json.loads(ballot)
    c = int(v["answers"][1]["overall_proof"][0]["challenge"])
    v["answers"][1]["overall_proof"][0]["challenge"] = str((c + 1) % int(election.group.q))
    forged = json.dumps(v, separators=(",", ":")).encode()
    a = _copy(audit)
    a["tracker"] = h_json(forged)
    report = check_audit(election, forged, a)
    assert {p.code for p in report.problems} == {"proof"}


def test_choice_problems_name_the_question():
    election, _ = _belenios("blank")
    assert choice_problems(election, [[1, 0, 1, 0], [0, 0, 0], [1, 1]]) == [
        (1, "question 1: a blank vote selects nothing"),
        (2, "question 2: between 1 and 2 answers, or blank, not 0"),
        (3, "question 3: between 1 and 1 answers, not 2"),
    ]
    assert choice_problems(election, [[1, 0, 0, 0]]) == [(None, "expected answers to 3 questions")]
    assert choice_problems(election, [[True, 0, 0, 0], [0, 1, 0], [1, 0]])[0][0] == 1


def test_voter_audit_command(tmp_path):
    election, creds = _plebiscite()
    ballot, audit = audited_ballot(election, creds[1], [[1, 0, 0], [0, 0, 0], [3, 2, 1]], "c")
    (tmp_path / "e.json").write_bytes(election.raw + b"\n")
    (tmp_path / "b.json").write_bytes(ballot)
    (tmp_path / "a.json").write_text(json.dumps(audit))
    args = [
        "voter-audit",
        "--election",
        str(tmp_path / "e.json"),
        "--ballot",
        str(tmp_path / "b.json"),
    ]
    rc, out = cli([*args, "--audit", str(tmp_path / "a.json")])
    assert rc == 0, out
    assert "audit OK" in out and "7 ciphertexts" in out
    # the booth's download {"ballot", "audit", ...} is accepted as the audit file
    (tmp_path / "bundle.json").write_text(json.dumps({"ballot": ballot.decode(), "audit": audit}))
    assert cli([*args, "--audit", str(tmp_path / "bundle.json")])[0] == 0
    audit["answers"][1]["choices"] = [0, 1, 0]
    (tmp_path / "a.json").write_text(json.dumps(audit))
    rc, out = cli([*args, "--audit", str(tmp_path / "a.json")])
    assert rc == 1
    assert "audit FAILED" in out
    assert "question 2, answer 2: the ballot encrypts 0, the audit says 1" in out
    rc, out = cli([*args, "--audit", str(tmp_path / "a.json"), "--json"])
    problems = json.loads(out)["problems"]
    assert rc == 1
    assert [(p["question"], p["answer"], p["code"]) for p in problems] == [(2, 2, "plaintext")]


def test_voter_audit_takes_the_booth_audit_file_as_saved(tmp_path):
    election, creds = _plebiscite()
    ballot, audit = audited_ballot(election, creds[1], [[1, 0, 0], [0, 0, 0], [3, 2, 1]], "c")
    saved = {"election": election.raw.decode(), "ballot": ballot.decode(), "audit": audit}
    bundle = tmp_path / "audit-abcdefgh.json"
    bundle.write_text(json.dumps(saved, indent=1))  # as the booth writes it
    rc, out = cli(["voter-audit", str(bundle)])
    assert rc == 0, out
    assert "audit OK" in out
    # a file that is not the booth's, or both forms at once: a usage error naming the field
    for bad, message in [
        ({"ballot": saved["ballot"], "audit": audit}, "election"),
        ({**saved, "election": json.loads(saved["election"])}, ".election: expected the exact"),
        ({**saved, "extra": 1}, "extra"),
    ]:
        bundle.write_text(json.dumps(bad))
        rc, out = cli(["voter-audit", str(bundle)])
        assert rc == 2, out
        assert message in out and "the audit file the booth saves" in out
    rc, out = cli(["voter-audit", str(bundle), "--ballot", str(bundle)])
    assert rc == 2 and "not both" in out
    rc, out = cli(["voter-audit"])
    assert rc == 2 and "AUDIT-FILE" in out
