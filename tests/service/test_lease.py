"""The closer's lease: of the processes sharing one database, one looks at the closing times;
another takes over once the lease expires or is given up."""

from __future__ import annotations

import pytest

from plebiscite.board import open_board
from plebiscite.board.private import private_of
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.service.election import Elections
from plebiscite.service.referendum import LEASE_SECONDS, Referendums


@pytest.fixture(params=["sqlite", "postgres"])
def processes(request, tmp_path):
    """Two processes' domain layers over one database (each its own connections)."""
    if request.param == "sqlite":
        urls = [str(tmp_path / "board.db")] * 2
        yield _services(urls)
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield _services([dsn, dsn])


def _services(urls):
    key = SigningKey.generate(DeterministicRandom("lease"))
    out = []
    for url in urls:
        board = open_board(url)
        store = private_of(board)
        out.append(Referendums(store, key, board, Elections(board, key, store)))
    return out


def test_one_process_holds_the_lease_until_it_expires_or_is_given_up(processes):
    a, b = processes
    t = 1_000_000.0
    assert a.take_lease(t) is True
    assert b.take_lease(t + 1) is False  # held
    assert a.take_lease(t + 2) is True  # renewed by its holder
    assert b.take_lease(t + 2 + LEASE_SECONDS - 0.5) is False
    assert b.take_lease(t + 2 + LEASE_SECONDS + 0.5) is True  # expired: taken over
    assert a.take_lease(t + 3 + LEASE_SECONDS) is False
    b.release_lease()
    assert a.take_lease(t + 4 + LEASE_SECONDS) is True  # given up: taken at once


def test_an_unreadable_lease_is_taken_over(processes):
    a, b = processes
    a.store.put("lease", "closer", b"not json")
    assert b.take_lease() is True
    assert a.take_lease() is False
