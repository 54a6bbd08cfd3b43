"""Helpers of the board tests: items, direct SQL on a board's database, databases left at an
older schema version."""

from __future__ import annotations

import sqlite3

import psycopg

from plebiscite.board import Item
from plebiscite.board import postgres as pg_backend
from plebiscite.board import sqlite as sqlite_backend

E = "Ab3dEf5hJk7mNp"  # an election uuid
TS = 1_700_000_000


def setup_item(tag: str = "setup") -> Item:
    return Item("Setup", (b'{"election":"%s"}' % tag.encode(), b'{"setup":"%s"}' % tag.encode()))


def raw_execute(url: str, *statements: str) -> list[tuple]:
    """Run statements on the board's database directly; the rows of the last one."""
    rows: list[tuple] = []
    if url.startswith("postgresql://"):
        with psycopg.connect(url, autocommit=True) as conn:
            for s in statements:
                cur = conn.execute(s)
                rows = cur.fetchall() if cur.description else []
    else:
        conn = sqlite3.connect(url, isolation_level=None)
        try:
            for s in statements:
                rows = conn.execute(s).fetchall()
        finally:
            conn.close()
    return rows


def backend_of(url: str):
    return pg_backend if url.startswith("postgresql://") else sqlite_backend


def now_sql(url: str) -> str:
    """The current time as a literal of the schema_version table of the URL's backend."""
    return "now()" if backend_of(url) is pg_backend else "'2024-01-01'"


def make_old_schema(url: str, version: int) -> None:
    """A database brought to schema ``version`` by the first migrations only (as an older
    plebiscite left it), with one election E created at TS."""
    backend = backend_of(url)
    now = now_sql(url)
    raw_execute(
        url,
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        if backend is sqlite_backend
        else "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
        "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        *(s for step in backend.MIGRATIONS[:version] for s in step),
        *(f"INSERT INTO schema_version VALUES ({v}, {now})" for v in range(1, version + 1)),
        f"INSERT INTO elections (uuid, timestamp) VALUES ('{E}', {TS})",
    )
