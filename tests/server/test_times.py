"""A referendum's opening and closing times: ballots outside them are refused with a clear
error, and the server closes voting by itself once the closing time passes (also when it
passed while the server was down)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from plebiscite.board import open_board
from plebiscite.cli.demo_server import status
from plebiscite.client import Administrator, PartyError, Trustee, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.app import create_app
from server.test_lifecycle import TOKEN, VOTERS, YES, A, B, iso, record

KEY = SigningKey.from_seed(b"\x05" * 32)


@contextmanager
def server(url: str, close_interval: float = 0.1) -> Iterator[TestClient]:
    board = open_board(url)
    try:
        app = create_app(board, admin_token=TOKEN, key=KEY)
        app.state.referendums.close_interval = close_interval
        with TestClient(app) as client:
            yield client
    finally:
        board.close()


def open_referendum(c, rng, **times):
    admin = Administrator(c, TOKEN)
    created = admin.create(record(**times), VOTERS)
    rid = created["id"]
    trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    opened = admin.open(rid)
    creds = {
        r["name"]: {x["login"]: x["credential"] for x in r["credentials"]}
        for r in opened["regions"]
    }
    return admin, rid, trustees, creds


def wait_for_phase(c, rid, phase, timeout=30.0):
    deadline = time.monotonic() + timeout
    while (st := status(c, rid))["phase"] != phase:
        assert time.monotonic() < deadline, f"still {st['phase']!r}, not {phase!r}"
        time.sleep(0.1)
    return st


def test_ballots_before_the_opening_time_are_refused(tmp_path):
    rng = DeterministicRandom("early")
    opening, closing = iso(3600), iso(7200)
    with server(str(tmp_path / "board.db")) as c:
        admin, rid, _, creds = open_referendum(c, rng, opening=opening, closing=closing)
        with pytest.raises(PartyError) as e:
            Voter(c, rid, "North", creds["North"]["a1"], rng).vote([YES, A])
        assert (e.value.status, e.value.code) == (409, "not_yet_open")
        assert f"voting opens at {opening}" in e.value.message
        st = status(c, rid)
        assert st["phase"] == "open" and [r["ballots"] for r in st["regions"]] == [0, 0]
        # the error is JSON with a code and a message
        uuid = st["regions"][0]["election"]
        r = c.post(f"/api/elections/{uuid}/ballots", content=b"{}")
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "not_yet_open"
        # the administrator may still close before the time
        assert admin.close(rid)["phase"] == "decrypting"


def test_closing_time_closes_every_region_as_the_administrator_would(tmp_path):
    """What the server does when the closing time comes (without waiting for it)."""
    rng = DeterministicRandom("due")
    closing = iso(3600)
    with server(str(tmp_path / "board.db")) as c:
        _, rid, (alice, bob, _), creds = open_referendum(c, rng, closing=closing)
        Voter(c, rid, "North", creds["North"]["a1"], rng).vote([YES, A])
        Voter(c, rid, "South", creds["South"]["b1"], rng).vote([YES, B])
        app = c.app
        assert c.portal.call(app.state.referendums.close_due, iso(3500)) == []  # not yet
        assert c.portal.call(app.state.referendums.close_due, closing) == [rid]
        assert c.portal.call(app.state.referendums.close_due, closing) == []  # once
        st = status(c, rid)
        assert st["phase"] == "decrypting"
        assert [r["status"] for r in st["regions"]] == ["tallied", "tallied"]
        with pytest.raises(PartyError) as e:  # the board itself is closed now
            Voter(c, rid, "North", creds["North"]["a2"], rng).vote([YES, A])
        assert (e.value.status, e.value.code) == (409, "voting_closed")
        for name in ("North", "South"):
            alice.decrypt(name)
            bob.decrypt(name)
        st = status(c, rid)
        assert st["phase"] == "done"
        assert [r["result"] for r in st["regions"]] == [[YES, A], [YES, B]]


def test_the_server_closes_voting_by_itself_when_the_time_comes(tmp_path):
    rng = DeterministicRandom("timer")
    closing = iso(8)  # a few seconds: the ceremony and the opening take part of them
    with server(str(tmp_path / "board.db")) as c:
        _, rid, _, creds = open_referendum(c, rng, closing=closing)
        st = wait_for_phase(c, rid, "decrypting")
        deadline = time.monotonic() + 30  # the regions are closed and tallied one by one
        while [r["status"] for r in st["regions"]] != ["tallied", "tallied"]:
            assert time.monotonic() < deadline, st["regions"]
            time.sleep(0.1)
            st = status(c, rid)
        assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) >= closing
        assert [r["status"] for r in st["regions"]] == ["tallied", "tallied"]
        with pytest.raises(PartyError) as e:
            Voter(c, rid, "South", creds["South"]["b1"], rng).vote([YES, A])
        assert (e.value.status, e.value.code) == (409, "voting_closed")
        assert f"voting closed at {closing}" in e.value.message


def test_a_closing_time_passed_while_the_server_was_down_closes_at_start_up(tmp_path):
    url = str(tmp_path / "board.db")
    rng = DeterministicRandom("down")
    closing = iso(4)
    with server(url, close_interval=3600) as c:  # closes nothing after its first look
        _, rid, _, _ = open_referendum(c, rng, closing=closing)
    while time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) < closing:
        time.sleep(0.1)
    with server(url) as c:
        st = wait_for_phase(c, rid, "decrypting", timeout=10)
        deadline = time.monotonic() + 30  # the regions are closed and tallied one by one
        while [r["status"] for r in st["regions"]] != ["tallied", "tallied"]:
            assert time.monotonic() < deadline, st["regions"]
            time.sleep(0.1)
            st = status(c, rid)


def test_a_referendum_past_its_closing_time_does_not_open(tmp_path):
    rng = DeterministicRandom("late")
    with server(str(tmp_path / "board.db")) as c:
        admin = Administrator(c, TOKEN)
        created = admin.create(record(opening=iso(-7200), closing=iso(-3600)), VOTERS)
        rid = created["id"]
        trustees = [Trustee(c, rid, t["index"], t["token"], rng) for t in created["trustees"]]
        for step in ("send_certificate", "send_polynomial", "send_voutput"):
            for t in trustees:
                getattr(t, step)()
        with pytest.raises(PartyError) as e:
            admin.open(rid)
        assert (e.value.status, e.value.code) == (409, "voting_closed")
        assert status(c, rid)["phase"] == "ready" and c.app.state.elections.states == {}
