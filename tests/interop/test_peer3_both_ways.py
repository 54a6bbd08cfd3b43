"""plebiscite and belenios-tool 3.0 (Debian trixie) in both directions: records plebiscite
writes in Ed25519 (a 3.x threshold ceremony, Lists, non-homomorphic and blank questions,
revotes) pass ``belenios-tool election verify``; ballots plebiscite makes for belenios-tool's
elections pass its ``verify-ballot``, and ballots belenios-tool makes for plebiscite's elections
pass plebiscite's verification."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import peer3  # noqa: E402
from plebiscite.crypto.groups import BELENIOS_2048, ED25519  # noqa: E402
from plebiscite.crypto.rand import DeterministicRandom  # noqa: E402
from plebiscite.protocol.ballot import BallotSetup, make_ballot, verify_ballots  # noqa: E402
from plebiscite.protocol.messages import parse_election  # noqa: E402
from plebiscite.protocol.simulate import simulate_election  # noqa: E402
from plebiscite.protocol.verifier import verify_archive  # noqa: E402
from tamper import Archive  # noqa: E402

pytestmark = pytest.mark.interop
VECTORS = _TESTS / "vectors" / "belenios3"

TEMPLATE = {
    "description": "plebiscite record for belenios-tool 3.0",
    "name": "both ways",
    "questions": [
        {
            "type": "Lists",
            "value": {"answers": [["P1", "a", "b"], ["P2", "c", "d", "e"]], "question": "Lists"},
        },
        {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Agree?"},
        {"answers": ["A", "B", "C"], "min": 0, "max": 2, "blank": True, "question": "Pick"},
        {"type": "NonHomomorphic", "value": {"answers": ["x", "y", "z"], "question": "Rank"}},
    ],
}


@pytest.fixture(scope="module")
def tool() -> str:
    path = peer3.belenios3_tool()
    if path is None:
        pytest.skip("belenios-tool 3.0 is not installed (./dev test installs it)")
    return path


def _uuid(archive: bytes) -> str:
    import io

    report = verify_archive(lambda: io.BytesIO(archive))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.uuid is not None
    return report.uuid


@pytest.mark.parametrize("group", [ED25519, BELENIOS_2048], ids=lambda g: g.name)
def test_plebiscite_threshold_record_passes_belenios_tool_3(tool, tmp_path, group):
    template = (
        TEMPLATE if group is ED25519 else {**TEMPLATE, "questions": TEMPLATE["questions"][:3]}
    )
    sim = simulate_election(
        template=template,
        group=group,
        voters=5,
        trustees=3,
        threshold=2,
        rng=DeterministicRandom(f"both ways {group.name}"),
        timestamp=1_700_000_000,
        revotes=2,
    )
    (tmp_path / f"{_uuid(sim.archive)}.bel").write_bytes(sim.archive)
    proc = peer3.belenios3_verify(tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "all checks passed" in proc.stderr


def _setup_only(archive: Path, out: Path) -> Path:
    """The archive up to its Setup event (what a voter's tool reads before voting)."""
    a = Archive.load(archive)
    setup_index = next(i for i, ev in a.events() if ev["type"] == "Setup")
    a.entries = a.entries[: setup_index + 1]
    return a.write(out)


@pytest.mark.parametrize(
    ("name", "choices"),
    [
        ("ed25519", [[0, 1], [0, 0, 1]]),
        ("lists", [[[0, 0, 0], [1, 0, 1, 1]], [1, 0]]),
        ("blank", [[1, 0, 0, 0], [0, 1, 1], [0, 1]]),
        ("nh", [[0, 1], [2, 3, 1]]),
    ],
)
def test_plebiscite_ballots_pass_belenios_tool_3_verify_ballot(tool, tmp_path, name, choices):
    meta = json.loads((VECTORS / f"{name}.json").read_text())
    archive = _setup_only(VECTORS / f"{name}.bel", tmp_path / f"{meta['uuid']}.bel")
    a = Archive.load(archive)
    setup = a.data(a.payload_index("Setup"))
    election = parse_election(a.entries[a.index_of_hash(setup["election"])].content)
    ballot = make_ballot(
        election, meta["private_credentials"][0], choices, DeterministicRandom(f"pleb {name}")
    )
    (tmp_path / "ballot.json").write_bytes(ballot + b"\n")
    proc = peer3.belenios3_verify_ballot(tmp_path, tmp_path / "ballot.json")
    assert proc.returncode == 0 and "ballot is valid" in proc.stderr, proc.stderr[-1000:]
    # and a ballot with a broken proof is refused by both
    bad = json.loads(ballot)
    p = bad["answers"][-1].get("proof") or bad["answers"][-1]["individual_proofs"][0][0]
    p["response"] = str((int(p["response"]) + 1) % election.group.q)
    (tmp_path / "bad.json").write_text(json.dumps(bad, separators=(",", ":")) + "\n")
    assert peer3.belenios3_verify_ballot(tmp_path, tmp_path / "bad.json").returncode != 0


def test_belenios_tool_3_ballots_pass_plebiscite(tool, tmp_path):
    sim = simulate_election(
        template=TEMPLATE,
        group=ED25519,
        voters=3,
        trustees=3,
        threshold=2,
        rng=DeterministicRandom("their ballots"),
        timestamp=1_700_000_000,
    )
    uuid = _uuid(sim.archive)
    (tmp_path / "full.bel").write_bytes(sim.archive)
    d = tmp_path / "setup"
    d.mkdir()
    _setup_only(tmp_path / "full.bel", d / f"{uuid}.bel")
    election = parse_election(sim.files["election.json"])
    creds = [line.split()[1] for line in sim.files["private_creds.txt"].decode().splitlines()]
    votes = [
        [[[1, 1, 0], [0, 0, 0, 0]], [1, 0], [0, 1, 0, 1], [1, 2, 3]],
        [[[0, 0, 0], [1, 0, 0, 1]], [0, 1], [1, 0, 0, 0], [3, 1, 2]],
    ]
    chunk = []
    for i, vote in enumerate(votes):
        (d / "cred").write_text(creds[i] + "\n")
        (d / "choice.json").write_text(json.dumps(vote) + "\n")
        proc = peer3._run(
            [
                "election",
                "generate-ballot",
                "--dir",
                ".",
                "--privcred",
                "cred",
                "--choice",
                "choice.json",
            ],
            d,
            None,
        )
        assert proc.returncode == 0, proc.stderr[-1000:]
        chunk.append((i, f"{i:064x}", proc.stdout.strip().encode()))
    result = verify_ballots(BallotSetup(sim.files["election.json"]), chunk)
    assert [o.error for o in result.outcomes] == [None, None]
    assert election.uuid == uuid
