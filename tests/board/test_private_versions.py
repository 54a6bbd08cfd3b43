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


def test_records_by_key_prefix(store):
    for key in ("e1/a/0", "e1/a/1", "e1/b/0", "e10/a/0", "e2/a/0"):
        store.put("delta", key, key.encode())
    store.put("other", "e1/a/2", b"x")
    assert [k for k, _ in store.items("delta", "e1/a/")] == ["e1/a/0", "e1/a/1"]
    assert [k for k, _ in store.items("delta", "e1/")] == ["e1/a/0", "e1/a/1", "e1/b/0"]
    assert len(store.items("delta")) == 5
    assert store.delete_prefix("delta", "e1/") == 3
    assert [k for k, _ in store.items("delta")] == ["e10/a/0", "e2/a/0"]
    assert store.get("other", "e1/a/2") == b"x"


def test_token_buckets_are_shared_and_atomic(store):
    t = 1000.0
    assert store.wait_tokens("ballot", "k", 3, 1.0, t) == 0.0
    assert [store.take_tokens("ballot", "k", 3, 1.0, t) for _ in range(3)] == [0.0] * 3
    assert store.take_tokens("ballot", "k", 3, 1.0, t) == pytest.approx(1.0)  # empty
    assert store.wait_tokens("ballot", "k", 3, 1.0, t + 0.5) == pytest.approx(0.5)
    assert store.take_tokens("ballot", "k", 3, 1.0, t + 1) == 0.0  # refilled one
    assert store.take_tokens("ballot", "other", 3, 1.0, t) == 0.0  # another key, full
    assert store.prune_tokens("ballot", 3, 1.0, t + 100) == 2  # both full again: gone
    store.take_tokens("login", "k", 2, 0.001, t)
    store.reset_tokens("login", "k")
    assert store.wait_tokens("login", "k", 2, 0.001, t) == 0.0


def test_of_concurrent_takers_exactly_the_burst_gets_a_token(store, tmp_path, request):
    url = getattr(store._db, "dsn", None) or store._db.path
    stores = [open_private(url) for _ in range(4)]
    go = threading.Barrier(8)
    got: list[float] = []

    def take(i: int) -> None:
        go.wait()
        for _ in range(5):
            got.append(stores[i % 4].take_tokens("write", "addr", 10, 1e-6, 5000.0))

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for s in stores:
        s.close()
    assert got.count(0.0) == 10 and len(got) == 40
