"""A poll whose credentials go by mail (``voters.delivery`` ``mail``), against a real SMTP
server (aiosmtpd, :mod:`mailserver`): each voter gets one letter with its shard's booth link
and credential, the organiser follows the delivery, a lost credential is reissued before the
opening (refused after), the voters vote through their links and every shard's archive passes
belenios-tool 3.0."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from mailserver import SmtpServer
from peers import peer_verifies
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.client import Administrator, PartyError, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.referendum import shard_of
from plebiscite.server.app import create_app
from plebiscite.server.outbox import SmtpOutbox
from plebiscite.service.letters import Policy
from server.test_robustness import TOKEN

PUBLIC_URL = "https://poll.example.org"
LINK = re.compile(r"(\S+)/booth/([1-9A-HJ-NP-Za-km-z]+)#credential=([1-9A-HJ-NP-Za-km-z-]+)")
FAST = Policy(rate=200.0, attempts=3, backoff=0.2, interval=0.05)
EMAILS = [f"voter{i}@example.org" for i in range(8)]


def iso(seconds_from_now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


@pytest.fixture
def smtp():
    s = SmtpServer()
    yield s
    s.stop()


@pytest.fixture
def http(tmp_path, smtp):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x07" * 32),
        outbox=SmtpOutbox(smtp.url, timeout=5),
        public_url=PUBLIC_URL,
        mail=FAST,
        poll_shard_size=4,
    )
    with TestClient(app, base_url=PUBLIC_URL) as c:
        yield c
    board.close()


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (got := predicate()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)
    return got


def letters_by_voter(messages) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for m in messages:
        body = m.get_content()
        link = LINK.search(body)
        assert link is not None and link.group(1) == PUBLIC_URL, body
        assert "Where shall we eat?" in body
        out[m["To"]] = (link.group(2), link.group(3))
    return out


def sharded_id(admin: Administrator, **options) -> dict:
    """A poll of EMAILS in two shards (the server draws the id again while a split leaves a
    shard without a voter)."""
    return admin.create_poll(
        "Where shall we eat?", ["Pizza", "Sushi"], closing=iso(86400), emails=EMAILS, **options
    )


def test_the_voters_of_a_mail_poll_get_their_letters_and_vote_through_them(http, smtp, tmp_path):
    rng = DeterministicRandom("mail-poll")
    admin = Administrator(http, TOKEN)
    assert admin.call("GET", "/api/polls/options").json()["mail"] is True
    created = sharded_id(admin)  # mail: the default with an outbox
    pid = created["id"]
    assert created["credentials"] == []  # none to the organiser
    st = created["poll"]
    voters = {"mode": "list", "delivery": "mail", "count": len(EMAILS), "login_codes": False}
    assert st["voters"] == voters
    assert "mailed it" in st["powers"]["credentials"]
    assert st["state"] == "open" and len(st["shards"]) == 2
    by_to = letters_by_voter(smtp.wait(len(EMAILS)))
    assert set(by_to) == set(EMAILS)
    shards = {s["name"]: s["election"] for s in st["shards"]}
    names = list(shards)
    for e, (uuid, _credential) in by_to.items():  # each letter links to the voter's shard
        assert uuid == shards[names[shard_of(pid, e, 2)]]
    # each letter's state is written once the SMTP server took it
    status = wait_for(lambda: (got := admin.poll_letters(pid))["counts"]["sent"] == 8 and got)
    assert status["counts"] == {"pending": 0, "sent": 8, "failed": 0, "cancelled": 0}
    assert {x["to"] for x in status["letters"]} == set(EMAILS)

    # opened at once: too late for a reissue
    with pytest.raises(PartyError) as e:
        admin.poll_reissue(pid, EMAILS[0])
    assert (e.value.status, e.value.code) == (409, "voting_open")

    for i, e in enumerate(EMAILS[:5]):
        uuid, credential = by_to[e]
        Voter.of_election(http, uuid, credential, rng).vote([[1, 0]] if i % 2 else [[0, 1]])
    done = admin.close_poll(pid)
    assert done["state"] == "closed"
    assert done["result"]["pooled"]["result"] == [[2, 3]]
    assert done["turnout"]["voted"] == 5
    for uuid in shards.values():  # each shard's archive, an ordinary Belenios record
        d = tmp_path / uuid
        d.mkdir()
        (d / f"{uuid}.bel").write_bytes(http.get(f"/api/elections/{uuid}/archive").content)
        peer_verifies(d)


def test_a_lost_credential_is_reissued_before_the_opening(http, smtp):
    admin = Administrator(http, TOKEN)
    created = admin.create_poll(
        "Where shall we eat?",
        ["Pizza", "Sushi"],
        opening=iso(3600),
        closing=iso(86400),
        emails=EMAILS[:3],
        delivery="mail",
    )
    pid = created["id"]
    assert created["poll"]["state"] == "scheduled"
    first = letters_by_voter(smtp.wait(3))
    # the letter's booth: no board yet, the booth is told when voting opens
    uuid = first[EMAILS[0]][0]
    assert http.get(f"/api/elections/{uuid}").status_code == 404
    voting = http.get(f"/api/elections/{uuid}/voting").json()
    assert voting["status"] == "scheduled" and voting["accepting"] is False
    assert voting["refusal"]["code"] == "not_yet_open"
    assert voting["opening"] == created["poll"]["opening"]
    assert voting["referendum"]["kind"] == "poll" and voting["referendum"]["id"] == pid
    answer = admin.poll_reissue(pid, EMAILS[1].upper())  # the address as the voter spells it
    assert answer["shard"] == created["poll"]["shards"][0]["name"]
    assert answer["login"] == EMAILS[1]
    wait_for(lambda: len(smtp.box.to(EMAILS[1])) == 2)
    again = smtp.box.to(EMAILS[1])[1]
    assert "replaces the one you were sent before" in again.get_content()
    assert letters_by_voter([again])[EMAILS[1]][1] != first[EMAILS[1]][1]
    with pytest.raises(PartyError) as e:
        admin.poll_reissue(pid, "nobody@example.org")
    assert (e.value.status, e.value.code) == (404, "unknown_voter")
    wait_for(lambda: admin.poll_letters(pid)["counts"]["sent"] == 4)


def test_an_organiser_poll_has_no_letters(http):
    admin = Administrator(http, TOKEN)
    created = admin.create_poll(
        "Q?", ["A", "B"], closing=iso(86400), emails=EMAILS[:2], delivery="organiser"
    )
    assert len(created["credentials"]) == 2
    with pytest.raises(PartyError) as e:
        admin.poll_letters(created["id"])
    assert e.value.status == 409 and "not sent by mail" in str(e.value)
