"""The booth's cryptography in the browser (static/js/belenios/) against the Python side.

- known answer: from the same seed, the JavaScript ballot is byte for byte Python's make_ballot
  (every question kind: blank allowed, min/max ranges, non-homomorphic, both groups);
- ballots made with the browser's own randomness pass the Python verifier and belenios-tool;
- the credential derivation and checksum are Python's;
- the audit (Benaloh's challenge): a true audit passes, a modified choice is caught, in the
  browser and by ``plebiscite voter-audit`` alike.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from cli_run import cli
from plebiscite.crypto.credentials import credential_secret, parse_credential
from plebiscite.crypto.groups import BELENIOS_2048, RFC_3526_2048
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.audit import check_audit
from plebiscite.protocol.ballot import make_ballot, parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.verifier import Verifier

pytestmark = pytest.mark.browser

#: (election, choices): every question kind, with blank and non-blank votes
CASES = {
    "blank": [
        [[0, 0, 1, 0], [0, 1, 1], [1, 0]],
        [[1, 0, 0, 0], [1, 0, 0], [0, 1]],
        [[0, 1, 0, 0], [0, 0, 1], [0, 1]],
    ],
    "approval": [[[0, 0, 0], [1, 0]], [[1, 1, 0], [0, 1]], [[0, 0, 1], [1, 0]]],
    "single": [[[1, 0], [0, 0, 1]]],
    "plebiscite": [[[0, 1, 0], [1, 0, 1], [2, 1, 3]], [[1, 0, 0], [0, 0, 0], [3, 2, 1]]],
}

MAKE = """
  const r = await core.makeBallot(args[0], args[1], args[2], args[3]);
  return r;
"""


def _make_js(js, election: bytes, credential: str, choices, **options):
    return js(MAKE, election.decode(), credential, choices, options)


@pytest.mark.parametrize(
    ("name", "index"), [(n, i) for n, cs in CASES.items() for i in range(len(cs))]
)
def test_known_answer_ballots_equal_pythons(js, vector_election, name, index):
    raw, creds = vector_election(name)
    election = parse_election(raw)
    choices = CASES[name][index]
    credential = creds[index % len(creds)]
    for seed in (f"kat-{name}-{index}", "another seed"):
        expected = make_ballot(election, credential, choices, DeterministicRandom(seed))
        got = _make_js(js, raw, credential, choices, seed=seed)
        assert got["ballot"].encode() == expected
        assert got["tracker"] == h_json(expected)
        assert js("return await core.ballotTracker(args[0]);", got["ballot"]) == h_json(expected)


def test_deterministic_random_is_pythons(js):
    bounds = [1, 2, 58, 255, 256, 1 << 64, BELENIOS_2048.q, RFC_3526_2048.q, 3**100]
    got = js(
        """const r = new modules.random.DeterministicRandom(args[0]);
        const out = [];
        for (const n of args[1]) out.push(String(await r.below(BigInt(n))));
        return out;""",
        "seed \u00e9",
        [str(n) for n in bounds * 3],
    )
    rng = DeterministicRandom("seed \u00e9")
    assert got == [str(rng.below(n)) for n in bounds * 3]


def test_system_random_is_in_range_and_varies(js):
    got = js(
        """const r = new modules.random.SystemRandom();
        const out = [];
        for (let i = 0; i < 200; i++) out.push(String(await r.below(BigInt(args[0]))));
        return out;""",
        "1000",
    )
    values = [int(x) for x in got]
    assert all(0 <= v < 1000 for v in values)
    assert len(set(values)) > 100


CREDENTIALS = ["jMv-wUy-tQP-Qom-LeD", "Jxv-i8k-jqf-Cqq-C2A", "KeS-hqo-Fey-b2w-dpD"]


def test_credential_derivation_is_pythons(js):
    uuids = ["hgoZjvPzR5znY8", "MzvgRtdjNhoCx5"]
    got = js(
        """const out = [];
        for (const g of ["BELENIOS-2048", "RFC-3526-2048"])
          for (const c of args[0]) for (const u of args[1])
            out.push(String(await modules.credentials.credentialSecret(
              modules.credentials.parseCredential(c), u, modules.groups.groupByName(g))));
        return out;""",
        CREDENTIALS,
        uuids,
    )
    expected = [
        str(credential_secret(c, u, g))
        for g in (BELENIOS_2048, RFC_3526_2048)
        for c in CREDENTIALS
        for u in uuids
    ]
    assert got == expected


def test_public_credentials_are_pythons(js):
    """What the booth asks the server about (GET .../credentials/PUBLIC): g^secret(c) in the
    list's encoding, in the three groups, for both forms of credential."""
    from plebiscite.crypto.credentials import generate_credential
    from plebiscite.crypto.groups import ED25519

    creds = [*CREDENTIALS, generate_credential(DeterministicRandom("public"))]
    uuid = "hgoZjvPzR5znY8"
    groups = (ED25519, BELENIOS_2048, RFC_3526_2048)
    got = js(
        """const out = [];
        for (const g of args[2]) for (const c of args[0])
          out.push(await core.publicCredential(c, args[1], modules.groups.groupByName(g)));
        return out;""",
        creds,
        uuid,
        [g.name for g in groups],
    )
    expected = [
        g.encode(g.gpow(credential_secret(parse_credential(c), uuid, g)))
        for g in groups
        for c in creds
    ]
    assert got == expected


def test_credential_checksum_is_pythons(js):
    candidates = [
        *CREDENTIALS,
        "jMvwUytQPQomLeD",  # no dashes
        "jMv-wUy-tQP-Qom-LeE",  # wrong checksum
        "jMv-wUy-tQP-Qom-Le",  # too short
        "jMv-wUy-tQP-Qom-Le0",  # 0 is not Base58
        "jMvw-Uy-tQP-Qom-LeD",  # dashes misplaced
        "  jMv-wUy-tQP-Qom-LeD ",
        "",
    ]
    got = js("return args[0].map((c) => core.credentialLooksValid(c));", candidates)

    def valid(c: str) -> bool:
        try:
            parse_credential(c)
        except PlebisciteError:
            return False
        return True

    assert got == [valid(c) for c in candidates]
    assert got[:4] == [True, True, True, True]


def test_check_choices_names_the_question(js, vector_election):
    raw, _ = vector_election("blank")
    problems = js(
        "return core.checkChoices(args[0], args[1]);",
        raw.decode(),
        [[1, 0, 1, 0], [0, 0, 0], [1, 1]],
    )
    assert [(p["question"], p["code"]) for p in problems] == [
        (1, "blank_and_answers"),
        (2, "too_few"),
        (3, "too_many"),
    ]
    assert (
        js(
            "return core.checkChoices(JSON.parse(args[0]), args[1]);",
            raw.decode(),
            CASES["blank"][0],
        )
        == []
    )


def _verify_alone(raw_election: bytes, ballot: bytes) -> None:
    election = parse_election(raw_election)
    from plebiscite.crypto.context import Context

    verify_ballot(
        parse_ballot(ballot, election), election, Context(election.group, election.public_key)
    )


@pytest.mark.parametrize("name", list(CASES))
def test_browser_ballots_pass_the_python_verifier(js, vector_election, name):
    raw, creds = vector_election(name)
    for i, choices in enumerate(CASES[name]):
        got = _make_js(js, raw, creds[i % len(creds)], choices)
        _verify_alone(raw, got["ballot"].encode())


@pytest.mark.interop
@pytest.mark.parametrize("name", ["blank", "approval", "nh"])
def test_browser_ballots_are_accepted_by_belenios_tool(
    js, vector_election, open_archive, name, tmp_path, belenios_tool
):
    """JavaScript ballots (with a revote) appended to an open belenios-tool election with
    ``belenios-tool archive add-event``; ``belenios-tool election verify`` and plebiscite's
    verifier accept the archive and count them."""
    raw, creds = vector_election(name)
    archive = open_archive(name, tmp_path / name)
    cases = CASES.get(name) or [[[1, 0], [1, 2, 3]], [[0, 1], [3, 1, 2]]]
    casts = [(i, c) for i, c in enumerate(cases)] + [(0, cases[-1])]  # voter 1 votes again
    trackers = []
    for voter, choices in casts:
        got = _make_js(js, raw, creds[voter], choices)
        proc = subprocess.run(
            [belenios_tool, "archive", "add-event", "--type=Ballot"],
            cwd=archive.parent,
            input=got["ballot"] + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        trackers.append(got["tracker"])
    proc = subprocess.run(
        [belenios_tool, "election", "verify", "--dir", str(archive.parent)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    data = archive.read_bytes()
    v = Verifier(lambda: io.BytesIO(data))
    report = v.run()
    assert report.valid, [f.describe() for f in report.findings]
    assert report.ballots == 5 + len(casts)
    assert len(set(trackers)) == len(trackers)


# -- audit -----------------------------------------------------------------------------------

AUDIT = "return await core.checkAudit(args[0], args[1], args[2]);"


def _write(tmp: Path, election: bytes, ballot: str, audit: dict) -> list[str]:
    (tmp / "election.json").write_bytes(election)
    (tmp / "ballot.json").write_text(ballot)
    (tmp / "audit.json").write_text(json.dumps(audit))
    return [
        "voter-audit",
        "--election",
        str(tmp / "election.json"),
        "--ballot",
        str(tmp / "ballot.json"),
        "--audit",
        str(tmp / "audit.json"),
        "--json",
    ]


def _cli_audit(tmp: Path, election: bytes, ballot: str, audit: dict) -> dict:
    rc, out = cli(_write(tmp, election, ballot, audit))
    report = json.loads(out)
    assert rc == (0 if report["ok"] else 1)
    return report


def _keys(problems: list[dict]) -> set[tuple]:
    return {(p["question"], p["answer"], p["code"]) for p in problems}


@pytest.mark.parametrize("name", ["blank", "plebiscite"])
def test_audit_accepts_the_truth_and_catches_a_changed_choice(js, vector_election, name, tmp_path):
    raw, creds = vector_election(name)
    choices = CASES[name][0]
    made = _make_js(js, raw, creds[0], choices)
    ballot, audit = made["ballot"], made["audit"]
    assert audit["tracker"] == made["tracker"]
    assert [a["choices"] for a in audit["answers"]] == choices

    ok = js(AUDIT, raw.decode(), ballot, audit)
    assert ok == {"ok": True, "problems": []}
    assert _cli_audit(tmp_path, raw, ballot, audit)["ok"]
    assert check_audit(parse_election(raw), ballot.encode(), audit).ok

    # the voter chose answer 2 of question 1; the audit claims answer 3: both positions differ
    changed = json.loads(json.dumps(audit))
    q1 = changed["answers"][0]["choices"]
    q1[:] = [0, 0, 0, 1] if name == "blank" else [0, 0, 1]
    js_report = js(AUDIT, raw.decode(), ballot, changed)
    py_report = _cli_audit(tmp_path, raw, ballot, changed)
    assert not js_report["ok"] and not py_report["ok"]
    expected = (
        {(1, 2, "plaintext"), (1, 3, "plaintext")}
        if name == "blank"
        else {(1, 1, "plaintext"), (1, 2, "plaintext")}
    )
    assert _keys(js_report["problems"]) == expected
    assert _keys(py_report["problems"]) == expected
    assert [p["message"] for p in js_report["problems"]] == [
        p["message"] for p in py_report["problems"]
    ]


def test_audit_catches_wrong_randomness_tracker_and_nh_values(js, vector_election, tmp_path):
    raw, creds = vector_election("plebiscite")
    made = _make_js(js, raw, creds[1], CASES["plebiscite"][1])
    ballot, audit = made["ballot"], made["audit"]
    cases = []
    a = json.loads(json.dumps(audit))
    a["answers"][1]["randomness"][2] = str(int(a["answers"][1]["randomness"][2]) + 1)
    cases.append((a, {(2, 3, "randomness")}))
    a = json.loads(json.dumps(audit))
    a["answers"][2]["choices"] = [3, 1, 2]
    cases.append((a, {(3, None, "plaintext")}))
    a = json.loads(json.dumps(audit))
    a["tracker"] = "x" + a["tracker"][1:]
    cases.append((a, {(None, None, "tracker")}))
    a = json.loads(json.dumps(audit))
    a["answers"][0]["choices"] = [1, 1, 0]  # blank and an answer: not a vote, and not the ballot
    cases.append((a, {(1, None, "choices"), (1, 1, "plaintext")}))
    for changed, expected in cases:
        js_report = js(AUDIT, raw.decode(), ballot, changed)
        py_report = _cli_audit(tmp_path, raw, ballot, changed)
        assert _keys(js_report["problems"]) == expected
        assert _keys(py_report["problems"]) == expected
    # a ballot changed after the fact: a valid audit of another ballot does not cover it
    other = _make_js(js, raw, creds[1], CASES["plebiscite"][1])
    js_report = js(AUDIT, raw.decode(), other["ballot"], audit)
    assert (None, None, "tracker") in _keys(js_report["problems"])
    assert (1, 0, "randomness") in _keys(js_report["problems"])


def test_voter_audit_cli_prints_a_verdict(js, vector_election, tmp_path):
    raw, creds = vector_election("approval")
    made = _make_js(js, raw, creds[2], CASES["approval"][1])
    args = _write(tmp_path, raw, made["ballot"], made["audit"])[:-1]
    rc, out = cli(args)
    assert rc == 0 and out.startswith("audit OK: ballot ") and "5 ciphertexts" in out


def test_group_arithmetic_is_pythons(js):
    """modPow (sliding window), the fixed-base tables, modInv, the Jacobi symbol and the
    membership checks of both groups, against gmpy2 on edge cases and random values."""
    import random

    import gmpy2

    rnd = random.Random(7)
    cases = []
    for group in (BELENIOS_2048, RFC_3526_2048):
        p, q = int(group.p), int(group.q)
        xs = [0, 1, 2, p - 1, p - 2, int(group.g)] + [rnd.randrange(p) for _ in range(6)]
        es = [0, 1, 2, 3, q - 1, q, q + 1] + [rnd.randrange(q) for _ in range(4)]
        cases.append((group.name, [str(x) for x in xs], [str(e) for e in es]))
    got = js(
        """const out = [];
        for (const [name, xs, es] of args[0]) {
          const G = modules.groups.groupByName(name);
          const { modPow, modInv, jacobi, FixedBase } = modules.bigint;
          const fb = new FixedBase(G.g, G.p, G.q);
          for (const x of xs.map(BigInt)) {
            for (const e of es.map(BigInt)) out.push(String(modPow(x, e, G.p)));
            out.push(x === 0n ? "none" : String(modInv(x, G.p)));
            out.push(String(jacobi(x, G.p)));
            out.push(String(G.isElement(x)));
          }
          for (const e of es.map(BigInt)) out.push(String(fb.pow(e)));
        }
        return out;""",
        cases,
    )
    expected = []
    for group, (_, xs, es) in zip((BELENIOS_2048, RFC_3526_2048), cases, strict=True):
        p = group.p
        for x in map(int, xs):
            expected += [str(pow(x, int(e), int(p))) for e in es]
            expected.append("none" if x == 0 else str(gmpy2.invert(x, p)))
            expected.append(str(gmpy2.jacobi(x, p)))
            expected.append(str(group.is_element(gmpy2.mpz(x))).lower())
        expected += [str(pow(int(group.g), int(e) % int(group.q), int(p))) for e in es]
    assert got == expected
