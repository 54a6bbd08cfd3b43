"""Time and randomness come into the domain layer through seams: a referendum's voting hours
and its closing follow the clock it is given, without waiting for the real time."""

from __future__ import annotations

import calendar
import time

from fastapi.testclient import TestClient

from plebiscite.board import open_board
from plebiscite.cli.demo_server import status
from plebiscite.client import Administrator, PartyError, Trustee, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.app import create_app
from server.test_lifecycle import TOKEN, VOTERS, YES, A, record

OPENING, CLOSING = "2031-05-01T08:00:00Z", "2031-05-01T20:00:00Z"


def _at(iso: str) -> float:
    return float(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")))


def test_the_voting_hours_follow_the_clock_the_server_is_given(tmp_path):
    now = [_at("2031-04-30T12:00:00Z")]  # before the opening: the referendum may open
    rng = DeterministicRandom("seams")
    board = open_board(str(tmp_path / "board.db"))
    try:
        app = create_app(
            board,
            admin_token=TOKEN,
            key=SigningKey.from_seed(b"\x09" * 32),
            clock=lambda: now[0],
            rng=lambda: DeterministicRandom(f"server-{now[0]}"),
        )
        app.state.referendums.close_interval = 3600  # closes only when asked below
        with TestClient(app) as c:
            admin = Administrator(c, TOKEN)
            created = admin.create(record(opening=OPENING, closing=CLOSING), VOTERS)
            rid = created["id"]
            trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
            for step in ("send_certificate", "send_polynomial", "send_voutput"):
                for t in trustees:
                    getattr(t, step)()
            opened = admin.open(rid)
            north = next(r for r in opened["regions"] if r["name"] == "North")
            creds = [x["credential"] for x in north["credentials"]]
            try:
                Voter(c, rid, "North", creds[0], rng).vote([YES, A])
                raise AssertionError("a ballot before the opening time was taken")
            except PartyError as e:
                assert (e.status, e.code) == (409, "not_yet_open")
            now[0] = _at("2031-05-01T09:00:00Z")
            Voter(c, rid, "North", creds[0], rng).vote([YES, A])
            now[0] = _at("2031-05-01T20:00:01Z")
            assert c.portal.call(app.state.referendums.close_due) == [rid]  # the clock's now
            assert status(c, rid)["phase"] == "decrypting"
            checkpoints = c.get(f"/api/elections/{north['election']}/checkpoints").json()
            assert checkpoints[-1]["checkpoint"]["time"] == "2031-05-01T20:00:01Z"
    finally:
        board.close()
