"""The private store's versions, on every backend: each write moves a record's version on, and
compare-and-put (:meth:`PrivateStore.replace`) writes only over the version read, so of
concurrent writers from one read exactly one wins."""

from __future__ import annotations

import threading

import pytest

from plebiscite.board.private import open_private


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = open_private(str(tmp_path / "board.sqlite"))
        yield s
        s.close()
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            s = open_private(dsn)
            yield s
            s.close()


def test_every_write_moves_the_version_on(store):
    assert store.version("referendum", "r") is None
    assert store.versioned("referendum", "r") is None
    store.put("referendum", "r", b"one")
    assert store.versioned("referendum", "r") == (b"one", 1)
    store.put("referendum", "r", b"two")
    assert store.version("referendum", "r") == 2
    assert store.replace("referendum", "r", b"three", 2) == 3
    assert store.versioned("referendum", "r") == (b"three", 3)
    assert store.insert("referendum", "s", b"x") is True
    assert store.versions("referendum") == {"r": 3, "s": 1}


def test_compare_and_put_refuses_a_stale_version(store):
    store.put("referendum", "r", b"one")
    assert store.replace("referendum", "r", b"late", 0) is None
    assert store.replace("referendum", "r", b"two", 1) == 2
    assert store.replace("referendum", "r", b"stale", 1) is None  # read before the last write
    assert store.get("referendum", "r") == b"two"
    assert store.replace("referendum", "gone", b"x", 1) is None  # no record: nothing written
    assert store.get("referendum", "gone") is None


def test_one_winner_among_concurrent_writers_of_one_version(store):
    store.put("referendum", "r", b"start")
    go = threading.Barrier(6)
    won: list[int | None] = []

    def write(i: int) -> None:
        go.wait()
        won.append(store.replace("referendum", "r", str(i).encode(), 1))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won.count(2) == 1 and won.count(None) == 5
    assert store.version("referendum", "r") == 2
