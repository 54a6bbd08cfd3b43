"""The known-answer election (tests/vectors/plebiscite, made by scripts/make-election-vector):
rebuilt byte for byte, valid for plebiscite and for belenios-tool."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from conftest import VECTORS
from plebiscite.protocol.verifier import verify_archive

DIR = VECTORS / "plebiscite"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make-election-vector"


def _script():
    loader = importlib.machinery.SourceFileLoader("make_election_vector", str(SCRIPT))
    spec = importlib.util.spec_from_loader("make_election_vector", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_rebuilt_byte_for_byte():
    e = _script().build()
    assert (DIR / "election.bel").read_bytes() == e.archive
    for name, content in e.files.items():
        assert (DIR / name).read_bytes() == content, name
    assert {p.name for p in DIR.iterdir()} == {"election.bel", *e.files}


def test_valid_with_the_expected_result():
    archive = DIR / "election.bel"
    report = verify_archive(lambda: archive.open("rb"))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.status == "done"
    assert report.ballots == 5 and report.voters == 4 and report.tallied == 4


@pytest.mark.interop
def test_belenios_tool_accepts_it(tmp_path, belenios_accepts):
    shutil.copy(DIR / "election.bel", tmp_path / "election.bel")
    belenios_accepts(tmp_path)
