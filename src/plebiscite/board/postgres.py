"""The board in a PostgreSQL database (psycopg 3): for several servers sharing one board.

The same schema and guarantees as :mod:`plebiscite.board.sqlite`. Durability: every session sets
``synchronous_commit = on``, so a commit is flushed to the server's WAL when
:meth:`PostgresBoard.append` returns. Compare-and-append: an append is one transaction that
locks the election's row (``SELECT ... FOR UPDATE``), compares its head with the expected one,
inserts the members computed by :func:`~plebiscite.board.base.plan_append` and moves the head; a
concurrent append waits for the lock, then sees the new head and fails with
:class:`~plebiscite.errors.ConflictError`. If the connection is lost during the commit, the
append may or may not have happened: the caller gets a :class:`~plebiscite.errors.BoardError`
and reads the head again.

Migrations: the ordered steps of :data:`MIGRATIONS`, applied in one transaction under an
advisory lock (so concurrent first openings are safe), recorded in ``schema_version``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from plebiscite.board.base import Head, Item, StoredMember, archive_bytes, plan_append
from plebiscite.board.sqlite import (
    PAGE,
    Pool,
    check_election,
    check_heights,
    check_items,
    check_timestamp,
    conflict,
    unknown_election,
    where,
)
from plebiscite.errors import BoardError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "PostgresBoard"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the elections and their members
    (
        """CREATE TABLE elections (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            timestamp BIGINT NOT NULL,
            height BIGINT,
            head TEXT,
            next_seq BIGINT NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE members (
            election BIGINT NOT NULL REFERENCES elections (id),
            seq BIGINT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('data', 'event')),
            hash TEXT NOT NULL,
            content BYTEA NOT NULL,
            PRIMARY KEY (election, seq)
        )""",
    ),
    # 2: append-only, enforced by the database too
    (
        """CREATE FUNCTION board_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the board is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
            END $$""",
        """CREATE TRIGGER members_append_only BEFORE UPDATE OR DELETE ON members
            FOR EACH ROW EXECUTE FUNCTION board_append_only()""",
        """CREATE TRIGGER members_no_truncate BEFORE TRUNCATE ON members
            FOR EACH STATEMENT EXECUTE FUNCTION board_append_only()""",
        """CREATE TRIGGER elections_append_only BEFORE DELETE OR UPDATE OF uuid, timestamp
            ON elections FOR EACH ROW EXECUTE FUNCTION board_append_only()""",
        """CREATE TRIGGER elections_no_truncate BEFORE TRUNCATE ON elections
            FOR EACH STATEMENT EXECUTE FUNCTION board_append_only()""",
    ),
    # 3: the server's private records (plebiscite.board.private), outside the public board
    (
        """CREATE TABLE private (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            value BYTEA NOT NULL,
            PRIMARY KEY (kind, key)
        )""",
    ),
)
"""The schema's migration steps in order: step ``i`` takes the schema to version ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)

_MIGRATION_LOCK = 0x706C6562  # pg_advisory_xact_lock key ("pleb")

Connection = psycopg.Connection[TupleRow]


def _reusable(conn: Connection) -> bool:
    return not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE


class PostgresBoard:
    """The board in the PostgreSQL database ``dsn`` (a libpq URI or key=value string)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pool: Pool[Connection] = Pool(
            self._connect, psycopg.Connection.close, _reusable, name=self._name()
        )
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def _name(self) -> str:
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.Error:
            return "PostgreSQL"
        return f"PostgreSQL database {info.get('dbname', '?')}"

    def __repr__(self) -> str:
        return f"PostgresBoard({self._name()!r})"

    def __enter__(self) -> PostgresBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections and transactions --

    def _error(self, exc: psycopg.Error, election: str | None) -> BoardError:
        what = where(election) if election else f"board {self._name()}"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return BoardError(f"PostgreSQL failed: {message}", where=what)

    def _connect(self) -> Connection:
        try:
            conn: Connection = psycopg.connect(self.dsn, autocommit=True)
        except psycopg.Error as exc:
            raise self._error(exc, None) from exc
        try:
            conn.execute("SET synchronous_commit = on")
        except psycopg.Error as exc:
            conn.close()
            raise self._error(exc, None) from exc
        return conn

    @contextmanager
    def _read(self, election: str | None) -> Iterator[Connection]:
        with self._pool.borrow() as conn:
            try:
                yield conn
            except psycopg.Error as exc:
                raise self._error(exc, election) from exc

    @contextmanager
    def _write(self, election: str | None) -> Iterator[Connection]:
        """One transaction, committed if the body returns, else rolled back."""
        with self._pool.borrow() as conn:
            try:
                with conn.transaction():
                    yield conn
            except psycopg.Error as exc:
                raise self._error(exc, election) from exc

    def _migrate(self) -> None:
        with self._write(None) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            version = self._version(conn)
            if version > SCHEMA_VERSION:
                raise BoardError(
                    f"the board's schema is version {version}, newer than this plebiscite's "
                    f"({SCHEMA_VERSION}): upgrade plebiscite",
                    where=f"board {self._name()}",
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))

    @staticmethod
    def _version(conn: Connection) -> int:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return _int(row[0]) if row is not None and row[0] is not None else 0

    def schema_version(self) -> int:
        """The schema version of the database (:data:`SCHEMA_VERSION` once open)."""
        with self._read(None) as conn:
            return self._version(conn)

    # -- the Board protocol --

    def create(self, election: str, timestamp: int) -> None:
        check_election(election)
        check_timestamp(election, timestamp)
        try:
            with self._write(election) as conn:
                conn.execute(
                    "INSERT INTO elections (uuid, timestamp) VALUES (%s, %s)",
                    (election, timestamp),
                )
        except BoardError as exc:
            if isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
                raise BoardError("already on this board", where=where(election)) from None
            raise

    def elections(self) -> list[str]:
        with self._read(None) as conn:
            return [str(r[0]) for r in conn.execute("SELECT uuid FROM elections ORDER BY id")]

    def timestamp(self, election: str) -> int:
        with self._read(election) as conn:
            row = conn.execute(
                "SELECT timestamp FROM elections WHERE uuid = %s", (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        return _int(row[0])

    def head(self, election: str) -> Head:
        with self._read(election) as conn:
            row = conn.execute(
                "SELECT height, head FROM elections WHERE uuid = %s", (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        return _head(row[0], row[1])

    def append(self, election: str, expected: Head, items: Sequence[Item]) -> Head:
        items = tuple(items)
        check_items(election, items)
        with self._write(election) as conn:
            row = conn.execute(
                "SELECT id, height, head, next_seq FROM elections WHERE uuid = %s FOR UPDATE",
                (election,),
            ).fetchone()
            if row is None:
                raise unknown_election(election)
            ident, next_seq = _int(row[0]), _int(row[3])
            current = _head(row[1], row[2])
            if current != expected:
                raise conflict(election, expected, current)
            check_heights(election, current, items)
            members, new = plan_append(current, items, next_seq)
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO members (election, seq, kind, hash, content) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    [(ident, m.seq, m.kind, m.hash, m.content) for m in members],
                )
            conn.execute(
                "UPDATE elections SET height = %s, head = %s, next_seq = %s WHERE id = %s",
                (new.height, new.hash, next_seq + len(members), ident),
            )
        return new

    def members(self, election: str, *, after_seq: int = -1) -> Iterator[StoredMember]:
        with self._read(election) as conn:
            row = conn.execute(
                "SELECT id, next_seq FROM elections WHERE uuid = %s", (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        ident, end = _int(row[0]), _int(row[1])
        first = self._page(election, ident, after_seq, end)
        return self._pages(election, ident, first, end)

    def _page(self, election: str, ident: int, after: int, end: int) -> list[StoredMember]:
        with self._read(election) as conn:
            rows = conn.execute(
                "SELECT seq, kind, hash, content FROM members "
                "WHERE election = %s AND seq > %s AND seq < %s ORDER BY seq LIMIT %s",
                (ident, after, end, PAGE),
            ).fetchall()
        return [StoredMember(_int(r[0]), str(r[1]), str(r[2]), _bytes(r[3])) for r in rows]

    def _pages(
        self, election: str, ident: int, page: list[StoredMember], end: int
    ) -> Iterator[StoredMember]:
        while page:
            yield from page
            if len(page) < PAGE:
                return
            page = self._page(election, ident, page[-1].seq, end)

    def archive(self, election: str) -> Iterator[bytes]:
        return archive_bytes(self.timestamp(election), self.members(election))

    def close(self) -> None:
        self._pool.close()


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _bytes(value: object) -> bytes:
    assert isinstance(value, bytes | memoryview)
    return bytes(value)


def _head(height: object, hash_: object) -> Head:
    if height is None:
        return Head()
    assert isinstance(hash_, str)
    return Head(_int(height), hash_)
