"""``plebiscite ballot``: reads only the setup of the archive, checks it once per machine, and
refuses a credential that is not on the election's list."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cli_run import cli, ok
from conftest import peer_vector
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import generate_credential
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.setup import read_setup
from tamper import Archive

CHOICES = "[[1,0,0]]"


def _setup_hash(archive: Path) -> str:
    with archive.open("rb") as f:
        return read_setup(f).event_hash


def _election(archive: Path):
    with archive.open("rb") as f:
        return parse_election(read_setup(f).election)


def _first_answers(election) -> str:
    """The choices that take the first answer of every question, as ``--choices`` takes them."""
    return json.dumps(
        [[1] + [0] * (len(q.answers) - 1) for q in election.questions], separators=(",", ":")
    )


def test_ballot_is_valid_and_the_setup_is_remembered(monkeypatch, tmp_path):
    monkeypatch.setenv("PLEBISCITE_CACHE", str(tmp_path / "cache"))
    archive, meta = peer_vector("open")
    election = _election(archive)
    choices = _first_answers(election)
    out = ok(
        [
            "ballot",
            "--archive",
            str(archive),
            "--credential",
            meta["private_credentials"][0],
            "--choices",
            choices,
        ]
    )
    verify_ballot(
        parse_ballot(out.strip().encode(), election),
        election,
        Context(election.group, election.public_key),
    )
    marker = tmp_path / "cache" / "setups" / _setup_hash(archive)
    assert marker.is_file()
    # a second ballot trusts the remembered check
    ok(
        [
            "ballot",
            "--archive",
            str(archive),
            "--credential",
            meta["private_credentials"][1],
            "--choices",
            choices,
        ]
    )


def test_credential_not_on_the_list_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("PLEBISCITE_CACHE", "off")
    archive, _ = peer_vector("open")
    election = _election(archive)
    choices = _first_answers(election)
    stranger = generate_credential(DeterministicRandom("stranger"))
    rc, out = cli(
        ["ballot", "--archive", str(archive), "--credential", stranger, "--choices", choices]
    )
    assert rc == 1 and "not on the election's list" in out


def test_setup_with_a_bad_trustee_proof_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("PLEBISCITE_CACHE", "off")
    archive, meta = peer_vector("open")
    a = Archive.load(archive)
    setup = a.data(a.payload_index("Setup"))
    i = a.index_of_hash(setup["trustees"])

    def fn(t):
        item = t[0][1]
        pok = item["pok"] if "pok" in item else item["verification_keys"][0]["pok"]
        pok["response"] = str(int(pok["response"]) // 2)
        return t

    a.edit(i, fn)
    bad = a.write(tmp_path / archive.name)
    rc, out = cli(
        [
            "ballot",
            "--archive",
            str(bad),
            "--credential",
            meta["private_credentials"][0],
            "--choices",
            "[[1]]",
        ]
    )
    assert rc == 1 and "setup does not verify" in out, out
    assert not (tmp_path / "setups").exists()
    assert os.environ["PLEBISCITE_CACHE"] == "off"


def test_the_ballot_command_imports_little():
    """``plebiscite ballot`` runs once per ballot: its imports are kept light (no typing,
    dataclasses, pathlib or threading on its path), which a benchmark against belenios-tool
    measures; this test keeps them from coming back unnoticed."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import plebiscite.cli.main, plebiscite.cli.voter, plebiscite.protocol.setup\n"
        "import plebiscite.protocol.ballot\n"
        "plebiscite.cli.main.build_parser('ballot')\n"
        "heavy = ('typing', 'dataclasses', 'pathlib', 'inspect', 'secrets', 'tempfile',\n"
        "         'threading', 'ctypes.util', 'subprocess', 'shutil')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
