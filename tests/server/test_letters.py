"""Credentials delivered by mail (``"credential_delivery": "mail"``), against a real SMTP
server (aiosmtpd, :mod:`mailserver`): every voter gets one letter with a credential of its
region's board and the booth's link; refused and deferred recipients; a reissue before the
opening (and its refusal after); a server killed mid-job; two server processes on one
PostgreSQL database; and no credential in any log."""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from mailserver import SmtpServer
from peers import peer_verifies
from plebiscite.board import open_board
from plebiscite.board.private import private_of
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import demo_record
from plebiscite.client import Administrator, PartyError, Trustee, Voter, connect
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import credential_secret
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.simulate import random_choices
from plebiscite.protocol.verifier import Verifier
from plebiscite.server.app import create_app
from plebiscite.server.outbox import SmtpOutbox
from plebiscite.service.letters import KIND_JOB, Policy
from server.test_robustness import TOKEN, Server

PUBLIC_URL = "https://vote.example.org"
LINK = re.compile(r"(\S+)/booth/([1-9A-HJ-NP-Za-km-z]+)#credential=([1-9A-HJ-NP-Za-km-z-]+)")
FAST = Policy(rate=200.0, attempts=3, backoff=0.2, interval=0.05)


@pytest.fixture
def smtp():
    s = SmtpServer()
    yield s
    s.stop()


def app_client(tmp_path, smtp: SmtpServer | None, policy: Policy = FAST) -> TestClient:
    board = SQLiteBoard(tmp_path / "board.db")
    outbox = None if smtp is None else SmtpOutbox(smtp.url, timeout=5)
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x02" * 32),
        outbox=outbox,
        public_url=PUBLIC_URL,
        mail=policy,
    )
    return TestClient(app, base_url=PUBLIC_URL)


def voters(names: list[str], n: int) -> dict[str, list[str]]:
    return {name: [f"{name.lower()}{i}@example.org" for i in range(n)] for name in names}


def create(admin: Administrator, rid: str, roll: dict[str, list[str]], **options):
    record = demo_record(rid, list(roll))
    return admin.create(record, roll, credential_delivery="mail", **options)


def letter_of(message) -> tuple[str, str]:
    """(election uuid, credential) of a credential letter, from its booth link."""
    body = message.get_content()
    m = LINK.search(body)
    assert m is not None, "no booth link in the letter"
    assert m.group(1) == PUBLIC_URL and f"Your credential: {m.group(3)}" in body
    return m.group(2), m.group(3)


def public_of(credential: str, uuid: str, group_name: str = "Ed25519") -> str:
    group = group_by_name(group_name)
    return str(Context(group).gpow(credential_secret(credential, uuid, group)))


def board_credentials(http, uuid: str) -> set[str]:
    data = http.get(f"/api/elections/{uuid}/archive").content
    v = Verifier(functools.partial(io.BytesIO, data))
    assert v.run().valid
    assert v.raw_setup is not None
    return {c.split(",")[0] for c in json.loads(v.raw_setup[2])}


def ceremony(http, created, rng) -> None:
    trustees = [
        Trustee(http, created["id"], t["index"], t["token"], rng) for t in created["trustees"]
    ]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (got := predicate()):
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)
    return got


def test_fifty_voters_get_their_credentials_by_mail_and_one_is_reissued(tmp_path, smtp, caplog):
    caplog.set_level(logging.DEBUG, logger="plebiscite")
    rng = DeterministicRandom("letters-50")
    roll = voters(["North", "South"], 25)
    with app_client(tmp_path, smtp) as http:
        admin = Administrator(http, TOKEN)
        created = create(admin, "mailed", roll)
        assert created["credential_delivery"] == "mail"
        uuids = {r["name"]: r["election"] for r in created["regions"]}
        got = smtp.wait(50)
        by_to: dict[str, tuple[str, str]] = {}
        for m in got:
            assert m["To"] not in by_to, "two letters to one voter"
            assert m["Subject"].startswith("Your credential for plebiscite demo referendum")
            by_to[m["To"]] = letter_of(m)
        for name, logins in roll.items():
            for login in logins:  # the link goes to the voter's own region's booth
                assert by_to[login][0] == uuids[name]
        # each letter's state is written once the SMTP server took it
        status = wait_for(lambda: (got := admin.letters("mailed"))["counts"]["sent"] == 50 and got)
        assert status["counts"] == {"pending": 0, "sent": 50, "failed": 0, "cancelled": 0}
        assert len(status["letters"]) == 50
        assert {x["to"] for x in status["letters"]} == set(by_to)

        # reissued before the opening: a second letter, a new credential
        old = by_to["north3@example.org"][1]
        answer = admin.reissue("mailed", "North", "north3@example.org")
        assert answer["job"] == "mailed/reissue/000001"
        wait_for(lambda: len(smtp.box.to("north3@example.org")) == 2)
        again = smtp.box.to("north3@example.org")[1]
        assert "replaces the one you were sent before" in again.get_content()
        uuid, new = letter_of(again)
        assert uuid == uuids["North"] and new != old
        with pytest.raises(PartyError) as e:
            admin.reissue("mailed", "North", "nobody@example.org")
        assert e.value.status == 404

        ceremony(http, created, rng)
        opened = admin.open("mailed")
        assert all(r["credentials"] is None for r in opened["regions"])  # never returned

        # every credential mailed is on its region's board, the reissued one's replacement
        # only: the old one was never valid
        by_to["north3@example.org"] = (uuid, new)
        for name in roll:
            publics = board_credentials(http, uuids[name])
            assert len(publics) == 25
            assert {public_of(c, uuids[name]) for u, c in by_to.values() if u == uuids[name]} == (
                publics
            )
            if name == "North":
                assert public_of(old, uuids[name]) not in publics

        # after the opening: refused
        with pytest.raises(PartyError) as e:
            admin.reissue("mailed", "North", "north4@example.org")
        assert (e.value.status, e.value.code) == (409, "voting_open")
        assert "once the board holds them" in str(e.value)

        voter = Voter(http, "mailed", "North", new, rng)
        voter.vote(random_choices(voter.election, rng))
        assert admin.status("mailed")["regions"][0]["ballots"] == 1
        # the reissued region's board, the reissued credential's ballot on it: belenios-tool
        # 3.0 accepts it
        d = tmp_path / "archive"
        d.mkdir()
        archive = http.get(f"/api/elections/{uuids['North']}/archive").content
        (d / f"{uuids['North']}.bel").write_bytes(archive)
        peer_verifies(d)
        assert admin.letters("mailed")["counts"]["sent"] == 51
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert not [c for _, c in by_to.values() if c in log] and old not in log
    assert "@example.org" not in log


def test_refused_and_deferred_recipients_and_resend(tmp_path, smtp):
    roll = {"North": [f"v{i}@example.org" for i in range(5)]}
    smtp.box.refuse["v0@example.org"] = 550
    smtp.box.temporary["v1@example.org"] = 2  # sent at the third attempt
    smtp.box.temporary["v2@example.org"] = -1  # never: failed after the attempts
    with app_client(tmp_path, smtp) as http:
        admin = Administrator(http, TOKEN)
        create(admin, "refused", roll)

        def settled():
            s = admin.letters("refused")
            return s if s["counts"]["pending"] == 0 else None

        s = wait_for(settled)
        assert s["counts"] == {"pending": 0, "sent": 3, "failed": 2, "cancelled": 0}
        by = {x["to"]: x for x in s["letters"]}
        assert (by["v0@example.org"]["attempts"], by["v0@example.org"]["error"]) == (1, "smtp 550")
        assert (by["v1@example.org"]["state"], by["v1@example.org"]["attempts"]) == ("sent", 3)
        assert (by["v2@example.org"]["attempts"], by["v2@example.org"]["error"]) == (3, "smtp 451")
        empty = http.get(
            "/api/referendums/refused/letters?state=&after=&limit=2",
            headers={"authorization": f"Bearer {TOKEN}"},
        ).json()
        assert len(empty["letters"]) == 2 and empty["next"] == empty["letters"][1]["id"]
        bad = http.get(
            "/api/referendums/refused/letters?state=lost",
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert bad.status_code == 422 and "state" in bad.json()["error"]["message"]
        failed = admin.letters("refused", state="failed")
        assert [x["to"] for x in failed["letters"]] == ["v0@example.org", "v2@example.org"]
        assert len(smtp.box.to("v1@example.org")) == 1

        smtp.box.refuse.clear()
        smtp.box.temporary.clear()
        assert admin.resend_failed("refused")["resent"] == 2
        wait_for(lambda: admin.letters("refused")["counts"]["sent"] == 5)
    assert sorted(m["To"] for m in smtp.box.messages) == sorted(roll["North"])


def test_mail_delivery_is_refused_clearly(tmp_path, smtp):
    with app_client(tmp_path, None) as http:
        admin = Administrator(http, TOKEN)
        with pytest.raises(PartyError) as e:
            create(admin, "nomail", {"North": ["a@example.org"]})
        assert (e.value.status, e.value.code) == (409, "no_outbox")
        assert http.get("/api/referendums/nomail").status_code == 404  # nothing stored
    (tmp_path / "board.db").unlink()
    with app_client(tmp_path, smtp) as http:
        admin = Administrator(http, TOKEN)
        with pytest.raises(PartyError) as e:
            create(admin, "notmail", {"North": ["a@example.org", "bob"]})
        assert e.value.status == 422 and "request.voters.North[1]" in str(e.value)
        record = demo_record("external", ["North"])
        with pytest.raises(PartyError) as e:
            admin.create(record, {"North": ["a@example.org"]}, {"North": "external"},
                         credential_delivery="mail")  # fmt: skip
        assert e.value.status == 422 and "no region has the server" in str(e.value)
        r = http.post(
            "/api/referendums",
            json={"referendum": record, "voters": {"North": ["a"]}, "credential_delivery": "post"},
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "encoding"
        # a referendum without the option: no letters to follow
        admin.create(demo_record("plain", ["North"]), {"North": ["a"]})
        with pytest.raises(PartyError) as e:
            admin.letters("plain")
        assert e.value.status == 409
        assert "credential_delivery" not in admin.status("plain")
        # personal data: the administrator's only
        assert http.get("/api/referendums/plain/letters").status_code == 401
        bad = http.get(
            "/api/referendums/plain/letters?limit=nope",
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert bad.status_code == 422
    assert not smtp.box.messages


# -- real server processes ----------------------------------------------------------------------


def mail_server(database: str, tmp_path, smtp: SmtpServer, *more: str) -> Server:
    s = Server(database, tmp_path)
    s.args = ["--smtp-url", smtp.url, "--public-url", PUBLIC_URL, *more]
    return s


def test_a_server_killed_mid_job_sends_the_rest_once(tmp_path, smtp):
    """Killed (SIGKILL) once it claimed its 10th letter, before sending it: the next start
    sends that letter (once its claim expired) and the rest, and none twice. One letter at a
    time, so that none is in the SMTP server's hands, unrecorded, when the process dies (the
    one duplicate no outbox can rule out)."""
    roll = {"North": [f"v{i}@example.org" for i in range(30)]}
    server = mail_server(
        str(tmp_path / "board.db"),
        tmp_path,
        smtp,
        *("--mail-rate", "50", "--mail-timeout", "1", "--mail-parallel", "1"),
    )
    server.env = {"PLEBISCITE_TEST_CRASH": "letter-claimed:10"}
    server.start()
    try:
        with connect(server.url, timeout=60) as http:
            create(Administrator(http, TOKEN), "killed", roll)
        assert server.proc is not None
        server.proc.wait(timeout=60)  # it killed itself
        assert smtp.box.count() == 9
        server.env = {}
        server.start()
        smtp.wait(30)
        with connect(server.url, timeout=60) as http:
            counts = Administrator(http, TOKEN).letters("killed")["counts"]
        assert counts["sent"] == 30
        time.sleep(0.5)
    finally:
        server.stop()
    assert sorted(m["To"] for m in smtp.box.messages) == sorted(roll["North"])
    credentials = [letter_of(m)[1] for m in smtp.box.messages]
    for log in tmp_path.glob("server-*.log"):
        text = log.read_text()
        assert not [c for c in credentials if c in text] and "@example.org" not in text


def test_two_server_processes_on_one_postgresql_database_send_each_letter_once(
    tmp_path, smtp, pg_server
):
    roll = {"North": [f"n{i}@example.org" for i in range(20)]}
    roll["South"] = [f"s{i}@example.org" for i in range(20)]
    with pg_server.fresh_database() as dsn:
        dirs = [tmp_path / "a", tmp_path / "b"]
        servers = [mail_server(dsn, d, smtp, "--mail-rate", "100") for d in dirs]
        try:
            dirs[0].mkdir()
            dirs[1].mkdir()
            servers[0].start()  # it makes the signing key both share
            shutil.copy(dirs[0] / "server.key", dirs[1] / "server.key")
            servers[1].start()
            with connect(servers[1].url, timeout=60) as http:
                create(Administrator(http, TOKEN), "shared", roll)
            smtp.wait(40)
            time.sleep(1.0)  # what a second sender would have sent meanwhile
            with connect(servers[0].url, timeout=60) as http:
                counts = Administrator(http, TOKEN).letters("shared")["counts"]
            assert counts == {"pending": 0, "sent": 40, "failed": 0, "cancelled": 0}
        finally:
            for s in servers:
                s.stop()
    assert sorted(m["To"] for m in smtp.box.messages) == sorted(roll["North"] + roll["South"])


def test_a_creation_whose_letters_were_not_stored_is_not_loaded(tmp_path, smtp):
    """The letters are the last of a creation's records: a referendum stored without them (a
    crash in between: its answer never went out) is not loaded at the next start, while one
    whose letters are stored is, its reissues still possible."""
    roll = {"North": ["a@example.org", "b@example.org"]}
    with app_client(tmp_path, smtp) as http:
        admin = Administrator(http, TOKEN)
        create(admin, "whole", roll)
        create(admin, "torn", roll)
        smtp.wait(4)
    board = SQLiteBoard(tmp_path / "board.db")
    private_of(board).delete(KIND_JOB, "torn/created")
    board.close()
    with app_client(tmp_path, smtp) as http:
        admin = Administrator(http, TOKEN)
        assert http.get("/api/referendums/torn").status_code == 404
        assert admin.letters("whole")["counts"]["sent"] == 2
        admin.reissue("whole", "North", "a@example.org")
        wait_for(lambda: len(smtp.box.to("a@example.org")) == 3)


def test_a_reissue_through_another_process_is_what_the_opening_uses(tmp_path, smtp, pg_server):
    """Two server processes' apps on one PostgreSQL database: a credential reissued through
    one is the one the other's opening puts on the board (it reads the referendum again
    first); a reissue through either after the opening is refused."""
    rng = DeterministicRandom("letters-two-apps")
    roll = {"North": ["a@example.org", "b@example.org"]}
    key = SigningKey.from_seed(b"\x03" * 32)
    with pg_server.fresh_database() as dsn:
        boards = [open_board(dsn), open_board(dsn)]
        apps = [
            create_app(
                b,
                admin_token=TOKEN,
                key=key,
                outbox=SmtpOutbox(smtp.url, timeout=5),
                public_url=PUBLIC_URL,
                mail=FAST,
            )
            for b in boards
        ]
        try:
            with (
                TestClient(apps[0], base_url=PUBLIC_URL) as one,
                TestClient(apps[1], base_url=PUBLIC_URL) as two,
            ):
                first, second = Administrator(one, TOKEN), Administrator(two, TOKEN)
                created = create(first, "shared-reissue", roll)
                uuid = created["regions"][0]["election"]
                smtp.wait(2)
                ceremony(one, created, rng)
                assert second.status("shared-reissue")["ceremony"]["phase"] == "done"
                second.reissue("shared-reissue", "North", "a@example.org")
                wait_for(lambda: len(smtp.box.to("a@example.org")) == 2)
                _, old = letter_of(smtp.box.to("a@example.org")[0])
                _, new = letter_of(smtp.box.to("a@example.org")[1])
                first.open("shared-reissue")
                publics = board_credentials(one, uuid)
                assert public_of(new, uuid) in publics and public_of(old, uuid) not in publics
                for admin in (first, second):
                    with pytest.raises(PartyError) as e:
                        admin.reissue("shared-reissue", "North", "b@example.org")
                    assert e.value.code == "voting_open"
        finally:
            for b in boards:
                b.close()
    assert len(smtp.box.messages) == 3
