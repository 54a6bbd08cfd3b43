"""The booth's cryptography in the Ed25519 group (static/js/belenios/ed25519.js on the vendored
@noble/curves) against the Python side: from the same seed the JavaScript ballot is byte for
byte Python's, ballots made with the browser's own randomness pass plebiscite's verifier and
belenios-tool 3.0's verify-ballot, the audit works, and the group refuses what Python refuses."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from plebiscite.crypto.ed25519 import ED25519
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import BallotSetup, make_ballot, verify_ballots
from plebiscite.protocol.messages import parse_election

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import peer3  # noqa: E402
from tamper import Archive  # noqa: E402

pytestmark = pytest.mark.browser

CASES = {
    "belenios3/ed25519": [[[1, 0], [0, 0, 1]], [[0, 1], [1, 0, 0]]],
    "belenios3/blank": [[[1, 0, 0, 0], [0, 1, 1], [0, 1]], [[0, 1, 0, 0], [1, 0, 0], [1, 0]]],
    "belenios3/nh": [[[1, 0], [2, 3, 1]]],
}
MAKE = "return await core.makeBallot(args[0], args[1], args[2], args[3]);"


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
    seed = f"kat-ed25519-{name}-{index}"
    expected = make_ballot(election, credential, choices, DeterministicRandom(seed))
    got = _make_js(js, raw, credential, choices, seed=seed)
    assert got["ballot"].encode() == expected
    assert got["tracker"] == h_json(expected)


@pytest.mark.parametrize("name", list(CASES))
def test_browser_ballots_pass_plebiscite_and_belenios_tool_3(js, vector_election, name, tmp_path):
    raw, creds = vector_election(name)
    chunk = []
    for i, choices in enumerate(CASES[name]):
        got = _make_js(js, raw, creds[i], choices)
        chunk.append((i, f"{i:064x}", got["ballot"].encode()))
    result = verify_ballots(BallotSetup(raw), chunk)
    assert [o.error for o in result.outcomes] == [None] * len(chunk)
    if peer3.belenios3_tool() is None:
        pytest.skip("belenios-tool 3.0 is not installed (./dev test installs it)")
    vector = name.split("/")[1]
    meta = json.loads((_TESTS / "vectors" / "belenios3" / f"{vector}.json").read_text())
    a = Archive.load(_TESTS / "vectors" / "belenios3" / f"{vector}.bel")
    setup_at = next(i for i, ev in a.events() if ev["type"] == "Setup")
    a.entries = a.entries[: setup_at + 1]
    a.write(tmp_path / f"{meta['uuid']}.bel")
    for _, _, ballot in chunk:
        (tmp_path / "ballot.json").write_bytes(ballot + b"\n")
        proc = peer3.belenios3_verify_ballot(tmp_path, tmp_path / "ballot.json")
        assert proc.returncode == 0 and "ballot is valid" in proc.stderr, proc.stderr[-800:]


def test_audit_in_ed25519(js, vector_election):
    raw, creds = vector_election("belenios3/nh")
    got = _make_js(js, raw, creds[0], CASES["belenios3/nh"][0])
    ok = js(
        "return await core.checkAudit(args[0], args[1], args[2]);",
        raw.decode(),
        got["ballot"],
        got["audit"],
    )
    assert ok["ok"], ok
    bad = json.loads(json.dumps(got["audit"]))
    bad["answers"][1]["choices"] = [1, 3, 2]
    report = js(
        "return await core.checkAudit(args[0], args[1], args[2]);", raw.decode(), got["ballot"], bad
    )
    assert not report["ok"]


GROUP = """
  const { ED25519: G } = await import("/static/js/belenios/ed25519.js");
  const out = {g: G.g, one: G.one, g5: G.gpow(5n), g2g3: G.mul(G.gpow(2n), G.gpow(3n)),
               div: G.div(G.gpow(5n), G.gpow(2n)), pow: G.pow(G.gpow(7n), 11n)};
  const refuse = [];
  for (const t of args[0]) {
    try { G.element(t); refuse.push(false); } catch { refuse.push(true); }
  }
  out.refused = refuse;
  out.gen = await G.generator(0);
  const [x] = await G.ofInts([1, 2, 3]);
  out.ints = G.toInts(x, 3);
  return out;
"""


def test_group_is_pythons(js):
    P = 2**255 - 19
    bad = [
        G.upper() if (G := ED25519.encode(ED25519.gpow(2))) else "",
        "0" * 63,
        format(P + 1, "064x"),
        format(P - 1, "064x"),  # (0, -1), order 2
        format(1 | (1 << 255), "064x"),  # the identity with a sign bit
        format(2, "064x"),  # not on the curve
    ]
    got = js(GROUP, bad)
    E = ED25519
    assert got["g"] == E.encode(E.g) and got["one"] == E.encode(E.one)
    assert got["g5"] == E.encode(E.gpow(5)) == got["g2g3"]
    assert got["div"] == E.encode(E.gpow(3))
    assert got["pow"] == E.encode(E.gpow(77))
    assert got["refused"] == [True] * len(bad)
    assert got["gen"] == E.encode(E.generator(0))
    assert got["ints"] == [1, 2, 3]
