"""The live verifier's resumable state, stored incrementally: what a save writes does not grow
with the board; a restart resumes from the base and its deltas without verifying again; the
stored board is hashed again at start-up, and a damaged one is named and never appended to."""

from __future__ import annotations

import sqlite3

import pytest

from plebiscite.board.private import open_private
from plebiscite.client import PartyError, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.service.election import CHECKPOINT_KIND, DELTA_KIND
from server.test_lifecycle import YES, A
from server.test_times import open_referendum, server


def _north(c, rid):
    st = c.get(f"/api/referendums/{rid}").json()
    return next(r["election"] for r in st["regions"] if r["name"] == "North")


def test_saves_write_deltas_that_do_not_grow_with_the_board(tmp_path, monkeypatch):
    from plebiscite.service import election as election_module

    monkeypatch.setattr(election_module, "CHECKPOINT_EVERY", 1)  # a save at every event
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("deltas")
    with server(url, close_interval=3600) as c:
        _, rid, _, creds = open_referendum(c, rng)
        uuid = _north(c, rid)
        s = c.app.state.elections.states[uuid]
        for login, cred in sorted(creds["North"].items()):
            s._next_save = 0.0  # no saving budget in the way
            Voter(c, rid, "North", cred, rng).vote([YES, A])
        ballots = len(creds["North"])
    store = open_private(url)
    try:
        deltas = store.items(DELTA_KIND, f"{uuid}/")
        base = store.get(CHECKPOINT_KIND, uuid)
    finally:
        store.close()
    assert len(deltas) >= ballots + 1  # the first (everything so far), then one a ballot
    sizes = [len(v) for _, v in deltas[1:]]
    assert max(sizes) < 2 * min(sizes)  # each holds one ballot's additions, not the board
    with server(url, close_interval=3600) as c:  # resumed from the base and every delta
        s = c.app.state.elections.states[uuid]
        assert s.resumed and s.damaged is None
        assert s.verifier.voted == ballots and len(s.trackers) == ballots
    assert base is not None


def _damage(path: str, uuid: str) -> int:
    """Change the content of the board's last ballot in the file (as a damaged page would):
    the member number changed."""
    db = sqlite3.connect(path)
    try:
        (ident,) = db.execute("SELECT id FROM elections WHERE uuid = ?", (uuid,)).fetchone()
        seq, content = db.execute(
            "SELECT seq, content FROM members WHERE election = ? AND kind = 'data' "
            "ORDER BY seq DESC LIMIT 1",
            (ident,),
        ).fetchone()
        db.execute("DROP TRIGGER members_no_update")
        db.execute(
            "UPDATE members SET content = ? WHERE election = ? AND seq = ?",
            (content.replace(b'"', b"'", 1), ident, seq),
        )
        db.commit()
        return int(seq)
    finally:
        db.close()


def test_a_damaged_board_is_named_at_start_up_and_never_appended_to(tmp_path):
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("damage")
    with server(url, close_interval=3600) as c:
        _, rid, _, creds = open_referendum(c, rng)
        uuid = _north(c, rid)
        voters = sorted(creds["North"].items())
        Voter(c, rid, "North", voters[0][1], rng).vote([YES, A])
    seq = _damage(url, uuid)
    with server(url, close_interval=3600) as c:
        s = c.app.state.elections.states[uuid]
        assert s.damaged is not None
        assert f"damaged at member {seq}" in s.damaged and "does not hash to its name" in s.damaged
        with pytest.raises(PartyError) as e:
            Voter(c, rid, "North", voters[1][1], rng).vote([YES, A])
        assert (e.value.status, e.value.code) == (409, "board_damaged")
        assert f"member {seq}" in e.value.message
        # the other region's board takes ballots as before
        south = sorted(creds["South"].items())
        Voter(c, rid, "South", south[0][1], rng).vote([YES, A])
