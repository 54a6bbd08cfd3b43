"""The server's private records, beside the public board and in the same database.

The public board is append-only and published; the server also keeps records nobody else may
read or that change: the state of each referendum's lifecycle, its own trustee keys (encrypted
by the caller), single-use tokens, the verifier's checkpoints. :class:`PrivateStore` keeps them
as bytes under a ``(kind, key)`` pair, in the table ``private`` of the board's database (made by
migration 3 of each backend: :data:`plebiscite.board.sqlite.MIGRATIONS`,
:data:`plebiscite.board.postgres.MIGRATIONS`). The board's triggers do not apply to it: a
private record may be replaced or removed.

Each record has a version, 1 when written first and one more at each write:
:meth:`PrivateStore.replace` writes only if the record is still at the version the writer read
(compare-and-put), so two processes changing one record never silently overwrite each other.

Every write is one transaction, durable when it returns (the board's own settings: SQLite WAL
with ``synchronous=FULL``, PostgreSQL with synchronous commit), but for the token buckets of the
rate limits (:meth:`PrivateStore.take_tokens`, in the table ``rate_buckets``), whose last writes
a crash may lose at no harm: PostgreSQL commits them without waiting for the disk.
:meth:`PrivateStore.take` reads and removes a record in one statement (``DELETE ...
RETURNING``), so of two concurrent takers
(threads, processes or servers on one PostgreSQL database) exactly one gets the value.

Nothing here encrypts: whoever can read the database reads these records. A caller that keeps a
secret (a private key) encrypts it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, cast

from plebiscite.board.base import Board
from plebiscite.errors import EncodingError

__all__ = ["MAX_KEY", "MAX_KIND", "PrivateStore", "SQLPrivateStore", "open_private", "private_of"]

MAX_KIND = 64
"""The longest kind (characters)."""
MAX_KEY = 1024
"""The longest key (characters)."""


class PrivateStore(Protocol):
    """Records of bytes under ``(kind, key)``; every write is durable when it returns."""

    def get(self, kind: str, key: str) -> bytes | None:
        """The record, or None."""

    def put(self, kind: str, key: str, value: bytes) -> None:
        """Write the record, replacing any."""

    def versioned(self, kind: str, key: str) -> tuple[bytes, int] | None:
        """The record and its version, or None."""

    def version(self, kind: str, key: str) -> int | None:
        """The record's version (one small read), or None."""

    def replace(self, kind: str, key: str, value: bytes, version: int) -> int | None:
        """Write the record if it is still at ``version``: its new version, or None (and
        nothing written) if it is at another version or gone."""

    def insert(self, kind: str, key: str, value: bytes) -> bool:
        """Write the record unless one exists: False (and nothing written) if it does."""

    def insert_many(self, kind: str, items: Sequence[tuple[str, bytes]]) -> int:
        """Insert each new ``(key, value)`` in one transaction (all or none written); how
        many were new (the existing ones are left as they are)."""

    def delete(self, kind: str, key: str) -> bool:
        """Remove the record: True if it existed."""

    def take(self, kind: str, key: str) -> bytes | None:
        """Remove the record and return it, atomically (None if there was none)."""

    def items(self, kind: str, prefix: str = "") -> list[tuple[str, bytes]]:
        """Every record of ``kind`` (whose key starts with ``prefix``) as ``(key, value)``,
        sorted by key."""

    def page(
        self, kind: str, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, bytes]]:
        """Up to ``limit`` records of ``kind`` whose key starts with ``prefix`` and comes after
        ``after`` (from the first: None), in the order of the keys' code points."""

    def delete_prefix(self, kind: str, prefix: str) -> int:
        """Remove every record of ``kind`` whose key starts with ``prefix``: how many."""

    def take_tokens(
        self, bucket: str, key: str, burst: float, rate: float, now: float, cost: float = 1.0
    ) -> float:
        """Take ``cost`` tokens from the token bucket ``(bucket, key)`` (``burst`` tokens when
        full, refilled at ``rate`` a second; ``now`` in seconds of one clock every process
        shares): 0.0 if it had them, else the seconds until it has (nothing taken). Atomic
        whatever the processes sharing the database do."""

    def wait_tokens(self, bucket: str, key: str, burst: float, rate: float, now: float) -> float:
        """The seconds until the bucket has a token (0.0: now), nothing taken."""

    def reset_tokens(self, bucket: str, key: str) -> None:
        """Fill the bucket again."""

    def prune_tokens(self, bucket: str, burst: float, rate: float, now: float) -> int:
        """Remove the buckets that are full again (a full bucket is no bucket): how many."""

    def versions(self, kind: str) -> dict[str, int]:
        """The version of every record of ``kind``, by key (small reads only)."""


class _Database(Protocol):
    """What a board backend lends the private store: its connections and transactions."""

    def _read(self, election: str | None) -> AbstractContextManager[Any]: ...

    def _write(self, election: str | None) -> AbstractContextManager[Any]: ...

    def close(self) -> None: ...


_PAGE = (
    "SELECT key, value FROM private WHERE kind = ? AND substr(key, 1, ?) = ? AND key > ? "
    "ORDER BY key LIMIT ?"
)


def _text(what: str, text: object, limit: int) -> None:
    if not isinstance(text, str) or not 1 <= len(text) <= limit or "\x00" in text:
        raise EncodingError(
            f"a private record's {what} is 1 to {limit} characters, no NUL",
            where="private store",
        )
    try:
        text.encode()
    except UnicodeEncodeError:
        raise EncodingError(
            f"a private record's {what} is not valid Unicode", where="private store"
        ) from None


def _check(kind: str, key: str) -> None:
    _text("kind", kind, MAX_KIND)
    _text("key", key, MAX_KEY)


def _value(value: bytes) -> bytes:
    if type(value) is not bytes:
        raise EncodingError(
            f"a private record's value is bytes, not {type(value).__name__}", where="private store"
        )
    return value


def _bytes(value: object) -> bytes:
    assert isinstance(value, bytes | memoryview)
    return bytes(value)


class SQLPrivateStore:
    """The private store in the database of a board (SQLite or PostgreSQL).

    ``owns``: closing the store closes the board (as :func:`open_private` makes it)."""

    def __init__(self, board: Board, *, owns: bool = False) -> None:
        from plebiscite.board.sqlite import SQLiteBoard

        if not (hasattr(board, "_read") and hasattr(board, "_write")):
            raise TypeError(f"{type(board).__name__} keeps no private records")
        self._db = cast(_Database, board)
        self._owns = owns
        # the parameter style: SQLite's qmark, psycopg's format; the smaller of two values
        sqlite = isinstance(board, SQLiteBoard)
        self._p = "?" if sqlite else "%s"
        self._least = "min" if sqlite else "LEAST"
        # a token bucket need not survive a crash: its writes are not flushed one by one
        self._lax = None if sqlite else "SET LOCAL synchronous_commit TO OFF"

    def __repr__(self) -> str:
        return f"SQLPrivateStore({self._db!r})"

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p)

    def get(self, kind: str, key: str) -> bytes | None:
        _check(kind, key)
        with self._db._read(None) as conn:
            row = conn.execute(
                self._sql("SELECT value FROM private WHERE kind = ? AND key = ?"), (kind, key)
            ).fetchone()
        return None if row is None else _bytes(row[0])

    def put(self, kind: str, key: str, value: bytes) -> None:
        _check(kind, key)
        value = _value(value)
        with self._db._write(None) as conn:
            conn.execute(
                self._sql(
                    "INSERT INTO private (kind, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, "
                    "version = private.version + 1"
                ),
                (kind, key, value),
            )

    def versioned(self, kind: str, key: str) -> tuple[bytes, int] | None:
        _check(kind, key)
        with self._db._read(None) as conn:
            row = conn.execute(
                self._sql("SELECT value, version FROM private WHERE kind = ? AND key = ?"),
                (kind, key),
            ).fetchone()
        return None if row is None else (_bytes(row[0]), int(row[1]))

    def version(self, kind: str, key: str) -> int | None:
        _check(kind, key)
        with self._db._read(None) as conn:
            row = conn.execute(
                self._sql("SELECT version FROM private WHERE kind = ? AND key = ?"), (kind, key)
            ).fetchone()
        return None if row is None else int(row[0])

    def replace(self, kind: str, key: str, value: bytes, version: int) -> int | None:
        _check(kind, key)
        value = _value(value)
        if type(version) is not int:
            raise EncodingError("a record's version is an integer", where="private store")
        with self._db._write(None) as conn:
            cur = conn.execute(
                self._sql(
                    "UPDATE private SET value = ?, version = version + 1 "
                    "WHERE kind = ? AND key = ? AND version = ?"
                ),
                (value, kind, key, version),
            )
            return version + 1 if cur.rowcount == 1 else None

    def insert(self, kind: str, key: str, value: bytes) -> bool:
        _check(kind, key)
        value = _value(value)
        with self._db._write(None) as conn:
            cur = conn.execute(
                self._sql(
                    "INSERT INTO private (kind, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, key) DO NOTHING"
                ),
                (kind, key, value),
            )
            return bool(cur.rowcount == 1)

    def insert_many(self, kind: str, items: Sequence[tuple[str, bytes]]) -> int:
        rows = []
        for key, value in items:
            _check(kind, key)
            rows.append((kind, key, _value(value)))
        if not rows:
            return 0
        with self._db._write(None) as conn:
            before = conn.total_changes if hasattr(conn, "total_changes") else None
            cur = conn.cursor()
            cur.executemany(
                self._sql(
                    "INSERT INTO private (kind, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, key) DO NOTHING"
                ),
                rows,
            )
            if before is not None:
                return int(conn.total_changes - before)
            return int(cur.rowcount) if cur.rowcount is not None and cur.rowcount >= 0 else 0

    def delete(self, kind: str, key: str) -> bool:
        _check(kind, key)
        with self._db._write(None) as conn:
            cur = conn.execute(
                self._sql("DELETE FROM private WHERE kind = ? AND key = ?"), (kind, key)
            )
            return bool(cur.rowcount == 1)

    def take(self, kind: str, key: str) -> bytes | None:
        _check(kind, key)
        with self._db._write(None) as conn:
            row = conn.execute(
                self._sql("DELETE FROM private WHERE kind = ? AND key = ? RETURNING value"),
                (kind, key),
            ).fetchone()
        return None if row is None else _bytes(row[0])

    def items(self, kind: str, prefix: str = "") -> list[tuple[str, bytes]]:
        _text("kind", kind, MAX_KIND)
        if prefix:
            _text("key prefix", prefix, MAX_KEY)
        with self._db._read(None) as conn:
            rows = conn.execute(
                self._sql(
                    "SELECT key, value FROM private WHERE kind = ? "
                    "AND substr(key, 1, ?) = ? ORDER BY key"
                ),
                (kind, len(prefix), prefix),
            ).fetchall()
        out = [(str(r[0]), _bytes(r[1])) for r in rows]
        out.sort(key=lambda kv: kv[0])  # by code point, whatever the database's collation
        return out

    def page(
        self, kind: str, prefix: str, after: str | None, limit: int
    ) -> list[tuple[str, bytes]]:
        _text("kind", kind, MAX_KIND)
        if prefix:
            _text("key prefix", prefix, MAX_KEY)
        if after is not None:
            _text("key", after, MAX_KEY)
        if type(limit) is not int or limit < 1:
            raise EncodingError("a page holds at least one record", where="private store")
        # code point order whatever the database's collation (PostgreSQL's "C" is bytewise,
        # and UTF-8's byte order is code point order)
        sql = (
            _PAGE
            if self._p == "?"
            else _PAGE.replace("key >", 'key COLLATE "C" >').replace("BY key", 'BY key COLLATE "C"')
        )
        with self._db._read(None) as conn:
            rows = conn.execute(
                self._sql(sql),
                (kind, len(prefix), prefix, after if after is not None else "", limit),
            ).fetchall()
        return [(str(r[0]), _bytes(r[1])) for r in rows]

    def delete_prefix(self, kind: str, prefix: str) -> int:
        _text("kind", kind, MAX_KIND)
        _text("key prefix", prefix, MAX_KEY)
        with self._db._write(None) as conn:
            cur = conn.execute(
                self._sql("DELETE FROM private WHERE kind = ? AND substr(key, 1, ?) = ?"),
                (kind, len(prefix), prefix),
            )
            return int(cur.rowcount)

    def take_tokens(
        self, bucket: str, key: str, burst: float, rate: float, now: float, cost: float = 1.0
    ) -> float:
        _check(bucket, key)
        # the bucket refilled to now, at most full: twice, in the update and in its condition
        refilled = f"{self._least}(?, rate_buckets.tokens + (? - rate_buckets.at) * ?)"
        sql = self._sql(
            "INSERT INTO rate_buckets (name, key, tokens, at) VALUES (?, ?, ?, ?) "  # noqa: S608
            f"ON CONFLICT (name, key) DO UPDATE SET tokens = {refilled} - ?, at = ? "
            f"WHERE {refilled} >= ? RETURNING tokens"
        )
        with self._db._write(None) as conn:
            if self._lax:
                conn.execute(self._lax)
            row = conn.execute(
                sql,
                (
                    bucket,
                    key,
                    burst - cost,
                    now,
                    burst,
                    now,
                    rate,
                    cost,
                    now,
                    burst,
                    now,
                    rate,
                    cost,
                ),
            ).fetchone()
            if row is not None:
                return 0.0
            tokens = self._tokens(conn, bucket, key, burst, rate, now)
        return max(0.0, (cost - tokens) / rate)

    def wait_tokens(self, bucket: str, key: str, burst: float, rate: float, now: float) -> float:
        _check(bucket, key)
        with self._db._read(None) as conn:
            tokens = self._tokens(conn, bucket, key, burst, rate, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / rate

    def _tokens(
        self, conn: Any, bucket: str, key: str, burst: float, rate: float, now: float
    ) -> float:
        row = conn.execute(
            self._sql("SELECT tokens, at FROM rate_buckets WHERE name = ? AND key = ?"),
            (bucket, key),
        ).fetchone()
        if row is None:
            return burst
        return float(min(burst, float(row[0]) + (now - float(row[1])) * rate))

    def reset_tokens(self, bucket: str, key: str) -> None:
        _check(bucket, key)
        with self._db._write(None) as conn:
            conn.execute(
                self._sql("DELETE FROM rate_buckets WHERE name = ? AND key = ?"), (bucket, key)
            )

    def prune_tokens(self, bucket: str, burst: float, rate: float, now: float) -> int:
        _text("kind", bucket, MAX_KIND)
        with self._db._write(None) as conn:
            cur = conn.execute(
                self._sql("DELETE FROM rate_buckets WHERE name = ? AND tokens + (? - at) * ? >= ?"),
                (bucket, now, rate, burst),
            )
            return int(cur.rowcount)

    def versions(self, kind: str) -> dict[str, int]:
        _text("kind", kind, MAX_KIND)
        with self._db._read(None) as conn:
            rows = conn.execute(
                self._sql("SELECT key, version FROM private WHERE kind = ?"), (kind,)
            ).fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def close(self) -> None:
        """Close the board if this store opened it."""
        if self._owns:
            self._db.close()


def private_of(board: Board) -> SQLPrivateStore:
    """The private store in ``board``'s database, sharing its connections."""
    return SQLPrivateStore(board)


def open_private(url: str) -> SQLPrivateStore:
    """The private store of the board at ``url`` (the forms of
    :func:`plebiscite.board.open_board`); its schema is brought up to date."""
    from plebiscite.board import open_board

    return SQLPrivateStore(open_board(url), owns=True)
