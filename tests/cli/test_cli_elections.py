"""Whole elections run with the plebiscite command line, one role at a time, as
belenios-tool's demo scripts do; each archive must pass plebiscite's verifier and
``belenios-tool election verify``. Then mixed elections: belenios-tool ballots on a plebiscite
board, a plebiscite tally of a belenios-tool election."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import peer
from cli_run import cli, ok
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.election_setup import generate_uuid
from plebiscite.protocol.verifier import verify_archive

YES_NO = {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Do you agree?"}


def setup_election(d: Path, group: str, questions: list, voters: str, trustees: int) -> str:
    uuid = generate_uuid(DeterministicRandom(str(d)))
    (d / "voters.txt").write_text(voters)
    ok(["credentials", "generate", "--uuid", uuid, "--group", group, "--file", "voters.txt"], cwd=d)
    next(d.glob("*.pubcreds")).rename(d / "public_creds.json")
    next(d.glob("*.privcreds")).rename(d / "private_creds.txt")
    for _ in range(trustees):
        ok(["trustee", "keygen", "--group", group], cwd=d)
    (d / "public_keys.jsons").write_text("".join(p.read_text() for p in sorted(d.glob("*.pubkey"))))
    ok(["admin", "make-trustees", "--group", group], cwd=d)
    template = {"description": "CLI test", "name": f"CLI {d.name}", "questions": questions}
    (d / "template.json").write_text(json.dumps(template))
    ok(
        ["admin", "make-election", "--uuid", uuid, "--group", group, "--template", "template.json"],
        cwd=d,
    )
    ok(["admin", "init-archive"], cwd=d)
    return uuid


def credentials(d: Path) -> list[str]:
    return [line.split()[-1] for line in (d / "private_creds.txt").read_text().splitlines()]


def vote(d: Path, credential: str, choices: list) -> str:
    ballot = ok(["ballot", "--credential", credential, "--choices", json.dumps(choices)], cwd=d)
    ok(["admin", "add-event", "--type", "Ballot"], stdin=ballot.encode(), cwd=d)
    return ok(["voter", "tracker"], stdin=ballot.encode()).strip()


def tally(d: Path, shufflers: int = 0) -> None:
    ok(["admin", "close"], cwd=d)
    ok(
        ["admin", "add-event", "--type", "EncryptedTally"],
        stdin=ok(["admin", "tally"], cwd=d).encode(),
        cwd=d,
    )
    if shufflers:
        for t in range(1, shufflers + 1):
            sh = ok(["trustee", "shuffle", "--trustee-id", str(t)], cwd=d)
            ok(["admin", "add-event", "--type", "Shuffle"], stdin=sh.encode(), cwd=d)
        ok(["admin", "add-event", "--type", "EndShuffles"], cwd=d)
    for key in sorted(d.glob("*.privkey")):
        pd = ok(["trustee", "decrypt", "--privkey", key.name], cwd=d)
        ok(["admin", "add-event", "--type", "PartialDecryption"], stdin=pd.encode(), cwd=d)
    ok(
        ["admin", "add-event", "--type", "Result"],
        stdin=ok(["admin", "result"], cwd=d).encode(),
        cwd=d,
    )


def result_of(d: Path) -> list:
    archive = next(d.glob("*.bel"))
    report = verify_archive(lambda: archive.open("rb"))
    assert report.valid, [f.describe() for f in report.findings]
    return report.result or []


@pytest.mark.interop
def test_weighted_blank_revotes_single_trustees(tmp_path, belenios_accepts):
    d = tmp_path / "weighted"
    d.mkdir()
    blank_q = {"answers": ["A", "B", "C"], "blank": True, "min": 1, "max": 2, "question": "Pick"}
    setup_election(
        d,
        "BELENIOS-2048",
        [YES_NO, blank_q],
        "a@x,alice,3\nb@x,bob,1\nc@x,carol,2000000000\n",
        trustees=3,
    )
    c = credentials(d)
    vote(d, c[0], [[0, 1], [0, 1, 1, 0]])
    t_bob = vote(d, c[1], [[1, 0], [1, 0, 0, 0]])
    vote(d, c[2], [[1, 0], [0, 0, 0, 1]])
    vote(d, c[0], [[1, 0], [0, 1, 0, 0]])  # alice changes her mind: only this one counts
    assert cli(["voter", "check", t_bob], cwd=d)[0] == 0
    tally(d)
    assert result_of(d) == [[2000000004, 0], [1, 3, 0, 2000000000]]
    belenios_accepts(d)


@pytest.mark.interop
def test_non_homomorphic_with_two_shuffles(tmp_path, belenios_accepts):
    d = tmp_path / "nh"
    d.mkdir()
    rank = {"type": "NonHomomorphic", "value": {"answers": ["X", "Y", "Z"], "question": "Rank"}}
    setup_election(d, "RFC-3526-2048", [YES_NO, rank], "a@x\nb@x\nc@x\n", trustees=2)
    votes = [[[1, 0], [1, 2, 3]], [[0, 1], [3, 1, 2]], [[1, 0], [2, 3, 1]]]
    for cred, v in zip(credentials(d), votes, strict=True):
        vote(d, cred, v)
    tally(d, shufflers=2)
    result = result_of(d)
    assert result[0] == [2, 1]
    assert sorted(result[1]) == sorted(v[1] for v in votes)
    belenios_accepts(d)


@pytest.mark.interop
def test_belenios_ballots_on_a_plebiscite_board_and_plebiscite_tally_of_belenios_election(
    tmp_path, belenios_tool, belenios_accepts
):
    """belenios-tool sets up and takes ballots; plebiscite accepts a belenios-tool ballot with
    add-event, closes, tallies, shuffles and decrypts (with the belenios-tool trustees' keys);
    belenios-tool then verifies the whole archive."""
    election = peer.run_scenario("nh-open", tmp_path / "e", voters=3)
    d = election.directory
    # one more ballot, made by belenios-tool, appended by plebiscite
    (d / "choices.json").write_text("[[0,1],[2,1,3]]")
    (d / "cred.txt").write_text(election.private_credentials[0] + "\n")
    ballot = subprocess.run(
        [
            belenios_tool,
            "election",
            "generate-ballot",
            "--dir",
            str(d),
            "--privcred",
            str(d / "cred.txt"),
            "--ballot",
            str(d / "choices.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ballot.returncode == 0, ballot.stderr
    ok(["admin", "add-event", "--type", "Ballot"], stdin=ballot.stdout.encode(), cwd=d)
    tally(d, shufflers=2)
    result = result_of(d)
    assert len(result[1]) == 3
    belenios_accepts(d)


@pytest.mark.interop
def test_plebiscite_threshold_trustees_decrypt_a_belenios_tool_election(tmp_path, belenios_accepts):
    """A 2-of-3 election set up and tallied by belenios-tool up to the encrypted tally; the
    server key and two threshold trustees decrypt with plebiscite (seed and .dkey files of
    belenios-tool's ceremony); plebiscite combines; belenios-tool verifies."""
    from tamper import Archive

    election = peer.run_scenario("threshold", tmp_path / "t", voters=3)
    d = election.directory
    a = Archive.load(election.archive)
    cut = next(i for i, e in a.events() if e["type"] == "EncryptedTally")
    a.entries = a.entries[: cut + 1]
    a.write(election.archive)
    pd = ok(["trustee", "decrypt", "--privkey", next(d.glob("*.privkey")).name], cwd=d)
    ok(["admin", "add-event", "--type", "PartialDecryption"], stdin=pd.encode(), cwd=d)
    for key in sorted(d.glob("*.key"))[:2]:
        pd = ok(
            [
                "trustee",
                "decrypt",
                "--key",
                key.name,
                "--decryption-key",
                key.with_suffix(".dkey").name,
            ],
            cwd=d,
        )
        ok(["admin", "add-event", "--type", "PartialDecryption"], stdin=pd.encode(), cwd=d)
    ok(
        ["admin", "add-event", "--type", "Result"],
        stdin=ok(["admin", "result"], cwd=d).encode(),
        cwd=d,
    )
    assert result_of(d) == [[int(x) for x in col] for col in election.result]
    belenios_accepts(d)
