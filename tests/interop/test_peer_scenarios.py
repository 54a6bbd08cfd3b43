"""The reference peer (tests/peer.py) can run every small scenario with belenios-tool.

Each scenario builds a fresh election in tmp_path and must pass
``belenios-tool election verify``; run_scenario also checks the published
result against the tally recomputed from the plaintext votes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:  # conftest.py does this too; be standalone anyway
    sys.path.insert(0, str(_TESTS))

import peer  # noqa: E402  (tests/peer.py, standard library only)
from plebiscite.protocol.verifier import verify_archive  # noqa: E402

pytestmark = pytest.mark.interop

requires_tool = pytest.mark.skipif(
    peer.belenios_tool() is None,
    reason="belenios-tool not on PATH (apt install belenios-tool) -- interop peer unavailable",
)


# Three voters keep the runs short; "weighted" needs its fifth voter (a weight
# >= 2**30) and "open" its fourth and fifth (who have not voted yet).
_VOTERS = {"weighted": 5, "open": 5, "nh-open": 3}


@requires_tool
@pytest.mark.parametrize("scenario", peer.SMALL_SCENARIOS)
def test_scenario_verifies(scenario: str, tmp_path: Path) -> None:
    voters = _VOTERS.get(scenario, 3)
    election = peer.run_scenario(scenario, tmp_path / scenario, voters=voters)
    assert election.archive.is_file()
    assert election.archive.name == f"{election.uuid}.bel"
    assert len(election.private_credentials) == voters
    proc = peer.belenios_verify(election.directory)
    assert proc.returncode == 0, proc.stderr
    if scenario.endswith("open"):
        assert election.result is None
    else:
        assert isinstance(election.result, list)
    # and plebiscite reaches the same verdict and the same result
    report = verify_archive(lambda: election.archive.open("rb"))
    assert report.valid, [f.describe() for f in report.findings]
    expected = json.loads(json.dumps(election.result), parse_int=int)
    assert report.result == _ints(expected)


def _ints(value: object) -> object:
    if isinstance(value, list):
        return [_ints(x) for x in value]
    return int(value) if isinstance(value, str) else value


def test_checked_in_vectors_match_sidecars() -> None:
    """tests/vectors/belenios/*.bel agree with their sidecars (no belenios-tool needed)."""
    vectors = _TESTS / "vectors" / "belenios"
    found = sorted(vectors.glob("*.bel"))
    if not found:
        pytest.skip("no checked-in vectors (run scripts/make-peer-vectors)")
    for bel in found:
        meta = json.loads(bel.with_suffix(".json").read_text())
        events, data = peer.archive_events(bel)
        assert events[0]["type"] == "Setup"
        assert sum(e["type"] == "Ballot" for e in events) == meta["ballots"]
        assert peer.read_result(bel) == meta["result"]
        setup = json.loads(data[events[0]["payload"]])
        election = json.loads(data[setup["election"]])
        assert election["uuid"] == meta["uuid"]
        assert len(json.loads(data[setup["credentials"]])) == meta["voters"]
        assert len(meta["private_credentials"]) == meta["voters"]


@requires_tool
def test_checked_in_vectors_verify(tmp_path: Path) -> None:
    vectors = _TESTS / "vectors" / "belenios"
    found = sorted(vectors.glob("*.bel"))
    if not found:
        pytest.skip("no checked-in vectors (run scripts/make-peer-vectors)")
    for bel in found:
        d = tmp_path / bel.stem
        d.mkdir()
        meta = json.loads(bel.with_suffix(".json").read_text())
        (d / f"{meta['uuid']}.bel").write_bytes(bel.read_bytes())
        proc = peer.belenios_verify(d)
        assert proc.returncode == 0, f"{bel.name}: {proc.stderr}"
