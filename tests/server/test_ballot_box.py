"""The public ballot box (``GET /api/elections/UUID/ballot-box``), a public credential looked
up on the boards (``GET .../credentials/PUBLIC``) and the voting hours (``GET .../voting``):
paging by height, tracker and prefix search, a revote marking the earlier ballot replaced and
the later one counted, every malformed parameter a 422 naming it, on SQLite and PostgreSQL; the
index alone against a model (Hypothesis) and a board of 20,000 entries answered from it."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import peer_vector
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.crypto.credentials import credential_secret
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.checkpoints import SignedCheckpoint, verify_checkpoint
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.server.app import create_app
from plebiscite.service.ballotbox import (
    MAX_LIMIT,
    BallotBox,
    BoxQuery,
    parse_query,
)
from plebiscite.service.errors import Invalid
from tamper import Archive

TOKEN = "test-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


def _setup(name: str) -> tuple[dict[str, str], list[str], Election]:
    path, meta = peer_vector(name)
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    return texts, meta["private_credentials"], parse_election(texts["election"].encode())


def _public(election: Election, private: str) -> str:
    g = election.group
    return g.encode(g.gpow(credential_secret(private, election.uuid, g)))


@pytest.fixture(params=["sqlite", "postgres"])
def board(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if request.param == "sqlite":
        b: Any = SQLiteBoard(tmp_path / "board.db")
    else:
        from plebiscite.board.postgres import PostgresBoard

        dsn_cm = request.getfixturevalue("pg_server").fresh_database()
        b = PostgresBoard(dsn_cm.__enter__())
        request.addfinalizer(lambda: dsn_cm.__exit__(None, None, None))
    yield b
    b.close()


@pytest.fixture
def sqlite_board(tmp_path: Any) -> Iterator[SQLiteBoard]:
    b = SQLiteBoard(tmp_path / "board.db")
    yield b
    b.close()


def _client(board: Any) -> TestClient:
    key = SigningKey.from_seed(b"\x05" * 32)
    app = create_app(board, admin_token=TOKEN, key=key, timestamp=1_700_000_000)
    c = TestClient(app)
    c.key = key  # type: ignore[attr-defined]
    return c


def _box(c: TestClient, uuid: str, **params: Any) -> dict[str, Any]:
    r = c.get(f"/api/elections/{uuid}/ballot-box", params=params)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _cast(c: TestClient, election: Election, private: str, seed: str) -> tuple[str, int]:
    ballot = make_ballot(election, private, [[1, 0], [0, 1, 0]], DeterministicRandom(seed))
    r = c.post(f"/api/elections/{election.uuid}/ballots", content=ballot)
    assert r.status_code == 200, r.text
    return r.json()["tracker"], r.json()["height"]


def test_pages_searches_and_a_revote(board: Any) -> None:
    texts, creds, election = _setup("open")
    uuid = election.uuid
    with _client(board) as c:
        assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
        empty = _box(c, uuid)
        assert empty["entries"] == [] and empty["ballots"] == 0
        assert empty["next"] is None and empty["previous"] is None
        cast = [_cast(c, election, creds[i], f"b{i}") for i in range(3)]
        again = _cast(c, election, creds[0], "revote")  # replaces the first ballot
        box = _box(c, uuid)
        status = c.get(f"/api/elections/{uuid}").json()
        assert box["height"] == status["height"] and box["ballots"] == 4 and box["counted"] == 3
        rows = box["entries"]
        assert [(e["tracker"], e["height"]) for e in rows] == [*cast, again]
        assert [e["status"] for e in rows] == ["replaced", "counted", "counted", "counted"]
        assert rows[0]["replaced_by"] == again[1]
        assert all(e["replaced_by"] is None for e in rows[1:])
        assert all(e["time"] is None for e in rows)
        # the last signed checkpoint, which the server key verifies
        cp = SignedCheckpoint.from_json(json.dumps(box["checkpoint"]))
        verify_checkpoint(c.key.public(), cp)  # type: ignore[attr-defined]
        assert cp.checkpoint.election == uuid

        # pages of two, forwards then backwards
        first = _box(c, uuid, limit=2)
        assert [e["height"] for e in first["entries"]] == [cast[0][1], cast[1][1]]
        assert first["previous"] is None and first["next"] == {"after": cast[1][1]}
        second = _box(c, uuid, limit=2, **first["next"])
        assert [e["height"] for e in second["entries"]] == [cast[2][1], again[1]]
        assert second["next"] is None and second["previous"] == {"before": cast[2][1]}
        back = _box(c, uuid, limit=2, **second["previous"])
        assert back["entries"] == first["entries"]
        window = _box(c, uuid, after=cast[0][1], before=again[1])
        assert [e["height"] for e in window["entries"]] == [cast[1][1], cast[2][1]]
        assert window["next"] == {"after": cast[2][1]}
        assert window["previous"] == {"before": cast[1][1]}
        assert _box(c, uuid, after=again[1])["entries"] == []

        # the whole tracker, or a prefix; a "+" sent unencoded arrives as a space
        for tracker, height in [*cast, again]:
            found = _box(c, uuid, tracker=tracker)["entries"]
            assert [e["height"] for e in found] == [height]
            prefix = _box(c, uuid, tracker=tracker[:4])["entries"]
            assert height in [e["height"] for e in prefix]
            assert all(e["tracker"].startswith(tracker[:4]) for e in prefix)
            raw = c.get(f"/api/elections/{uuid}/ballot-box?tracker={tracker}").json()
            assert [e["tracker"] for e in raw["entries"]] == [tracker]
            encoded = c.get(f"/api/elections/{uuid}/ballot-box?tracker={quote(tracker, safe='')}")
            assert [e["tracker"] for e in encoded.json()["entries"]] == [tracker]
        assert _box(c, uuid, tracker="AAAAAAAA")["entries"] == []
    # a restart indexes the board again (from the verifier's checkpoint): the same box
    with _client(board) as c:
        assert _box(c, uuid)["entries"] == rows


def test_ballots_cast_through_another_process_are_in_its_box(pg_server: Any) -> None:
    """Two servers on one PostgreSQL database: the box of one shows what the other appended
    (read when the board's head moved), the revote included."""
    from plebiscite.board.postgres import PostgresBoard

    texts, creds, election = _setup("open")
    uuid = election.uuid
    with pg_server.fresh_database() as dsn:
        one, two = PostgresBoard(dsn), PostgresBoard(dsn)
        try:
            with _client(one) as a, _client(two) as b:
                assert a.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
                assert _box(b, uuid)["entries"] == []
                first = _cast(a, election, creds[0], "x")
                assert [e["tracker"] for e in _box(b, uuid)["entries"]] == [first[0]]
                again = _cast(a, election, creds[0], "y")
                rows = _box(b, uuid, tracker=first[0][:6])["entries"]
                assert rows[0]["status"] == "replaced" and rows[0]["replaced_by"] == again[1]
                assert _box(b, uuid)["counted"] == 1
        finally:
            one.close()
            two.close()


BAD = [
    ({"after": "-1"}, "after"),
    ({"after": "abc"}, "after"),
    ({"after": "01"}, "after"),
    ({"after": "9" * 30}, "after"),
    ({"before": "1.5"}, "before"),
    ({"after": "5", "before": "6"}, "before"),
    ({"limit": "0"}, "limit"),
    ({"limit": str(MAX_LIMIT + 1)}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"tracker": "abc"}, "tracker"),
    ({"tracker": "A" * 44}, "tracker"),
    ({"tracker": "abcd="}, "tracker"),
    ({"tracker": "ab%d"}, "tracker"),
    ({"tracker": "abcd\u00e9"}, "tracker"),
]


def test_malformed_parameters_are_refused_naming_them(sqlite_board: SQLiteBoard) -> None:
    texts, _creds, election = _setup("open")
    with _client(sqlite_board) as c:
        assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
        for params, name in BAD:
            r = c.get(f"/api/elections/{election.uuid}/ballot-box", params=params)
            assert r.status_code == 422, (params, r.text)
            error = r.json()["error"]
            assert error["code"] == "bad_parameter", params
            assert error["where"] == f"{name} parameter", params
            assert error["message"].startswith(f"{name} parameter: "), params
        r = c.get("/api/elections/nope/ballot-box")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_election"


def test_a_public_credential_is_found_on_its_own_board_or_another(board: Any) -> None:
    texts, creds, election = _setup("open")
    other_texts, other_creds, other = _setup("revotes")
    assert other.uuid != election.uuid
    with _client(board) as c:
        for t in (texts, other_texts):
            assert c.post("/api/elections", json=t, headers=ADMIN).status_code == 201
        mine = _public(election, creds[0])
        url = f"/api/elections/{election.uuid}/credentials/"
        r = c.get(url + mine)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "election": election.uuid,
            "name": election.name,
            "credential": mine,
            "voted": False,
        }
        _cast(c, election, creds[0], "v")
        assert c.get(url + mine).json()["voted"] is True
        # the private credential of the other election, derived with its uuid: on its board
        theirs = _public(other, other_creds[0])
        r = c.get(url + theirs)
        assert r.status_code == 404
        error = r.json()["error"]
        assert error["code"] == "unknown_credential" and error["where"] == "credential"
        assert error["election"] == {"uuid": other.uuid, "name": other.name}
        assert other.uuid in error["message"]
        # derived with this election's uuid, it is on no board
        nowhere = _public(election, other_creds[0])
        r = c.get(url + nowhere)
        assert r.status_code == 404 and "election" not in r.json()["error"]
        assert "nor of any other election" in r.json()["error"]["message"]
        for bad in ("abc", "0123", "1" * 1025, "A" * 64):
            r = c.get(url + bad)
            assert r.status_code == 422 and r.json()["error"]["code"] == "bad_parameter", bad
        assert c.get(f"/api/elections/nope/credentials/{mine}").status_code == 404


def test_the_voting_hours_of_an_election(sqlite_board: SQLiteBoard) -> None:
    texts, _creds, election = _setup("open")
    uuid = election.uuid
    with _client(sqlite_board) as c:
        assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
        v = c.get(f"/api/elections/{uuid}/voting").json()
        assert v["accepting"] is True and v["refusal"] is None and v["referendum"] is None
        assert v["opening"] is None and v["closing"] is None and v["name"] == election.name
        assert c.post(f"/api/elections/{uuid}/close", headers=ADMIN).status_code == 200
        v = c.get(f"/api/elections/{uuid}/voting").json()
        assert v["accepting"] is False and v["refusal"]["code"] == "voting_closed"
        assert v["status"] == "closed"


# -- the index alone ---------------------------------------------------------------------------


def _tracker(i: int) -> str:
    return base64.b64encode(hashlib.sha256(b"%d" % i).digest()).decode().rstrip("=")


class _Model:
    """The ballot box computed the obvious way, from the list of ballots."""

    def __init__(self) -> None:
        self.ballots: list[tuple[str, int, int]] = []  # tracker, height, credential

    def rows(self) -> list[tuple[str, int, int | None]]:
        out = []
        for i, (t, h, cred) in enumerate(self.ballots):
            later = [h2 for t2, h2, c2 in self.ballots[i + 1 :] if c2 == cred]
            out.append((t, h, later[0] if later else None))
        return out

    def page(self, q: BoxQuery) -> tuple[list[tuple[str, int, int | None]], bool, bool]:
        rows = [r for r in self.rows() if q.tracker is None or r[0].startswith(q.tracker)]
        lo = -1 if q.after is None else q.after
        hi = 1 << 60 if q.before is None else q.before
        inside = [r for r in rows if lo < r[1] < hi]
        shown = inside[-q.limit :] if q.before is not None else inside[: q.limit]
        if not shown:
            return [], any(r[1] >= hi for r in rows), any(r[1] <= lo for r in rows)
        return (
            shown,
            any(r[1] > shown[-1][1] for r in rows),
            any(r[1] < shown[0][1] for r in rows),
        )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3), st.integers(0, 5)), max_size=40),
    st.lists(
        st.tuples(
            st.none() | st.integers(-1, 120),
            st.none() | st.integers(0, 121),
            st.integers(1, 5),
            st.none() | st.integers(0, 39),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_the_index_answers_as_the_model(
    ballots: list[tuple[int, int]],
    queries: list[tuple[int | None, int | None, int, int | None]],
) -> None:
    box, model = BallotBox(), _Model()
    height = 0
    for i, (gap, cred) in enumerate(ballots):
        height += gap
        box.add(_tracker(i), height, f"cred{cred}")
        model.ballots.append((_tracker(i), height, cred))
    for after, before, limit, which in queries:
        if after is not None and after < 0:
            after = None
        if after is not None and before is not None and before <= after + 1:
            before = None
        prefix = None
        if which is not None and ballots:
            prefix = _tracker(which % len(ballots))[: 4 + which % 10]
        q = BoxQuery(after, before, limit, prefix)
        page = box.page(q)
        got = [(e.tracker, e.height, e.replaced_by) for e in page.entries]
        assert (got, page.more_after, page.more_before) == model.page(q), q
    assert box.counted == len({c for _, c in ballots})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.none() | st.text(max_size=60), min_size=4, max_size=4))
def test_any_parameters_are_read_or_refused_naming_one(params: list[str | None]) -> None:
    try:
        q = parse_query(*params)
    except Invalid as e:
        assert e.code == "bad_parameter"
        assert e.where in {f"{n} parameter" for n in ("after", "before", "limit", "tracker")}
    else:
        assert 1 <= q.limit <= MAX_LIMIT
        assert q.tracker is None or 4 <= len(q.tracker) <= 43


def test_parse_query_reads_the_parameters() -> None:
    assert parse_query() == BoxQuery()
    assert parse_query("3", "10", "7", "\tab+c/\n") == BoxQuery(3, 10, 7, "ab+c/")
    assert parse_query(tracker="ab c").tracker == "ab+c"
    # a tracker that starts or ends with a "+" not percent-encoded keeps it
    assert parse_query(tracker=" ab c ").tracker == "+ab+c+"
    with pytest.raises(Invalid) as e:
        parse_query(limit="")
    assert e.value.where == "limit parameter"


def test_a_board_of_20000_ballots_answers_from_its_index(
    sqlite_board: SQLiteBoard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 synthetic entries put in a real election's index (its board holds only the
    Setup): the API answers pages and searches from the index, never reading the board's
    members."""
    texts, _creds, election = _setup("open")
    uuid = election.uuid
    n, voters = 20_000, 15_000
    with _client(sqlite_board) as c:
        assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
        s = c.app.state.elections[uuid]  # type: ignore[attr-defined]
        box = s.ballot_box
        trackers = [_tracker(i) for i in range(n)]
        for i, t in enumerate(trackers):
            box.add(t, 10 + 2 * i, b"%d" % (i % voters))
        reads: list[int] = []
        members = sqlite_board.members
        monkeypatch.setattr(
            sqlite_board, "members", lambda *a, **k: reads.append(1) or members(*a, **k)
        )
        page = _box(c, uuid, after=str(10 + 2 * 19_000), limit=MAX_LIMIT)
        rows = page["entries"]
        assert len(rows) == MAX_LIMIT and rows[0]["height"] == 10 + 2 * 19_001
        assert page["ballots"] == n and page["counted"] == voters
        assert page["next"] == {"after": rows[-1]["height"]}
        # ballot i is replaced by ballot i + voters, for i < 5000
        early = _box(c, uuid, limit=3)["entries"]
        assert [e["replaced_by"] for e in early] == [10 + 2 * voters + 2 * k for k in range(3)]
        last = _box(c, uuid, before=str(10 + 2 * n))["entries"]
        assert last[-1]["height"] == 10 + 2 * (n - 1) and last[-1]["status"] == "counted"
        for i in (0, 7, 12_345, n - 1):
            t = trackers[i]
            assert [e["height"] for e in _box(c, uuid, tracker=t)["entries"]] == [10 + 2 * i]
            found = _box(c, uuid, tracker=t[:4])["entries"]
            expected = [10 + 2 * j for j, u in enumerate(trackers) if u.startswith(t[:4])]
            assert [e["height"] for e in found] == expected
        assert reads == []
