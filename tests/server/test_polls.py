"""Polls over the API, in process (real SQLite board): created in one request, voted in,
closed, counted; split into shards by the public rule, each shard's archive accepted by
belenios-tool and the whole verified by ``plebiscite poll verify``; with trustees, opened by
the server once their ceremony is done; and the request's errors, each naming its field."""

from __future__ import annotations

import io
import math
import time
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from cli_run import cli
from peers import peer_verifies
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.client import PartyError, Trustee, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.record import read_record
from plebiscite.protocol.referendum import shard_of
from plebiscite.server.app import create_app
from plebiscite.server.outbox import LocalOutbox

TOKEN = "poll-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
YES, NO = [[1, 0]], [[0, 1]]


def iso(seconds_from_now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


def make_client(tmp_path, **options):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x05" * 32), **options)
    return board, TestClient(app)


@pytest.fixture
def client(tmp_path):
    board, c = make_client(tmp_path, poll_shard_size=10)
    with c:
        yield c
    board.close()


def create(client, body, status=201):
    r = client.post("/api/polls", json=body, headers=ADMIN)
    assert r.status_code == status, r.text
    return r.json()


def poll(**changes):
    body = {
        "question": "Where shall we eat?",
        "answers": ["Pizza", "Sushi"],
        "closing": iso(86400),
        "voters": {"emails": ["ann@example.org", "bob@example.org", "cy@example.org"]},
    }
    if "questions" in changes:
        del body["question"], body["answers"]
    body.update(changes)
    return body


def vote(client, credentials, choices, rng):
    for c, ch in zip(credentials, choices, strict=True):
        Voter.of_election(client, c["election"], c["credential"], rng).vote(ch)


def test_a_poll_in_one_request_voted_closed_and_counted(client):
    rng = DeterministicRandom("poll")
    created = create(client, poll())
    pid = created["id"]
    assert pid.startswith("where-shall-we-eat-") and len(pid) == len("where-shall-we-eat-") + 10
    st = created["poll"]
    assert st["state"] == "open" and st["title"] == "Where shall we eat?"
    assert created["share_link"] == f"http://testserver/poll/{pid}" == st["share_link"]
    assert st["powers"]["server_can_decrypt"] is True
    assert "the server can decrypt every ballot" in st["powers"]["summary"]
    assert [s["name"] for s in st["shards"]] == ["shard-1"] and created["trustees"] == []
    assert client.get(f"/api/referendums/{pid}").json()["server_can_decrypt"] is True
    creds = created["credentials"]
    assert sorted(c["login"] for c in creds) == [
        "ann@example.org",
        "bob@example.org",
        "cy@example.org",
    ]
    uuid = st["shards"][0]["election"]
    assert all(
        c["booth"] == f"http://testserver/booth/{uuid}#credential={c['credential']}" for c in creds
    )

    vote(client, creds, [YES, NO, YES], rng)
    st = client.get(f"/api/polls/{pid}").json()
    assert st["turnout"] == {"roll": 3, "voted": 3, "share": "1"}
    assert st["result"] is None
    assert client.post(f"/api/polls/{pid}/close").status_code == 401

    r = client.post(f"/api/polls/{pid}/close", headers=ADMIN)
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["state"] == "closed" and st["phase"] == "done"
    pooled = st["result"]["pooled"]
    assert pooled["result"] == [[2, 1]] and pooled["shares"] == [["2/3", "1/3"]]
    assert st["result"]["shards"][0]["result"] == [[2, 1]]

    listed = client.get("/api/polls").json()
    assert [(p["id"], p["state"]) for p in listed] == [(pid, "closed")]
    # the record board: a poll with no rule, its outcome the counts with no verdict
    raw = client.get(f"/api/referendums/{pid}/record").content
    board = read_record(iter_members(io.BytesIO(raw)))
    assert board.record.is_poll and board.record.rule is None
    assert board.record.trustees.names == ()
    assert board.outcome is not None and board.outcome["verdict"] is None
    assert board.outcome["pooled_counts"]["shares"] == [["2/3", "1/3"]]

    qr = client.get(f"/api/polls/{pid}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml"
    svg = ET.fromstring(qr.content)
    assert svg.tag.endswith("svg") and "<script" not in qr.text
    assert client.get("/api/polls/nope/qr.svg").status_code == 404


def test_a_poll_opening_later_takes_no_ballot_before(client):
    rng = DeterministicRandom("later")
    created = create(client, poll(opening=iso(3600), closing=iso(7200)))
    assert created["poll"]["state"] == "scheduled"
    c = created["credentials"][0]
    with pytest.raises(PartyError) as e:
        Voter.of_election(client, c["election"], c["credential"], rng).vote(YES)
    assert e.value.code == "not_yet_open"
    r = client.post(f"/api/polls/{created['id']}/close", headers=ADMIN)
    assert r.status_code == 200


# 30 voters in shards of 10: 3 shards, none left empty by the rule but once in 70,000 ids
EMAILS = [f"voter{i}@example.org" for i in range(30)]


def test_a_poll_split_into_shards_by_the_public_rule(client, tmp_path):
    rng = DeterministicRandom("shards")
    created = create(client, poll(voters={"emails": EMAILS}, title="Sharded"))
    pid = created["id"]
    st = created["poll"]
    k = math.ceil(len(EMAILS) / 10)
    assert k == 3 and [s["name"] for s in st["shards"]] == ["shard-1", "shard-2", "shard-3"]
    uuids = [s["election"] for s in st["shards"]]
    assert len(set(uuids)) == 3
    for c in created["credentials"]:
        i = shard_of(pid, c["login"], 3)
        assert c["shard"] == f"shard-{i + 1}" and c["election"] == uuids[i]
    assert sum(s["roll"] for s in st["shards"]) == 30
    assert st["assignment"]["rule"] == "sha256-mod"

    creds = created["credentials"]
    choices = [YES if i % 3 else NO for i in range(len(creds))]
    vote(client, creds, choices, rng)
    st = client.post(f"/api/polls/{pid}/close", headers=ADMIN).json()
    yes = sum(1 for ch in choices if ch == YES)
    assert st["result"]["pooled"]["result"] == [[yes, len(creds) - yes]]
    assert sum(s["result"][0][0] for s in st["result"]["shards"]) == yes

    record = tmp_path / f"{pid}.record.bel"
    record.write_bytes(client.get(f"/api/referendums/{pid}/record").content)
    archives = []
    for uuid in uuids:
        d = tmp_path / uuid
        d.mkdir()
        path = d / f"{uuid}.bel"
        path.write_bytes(client.get(f"/api/elections/{uuid}/archive").content)
        peer_verifies(d)
        archives.append(str(path))

    rc, out = cli(["poll", "verify", str(record), *archives])
    assert rc == 0, out
    assert "VALID" in out and f"pooled:     {len(creds)} of 30 on the roll voted" in out
    assert "'Pizza' " in out and "shard-3" in out
    # a shard removed, or one of another poll in its place: refused
    rc, out = cli(["poll", "verify", str(record), *archives[:2]])
    assert rc == 1 and "no archive of region 'shard-3'" in out
    other = create(client, poll(title="Other"))
    o_uuid = other["poll"]["shards"][0]["election"]
    o_path = tmp_path / f"{o_uuid}.bel"
    o_path.write_bytes(client.get(f"/api/elections/{o_uuid}/archive").content)
    rc, out = cli(["poll", "verify", str(record), *archives[:2], str(o_path)])
    assert rc == 1 and "not an election of the record" in out


def test_a_poll_with_trustees_opens_itself_when_the_ceremony_is_done(client):
    rng = DeterministicRandom("trustees")
    created = create(client, poll(trustees={"names": ["Alice", "Bob", "Carol"], "threshold": 2}))
    pid = created["id"]
    st = created["poll"]
    assert st["state"] == "ceremony" and st["powers"]["server_can_decrypt"] is False
    assert "2 of the 3 trustees" in st["powers"]["summary"]
    trustees = [Trustee(client, pid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    st = client.get(f"/api/polls/{pid}").json()
    assert st["state"] == "open" and st["trustees"]["ceremony"] == "done"
    assert client.portal.call(client.app.state.referendums.open_due) == []  # opened already
    vote(client, created["credentials"], [YES, YES, NO], rng)
    st = client.post(f"/api/polls/{pid}/close", headers=ADMIN).json()
    assert st["state"] == "counting" and st["result"] is None
    for t in trustees[:2]:
        t.decrypt("shard-1")
    st = client.get(f"/api/polls/{pid}").json()
    assert st["state"] == "closed" and st["result"]["pooled"]["shares"] == [["2/3", "1/3"]]


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"answers": ["Pizza"]}, "request.answers", "at least two answers"),
        ({"answers": ["Pizza", "Pizza"]}, "request.answers[1]", "twice"),
        ({"closing": iso(-60)}, "request.closing", "has passed"),
        ({"opening": iso(7200), "closing": iso(3600)}, "request.closing", "not after the opening"),
        ({"closing": "tomorrow"}, "request.closing", "YYYY-MM-DDTHH:MM:SSZ"),
        (
            {"voters": {"emails": ["ann@example.org", "not an address"]}},
            "request.voters.emails[1]",
            "not an e-mail",
        ),
        ({"voters": {"emails": ["a@x.org", "A@x.org"]}}, "request.voters.emails[1]", "twice"),
        ({"voters": {"emails": []}}, "request.voters.emails", "at least one"),
        ({"shard_size": 0}, "request.shard_size", "outside"),
        ({"shard_size": 11}, "request.shard_size", "outside [1, 10]"),
        (
            {"trustees": {"names": [], "threshold": 1}},
            "request.trustees.threshold",
            "needs trustees",
        ),
        (
            {"questions": [{"question": "Q", "answers": [], "min": 1, "max": 1}]},
            "request.questions[0]",
            "",
        ),
        ({"colour": "red"}, "request", "unknown field 'colour'"),
        (
            {"voters": {"emails": ["a@x.org"], "delivery": "post"}},
            "request.voters.delivery",
            "expected 'mail'",
        ),
        (
            {"voters": {"open": {"pool": 5}, "delivery": "organiser"}},
            "request.voters.delivery",
            "goes with 'emails'",
        ),
    ],
)
def test_errors_name_the_field(client, change, where, message):
    r = client.post("/api/polls", json=poll(**change), headers=ADMIN)
    assert r.status_code == 422, r.text
    text = r.json()["error"]["message"]
    assert text.startswith(where) and message in text
    assert client.get("/api/polls").json() == []  # nothing made


def test_the_options_say_what_a_poll_creator_may_ask_for(client):
    """GET /api/polls/options (public; not taken for a poll's id): no mail delivery, no
    identity provider here, the largest shard; the delivery the form then sends is taken."""
    r = client.get("/api/polls/options")
    assert r.status_code == 200, r.text
    assert r.json() == {"mail": False, "sign_in": [], "max_shard_size": 10}
    r = client.post(
        "/api/polls",
        json=poll(voters={"emails": ["a@x.org", "b@x.org"], "delivery": "organiser"}),
        headers=ADMIN,
    )
    assert r.status_code == 201, r.text
    assert len(r.json()["credentials"]) == 2
    assert r.json()["poll"]["voters"] == {
        "mode": "list",
        "delivery": "organiser",
        "count": 2,
        "login_codes": False,
    }
    assert r.json()["poll"]["vote_link"] is None
    assert "organiser" in r.json()["poll"]["powers"]["credentials"]


def test_mail_delivery_needs_an_outbox(client):
    r = client.post(
        "/api/polls", json=poll(voters={"emails": ["a@x.org"], "delivery": "mail"}), headers=ADMIN
    )
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "no_outbox"
    assert r.json()["error"]["message"].startswith("request.voters.delivery")
    assert client.get("/api/polls").json() == []


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client):
    from plebiscite.service.poll import MAX_POLL_CREATE

    r = client.post(
        "/api/polls",
        content=b"{",
        headers={**ADMIN, "content-length": str(MAX_POLL_CREATE + 1)},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"


def test_login_codes_need_an_outbox_and_open_polls_a_provider(client, tmp_path):
    r = client.post(
        "/api/polls", json=poll(voters={"emails": ["a@x.org"], "login_codes": True}), headers=ADMIN
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_available"
    assert r.json()["error"]["message"].startswith("request.voters.login_codes")
    r = client.post("/api/polls", json=poll(voters={"open": {"pool": 50}}), headers=ADMIN)
    assert r.status_code == 409 and r.json()["error"]["message"].startswith("request.voters.open")
    r = client.post("/api/polls", json=poll(voters={"open": {"pool": 0}}), headers=ADMIN)
    assert r.status_code == 422 and "request.voters.open.pool" in r.text
    assert client.post("/api/polls", json=poll()).status_code == 401
    assert client.get("/api/polls").json() == []


def test_login_codes_with_an_outbox(tmp_path):
    board, c = make_client(tmp_path, outbox=LocalOutbox(tmp_path / "outbox"))
    with c:
        created = create(c, poll(voters={"emails": ["a@x.org"], "login_codes": True}))
        st = created["poll"]
        assert st["login_codes"] is True and st["state"] == "open"
        uuid = st["shards"][0]["election"]
        assert c.get(f"/api/elections/{uuid}/voter-authentication").json()["required"] is True
    board.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "board.db")
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield dsn


def test_a_poll_survives_a_restart_and_the_closer_closes_it(database):
    """On SQLite and PostgreSQL: a poll voted in, the server restarted, the closing time
    passed: the closer closes it, the server decrypts, the result is out."""
    from plebiscite.board import open_board

    rng = DeterministicRandom("restart")
    key = SigningKey.from_seed(b"\x05" * 32)
    board = open_board(database)
    with TestClient(create_app(board, admin_token=TOKEN, key=key)) as c:
        created = create(c, poll())
        vote(c, created["credentials"][:2], [YES, NO], rng)
    board.close()
    board = open_board(database)
    with TestClient(create_app(board, admin_token=TOKEN, key=key)) as c:
        pid = created["id"]
        refs = c.app.state.referendums
        st = c.get(f"/api/polls/{pid}").json()
        assert st["state"] == "open" and st["turnout"]["voted"] == 2
        assert c.portal.call(refs.close_due, iso(86400 * 2)) == [pid]
        st = c.get(f"/api/polls/{pid}").json()
        assert st["state"] == "closed" and st["result"]["pooled"]["result"] == [[1, 1]]
        raw = c.get(f"/api/referendums/{pid}/record").content
        assert read_record(iter_members(io.BytesIO(raw))).outcome is not None
    board.close()


def test_a_split_leaving_a_shard_empty_is_refused():
    from plebiscite.errors import EncodingError
    from plebiscite.service.poll import split

    emails = ["a@x.org", "b@x.org"]
    pid = next(f"p{i}" for i in range(100) if len({shard_of(f"p{i}", e, 2) for e in emails}) == 1)
    with pytest.raises(EncodingError) as e:
        split(pid, emails, 1)
    assert e.value.where == "request.shard_size" and "without a voter" in e.value.message
    ok = next(f"p{i}" for i in range(100) if len({shard_of(f"p{i}", e, 2) for e in emails}) == 2)
    assert sorted(map(len, split(ok, emails, 1))) == [1, 1]
    assert split(ok, emails, 2) == [emails]


def test_a_poll_of_full_questions_a_ranking_shuffled_and_decrypted_by_the_server(client):
    from plebiscite.protocol.simulate import random_choices

    rng = DeterministicRandom("ranking")
    questions = [
        {"question": "Adopt it?", "answers": ["Yes", "No"], "min": 1, "max": 1, "blank": True},
        {"type": "NonHomomorphic", "value": {"answers": ["A", "B", "C"], "question": "Rank"}},
    ]
    created = create(client, poll(questions=questions, title="Two questions"))
    pid = created["id"]
    assert created["poll"]["title"] == "Two questions"
    for c in created["credentials"]:
        v = Voter.of_election(client, c["election"], c["credential"], rng)
        v.vote(random_choices(v.election, rng))
    st = client.post(f"/api/polls/{pid}/close", headers=ADMIN).json()
    assert st["state"] == "closed", st
    pooled = st["result"]["pooled"]
    assert sum(pooled["result"][0]) == 3 and len(pooled["result"][1]) == 3
    assert pooled["shares"][1] is None and len(pooled["shares"][0]) == 2
    assert st["shards"][0]["status"] == "done"


def test_an_id_whose_split_leaves_a_shard_empty_is_drawn_again(client):
    """Two voters in shards of one: half the ids leave a shard empty; the server draws ids
    until one splits them, so every such creation succeeds."""
    for _ in range(8):
        body = poll(voters={"emails": ["a@x.org", "b@x.org"]}, shard_size=1)
        st = create(client, body)["poll"]
        assert [s["roll"] for s in st["shards"]] == [1, 1]
