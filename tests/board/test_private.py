"""The private store's contract, on every backend (SQLite, PostgreSQL), a fresh database per
test: get, put, insert, delete, take, items; durability across reopening; one winner among
concurrent inserts and takes; the migration that adds it to an existing board."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import psycopg
import pytest

from board.db import TS, E, backend_of, make_old_schema, raw_execute, setup_item
from plebiscite.board import Head, open_board
from plebiscite.board.private import MAX_KEY, MAX_KIND, open_private, private_of
from plebiscite.errors import EncodingError


@pytest.fixture
def store(url):
    s = open_private(url)
    yield s
    s.close()


def test_get_put_insert_delete_take(store):
    assert store.get("referendum", "r1") is None
    store.put("referendum", "r1", b"one")
    assert store.get("referendum", "r1") == b"one"
    store.put("referendum", "r1", b"two")  # upsert
    assert store.get("referendum", "r1") == b"two"
    assert store.get("other-kind", "r1") is None  # kinds are separate

    assert store.insert("token", "t", b"first") is True
    assert store.insert("token", "t", b"second") is False
    assert store.get("token", "t") == b"first"  # a refused insert wrote nothing

    assert store.delete("token", "t") is True
    assert store.delete("token", "t") is False
    assert store.get("token", "t") is None

    store.put("token", "u", b"secret")
    assert store.take("token", "u") == b"secret"
    assert store.take("token", "u") is None
    assert store.get("token", "u") is None
    assert store.take("token", "never") is None
    assert store.get("referendum", "r1") == b"two"


def test_values_are_any_bytes_and_keys_any_text(store):
    values = {
        "empty": b"",
        "binary": bytes(range(256)) * 4,
        "large": b"\x00\xff" * (1 << 20),
        "é ключ 鍵 🗳": b"unicode key",
        "x" * MAX_KEY: b"longest key",
    }
    for key, value in values.items():
        store.put("k", key, value)
    for key, value in values.items():
        assert store.get("k", key) == value
    assert store.get("k" * MAX_KIND, "a") is None


def test_items_are_sorted_by_key_per_kind(store):
    keys = ["b", "a", "B", "aa", "é", "z", "10", "9", "_"]
    for k in keys:
        store.put("kind", k, k.encode())
    store.put("kind2", "a", b"other kind")
    items = store.items("kind")
    assert [k for k, _ in items] == sorted(keys)  # by code point, not by locale
    assert all(v == k.encode() for k, v in items)
    assert store.items("kind2") == [("a", b"other kind")]
    assert store.items("none") == []


def test_pages_follow_the_keys_code_points(store):
    keys = ["job#b", "job#a", "job#B", "job#aa", "job#é", "job#z", "job#10", "job#9", "other"]
    for k in keys:
        store.put("kind", k, k.encode())
    expected = sorted(k for k in keys if k.startswith("job#"))
    got, after = [], None
    while page := store.page("kind", "job#", after, 3):
        assert len(page) <= 3
        got += [k for k, _ in page]
        after = page[-1][0]
    assert got == expected
    assert store.page("kind", "job#", expected[-1], 5) == []
    assert [k for k, _ in store.page("kind", "", None, 100)] == sorted(keys)
    with pytest.raises(EncodingError):
        store.page("kind", "job#", None, 0)


def test_insert_many_writes_the_new_ones_in_one_transaction(store):
    store.put("kind", "k1", b"old")
    assert store.insert_many("kind", [("k1", b"new"), ("k2", b"two"), ("k3", b"three")]) == 2
    assert store.get("kind", "k1") == b"old"  # left as it was
    assert store.get("kind", "k3") == b"three"
    assert store.insert_many("kind", []) == 0
    with pytest.raises(EncodingError):  # a bad key: nothing of the batch is written
        store.insert_many("kind", [("k4", b"four"), ("", b"empty key")])
    assert store.get("kind", "k4") is None


@pytest.mark.parametrize(
    "kind, key",
    [
        ("", "k"),
        ("k", ""),
        ("k" * (MAX_KIND + 1), "k"),
        ("k", "k" * (MAX_KEY + 1)),
        ("k", "a\x00b"),
        ("k", "\ud800"),  # a lone surrogate: not encodable
        (1, "k"),
        ("k", None),
    ],
)
def test_bad_kinds_and_keys_are_refused(store, kind, key):
    for call in (
        lambda: store.get(kind, key),
        lambda: store.put(kind, key, b"v"),
        lambda: store.insert(kind, key, b"v"),
        lambda: store.delete(kind, key),
        lambda: store.take(kind, key),
    ):
        with pytest.raises(EncodingError, match="private record"):
            call()


def test_values_must_be_bytes(store):
    for bad in ("text", bytearray(b"x"), memoryview(b"x"), None, 1):
        with pytest.raises(EncodingError, match="value is bytes"):
            store.put("k", "k", bad)
        with pytest.raises(EncodingError, match="value is bytes"):
            store.insert("k", "k", bad)
    assert store.items("k") == []


def test_records_survive_reopening(url):
    s = open_private(url)
    s.put("referendum", "r", b"state")
    s.put("token", "t", b"x")
    s.take("token", "t")
    s.close()
    again = open_private(url)
    try:
        assert again.get("referendum", "r") == b"state"
        assert again.get("token", "t") is None
    finally:
        again.close()


def test_the_private_store_shares_the_board_and_stays_off_the_archive(url):
    board = open_board(url)
    try:
        private = private_of(board)
        board.create(E, TS)
        board.append(E, Head(), [setup_item()])
        private.put("secret", E, b"never published")
        assert b"never published" not in b"".join(board.archive(E))
        # private records change and go, unlike the board's members
        private.put("secret", E, b"changed")
        assert private.take("secret", E) == b"changed"
        private.close()  # does not close a board it did not open
        assert board.head(E).height == 0
    finally:
        board.close()


def test_one_winner_among_concurrent_inserts_and_takes(url):
    stores = [open_private(url) for _ in range(4)]  # separate connection pools
    try:
        for round_ in range(5):
            key = f"k{round_}"
            go = threading.Barrier(8)
            inserted: list[bool] = []
            taken: list[bytes | None] = []

            def insert(s, i, key=key, go=go, inserted=inserted):
                go.wait()
                inserted.append(s.insert("once", key, str(i).encode()))

            threads = [threading.Thread(target=insert, args=(stores[i % 4], i)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert inserted.count(True) == 1
            value = stores[0].get("once", key)

            go2 = threading.Barrier(8)

            def take(s, key=key, go=go2, taken=taken):
                go.wait()
                taken.append(s.take("once", key))

            threads = [threading.Thread(target=take, args=(stores[i % 4],)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert [v for v in taken if v is not None] == [value]
    finally:
        for s in stores:
            s.close()


TAKER = """
import sys
from plebiscite.board.private import open_private
s = open_private(sys.argv[1])
got = [k for k in range(int(sys.argv[2])) if s.take("once", str(k)) is not None]
print(" ".join(map(str, got)))
s.close()
"""


def test_processes_take_each_record_once(url):
    n = 60
    s = open_private(url)
    try:
        for k in range(n):
            s.put("once", str(k), b"v")
    finally:
        s.close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, url, str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    got: list[int] = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        got += [int(x) for x in out.split()]
    assert sorted(got) == list(range(n))


def test_a_board_from_before_the_private_store_is_migrated(url):
    """A database at schema version 2 (a board, no private table) gains the private store
    when opened; its public board is unchanged."""
    backend = backend_of(url)
    assert backend.SCHEMA_VERSION >= 3
    make_old_schema(url, 2)
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)):
        raw_execute(url, "SELECT * FROM private")
    s = open_private(url)
    try:
        s.put("k", "k", b"v")
        assert s.get("k", "k") == b"v"
    finally:
        s.close()
    board = open_board(url)
    try:
        assert board.schema_version() == backend.SCHEMA_VERSION
        assert board.elections() == [E]
    finally:
        board.close()


def test_the_server_exposes_the_private_store_of_its_board(url):
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.server.app import create_app

    board = open_board(url)
    try:
        app = create_app(board, admin_token="t", key=SigningKey.from_seed(b"\x01" * 32))
        app.state.private.put("k", "k", b"v")
        assert private_of(board).get("k", "k") == b"v"
        other = open_private(url)
        try:
            app2 = create_app(
                board, admin_token="t", key=SigningKey.from_seed(b"\x01" * 32), private=other
            )
            assert app2.state.private is other
        finally:
            other.close()
    finally:
        board.close()
