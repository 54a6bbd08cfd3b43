"""The letters job (plebiscite.service.letters) over a real private store (SQLite, and
PostgreSQL for two processes) and a real SMTP server (aiosmtpd): sealed and idempotent
enqueueing, the rate, retries with back-off, permanent refusals, a sender that died mid-send,
two processes sending each letter once, the organiser's view, and no address or body in a
log."""

from __future__ import annotations

import logging
import time

import anyio
import pytest

from mailserver import SmtpServer
from plebiscite.board import open_board
from plebiscite.board.private import private_of
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.outbox import SmtpOutbox
from plebiscite.service.errors import Invalid
from plebiscite.service.letters import KIND_BODY, KIND_LETTER, Letter, Letters, Policy

KEY = SigningKey.generate(DeterministicRandom("letters"))
SECRET = "Zq3kR7vW9xB2mN4pL6tY8c"


def letter(i: int, secret: str = SECRET) -> Letter:
    return Letter(f"voter{i}@example.org", f"Your credential {i}", f"credential {secret}{i}\n", "N")


@pytest.fixture
def smtp():
    s = SmtpServer()
    yield s
    s.stop()


@pytest.fixture
def store(tmp_path):
    board = open_board(str(tmp_path / "board.db"))
    yield private_of(board)
    board.close()


def ours(caplog) -> str:
    """What plebiscite logged (not the SMTP server's own log)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("plebiscite"))


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def letters(store, smtp, clock=None, **policy) -> Letters:
    policy = {"rate": 1000.0, "backoff": 0.0, "interval": 0.05} | policy
    return Letters(
        store,
        KEY,
        SmtpOutbox(smtp.url, timeout=5),
        Policy(**policy),
        **({"clock": clock} if clock else {}),
    )


def drain(job: Letters, steps: int = 50) -> None:
    async def go() -> None:
        for _ in range(steps):
            await job.step()

    anyio.run(go)


def test_letters_are_sealed_sent_once_and_their_bodies_forgotten(store, smtp, caplog):
    caplog.set_level(logging.DEBUG, logger="plebiscite")
    job = letters(store, smtp)
    batch = [letter(i) for i in range(5)]
    assert job.enqueue("r1/created", batch) is True
    assert job.enqueue("r1/created", [letter(9)]) is False  # the same job: nothing more
    for _, sealed in store.items(KIND_BODY, "r1/"):
        assert SECRET.encode() not in sealed and b"Your credential" not in sealed
    assert job.summary("r1/")["counts"] == {"pending": 5, "sent": 0, "failed": 0, "cancelled": 0}
    drain(job, 3)
    got = smtp.wait(5)
    assert sorted(m["To"] for m in got) == sorted(x.to for x in batch)
    for m in got:
        i = int(m["Subject"].rsplit(" ", 1)[1])
        assert m.get_content().replace("\r\n", "\n") == f"credential {SECRET}{i}\n"
    page = job.summary("r1/")
    assert page["counts"]["sent"] == 5 and page["next"] is None
    assert all(x["state"] == "sent" and x["attempts"] == 1 and x["sent"] for x in page["letters"])
    assert store.items(KIND_BODY, "r1/") == []  # delivered: no credential kept
    drain(job, 3)
    assert smtp.box.count() == 5  # never twice
    assert SECRET not in ours(caplog) and "voter1@" not in ours(caplog)


def test_a_letter_moved_to_another_address_does_not_open(store, smtp):
    job = letters(store, smtp)
    job.enqueue("r1/created", [letter(1)])
    key, raw = store.items(KIND_LETTER, "r1/")[0]
    store.put(KIND_LETTER, key, raw.replace(b"voter1@", b"thief@"))
    drain(job, 3)
    assert smtp.box.count() == 0
    (entry,) = job.summary("r1/")["letters"]
    assert entry["state"] == "failed" and entry["error"] == "sealed"


def test_refused_and_deferred_recipients(store, smtp, caplog):
    caplog.set_level(logging.DEBUG, logger="plebiscite")
    """550: failed at once (a 5xx is for good); 451 twice: sent at the third attempt; 451 at
    every try: failed after the attempts, the kind of failure recorded."""
    smtp.box.refuse["voter0@example.org"] = 550
    smtp.box.temporary["voter1@example.org"] = 2
    smtp.box.temporary["voter2@example.org"] = -1
    job = letters(store, smtp, attempts=4)
    job.enqueue("r1/created", [letter(i) for i in range(4)])
    drain(job, 20)
    by = {x["to"]: x for x in job.summary("r1/")["letters"]}
    assert by["voter0@example.org"] | {"id": None} == {
        "id": None,
        "to": "voter0@example.org",
        "label": "N",
        "state": "failed",
        "attempts": 1,
        "error": "smtp 550",
        "sent": None,
    }
    assert smtp.box.tries["voter0@example.org"] == 1
    assert by["voter1@example.org"]["state"] == "sent"
    assert by["voter1@example.org"]["attempts"] == 3
    assert by["voter2@example.org"]["state"] == "failed"
    assert by["voter2@example.org"]["attempts"] == 4
    assert by["voter2@example.org"]["error"] == "smtp 451"
    assert by["voter3@example.org"]["state"] == "sent"
    assert [m["To"] for m in smtp.box.messages].count("voter1@example.org") == 1
    assert job.summary("r1/", state="failed")["counts"]["failed"] == 2
    assert {x["to"] for x in job.summary("r1/", state="failed")["letters"]} == {
        "voter0@example.org",
        "voter2@example.org",
    }
    text = ours(caplog)
    assert "smtp 451" in text and "example.org" not in text and SECRET not in text

    # the addresses fixed at the receiving side: sent again on request
    smtp.box.refuse.clear()
    smtp.box.temporary.clear()
    assert job.resend_failed("r1/") == 2
    drain(job, 5)
    assert job.summary("r1/")["counts"] == {"pending": 0, "sent": 4, "failed": 0, "cancelled": 0}
    assert len(smtp.box.to("voter0@example.org")) == 1


def test_a_retry_waits_its_back_off(store, smtp):
    clock = Clock()
    smtp.box.temporary["voter0@example.org"] = 1
    job = letters(store, smtp, clock, backoff=30.0)
    job.enqueue("j", [letter(0)])
    drain(job, 3)
    assert job.summary("j")["letters"][0]["state"] == "pending"
    clock.t += 29
    drain(job, 3)
    assert smtp.box.count() == 0
    clock.t += 2
    drain(job, 3)
    assert smtp.box.count() == 1


def test_the_rate_is_kept(store, smtp):
    job = letters(store, smtp, rate=20.0)
    job.enqueue("j", [letter(i) for i in range(10)])
    start = time.monotonic()
    drain(job, 2)
    assert smtp.box.count() == 10
    assert time.monotonic() - start >= 9 / 20 - 0.01


def test_a_letter_whose_sender_died_mid_send_is_sent_once_its_claim_expires(store, smtp):
    clock = Clock()
    dead = letters(store, smtp, clock, claim=60.0)
    dead.enqueue("j", [letter(0), letter(1)])
    assert dead.take_lease()
    key = store.items(KIND_LETTER, "j#")[0][0]
    assert dead._claim(key) is not None  # claimed, then the process died before sending
    clock.t += 11  # its lease expired: another process sends
    alive = letters(store, smtp, clock, claim=60.0)
    drain(alive, 3)
    assert [m["To"] for m in smtp.box.messages] == ["voter1@example.org"]  # still claimed
    assert alive.summary("j")["counts"]["pending"] == 1
    clock.t += 60
    drain(alive, 3)
    assert sorted(m["To"] for m in smtp.box.messages) == [
        "voter0@example.org",
        "voter1@example.org",
    ]
    (first,) = [x for x in alive.summary("j")["letters"] if x["id"] == key]
    assert first["state"] == "sent" and first["attempts"] == 2


def test_cancel_and_the_pages(store, smtp):
    job = letters(store, smtp)
    job.enqueue("r/created", [letter(i) for i in range(7)])
    assert job.cancel("r/", "voter3@example.org", "N") == 1
    assert job.cancel("r/", "voter4@example.org", "S") == 0  # another region's voter
    assert store.get(KIND_BODY, "r/created#000003") is None
    pages, after = [], None
    while True:
        page = job.summary("r/", after=after, limit=3)
        pages.append([x["to"] for x in page["letters"]])
        after = page["next"]
        if after is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [x for p in pages for x in p] == [f"voter{i}@example.org" for i in range(7)]
    assert job.summary("r/", state="cancelled")["letters"][0]["to"] == "voter3@example.org"
    drain(job, 3)
    assert smtp.box.count() == 6 and not smtp.box.to("voter3@example.org")
    with pytest.raises(Invalid):
        job.summary("r/", state="lost")
    with pytest.raises(Invalid):
        job.summary("r/", limit=0)


def test_two_processes_on_one_postgresql_database_send_each_letter_once(pg_server, smtp):
    with pg_server.fresh_database() as dsn:
        boards = [open_board(dsn), open_board(dsn)]
        try:
            jobs = [letters(private_of(b), smtp, rate=200.0) for b in boards]
            jobs[0].enqueue("r/created", [letter(i) for i in range(30)])
            jobs[1].enqueue("r/created", [letter(i, "other") for i in range(30)])  # no-op

            async def both() -> None:
                async def run(job: Letters) -> None:
                    for _ in range(40):
                        await job.step()
                        await anyio.sleep(0.01)

                async with anyio.create_task_group() as tg:
                    for job in jobs:
                        tg.start_soon(run, job)

            anyio.run(both)
            # the lease holder stops: the other takes over what is left
            assert jobs[0].summary("r/")["counts"]["sent"] == 30
        finally:
            for b in boards:
                b.close()
    assert sorted(m["To"] for m in smtp.box.messages) == sorted(
        f"voter{i}@example.org" for i in range(30)
    )
    assert all("other" not in m.get_content() for m in smtp.box.messages)


def test_of_two_claims_of_one_letter_one_wins(store, smtp):
    """Whatever the lease says (two processes' clocks apart, say), a letter is claimed by
    compare-and-put: one sender gets it."""
    a, b = letters(store, smtp), letters(store, smtp)
    a.enqueue("j", [letter(0)])
    key = store.items(KIND_LETTER, "j#")[0][0]
    assert a._claim(key) is not None
    assert b._claim(key) is None
