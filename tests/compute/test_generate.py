"""The generator of big elections (``plebiscite generate``): real ballots with real proofs from
a seed, an archive that plebiscite and belenios-tool 3.0 accept with the result the choices
give, the same bytes whatever executor made it, and never over an existing file."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from cli_run import cli
from peers import peer_verifies
from plebiscite.compute.generate import Plan, generate_archive
from plebiscite.protocol.verifier import Verifier


def test_a_generated_election_verifies_with_the_counts_of_its_choices(tmp_path: Path) -> None:
    plan = Plan(voters=30, seed="generate", revotes=4)
    archive = tmp_path / "peer" / "election.bel"
    archive.parent.mkdir()
    with ThreadPoolExecutor(2) as pool:
        made = generate_archive(archive, plan, pool, 2)
    assert made.ballots == 34
    report = Verifier(lambda: archive.open("rb")).run()
    assert report.valid, [f.describe() for f in report.findings]
    assert report.ballots == 34 and report.voters == 30
    assert report.result == made.counts
    assert [sum(q) for q in made.counts] == [30, 30]  # one answer a question, last ballots
    peer_verifies(archive.parent)


def test_the_same_plan_gives_the_same_bytes(tmp_path: Path) -> None:
    plan = Plan(voters=20, seed="same", revotes=2)
    with ThreadPoolExecutor(1) as one:
        generate_archive(tmp_path / "a.bel", plan, one, 1)
    with ProcessPoolExecutor(2) as two:
        generate_archive(tmp_path / "b.bel", plan, two, 2)
    assert (tmp_path / "a.bel").read_bytes() == (tmp_path / "b.bel").read_bytes()
    other = Plan(voters=20, seed="other", revotes=2)
    with ThreadPoolExecutor(1) as one:
        generate_archive(tmp_path / "c.bel", other, one, 1)
    assert (tmp_path / "c.bel").read_bytes() != (tmp_path / "a.bel").read_bytes()


def test_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "g.bel"
    rc, text = cli(
        ["generate", "--voters", "12", "--revotes", "2", "--seed", "cli", "--jobs", "2",
         "--out", str(out), "--json"]
    )  # fmt: skip
    assert rc == 0, text
    summary = json.loads(text)
    assert summary["ballots"] == 14 and summary["voters"] == 12
    assert cli(["verify", str(out)])[0] == 0
    kept = out.read_bytes()
    rc, text = cli(["generate", "--voters", "5", "--out", str(out)])
    assert rc == 2 and "exists: it is kept" in text
    assert out.read_bytes() == kept
    for bad, message in (
        (["--voters", "0"], "at least one voter"),
        (["--voters", "3", "--revotes", "4"], "revotes must be between 0 and the 3 voters"),
        (["--voters", "3", "--jobs", "2", "--cluster", "local:2"], "not both"),
    ):
        rc, text = cli(["generate", *bad, "--out", str(tmp_path / "new.bel")])
        assert rc == 2 and message in text, text
    assert not (tmp_path / "new.bel").exists()


def test_plan_checks_its_numbers() -> None:
    with pytest.raises(ValueError, match="at least one voter"):
        Plan(voters=0, seed="x")
