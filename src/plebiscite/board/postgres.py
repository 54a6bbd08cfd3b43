"""The board in a PostgreSQL database (psycopg 3): for several servers sharing one board.

The same schema and guarantees as :mod:`plebiscite.board.sqlite`; and for several server
processes sharing the board, every append notifies them (``NOTIFY`` on :data:`CHANNEL` with the
election and its new height, sent at the commit), :meth:`PostgresBoard.listen` hears it.
Durability: every session sets ``synchronous_commit = on``, so a commit is flushed to the
server's WAL when
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

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from plebiscite.board.base import Head
from plebiscite.board.sqlite import Pool, SqlBoard, where
from plebiscite.errors import BoardError

__all__ = ["CHANNEL", "MIGRATIONS", "SCHEMA_VERSION", "PostgresBoard"]

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
    # 4: each private record's version, for compare-and-put (PrivateStore.replace)
    ("ALTER TABLE private ADD COLUMN version BIGINT NOT NULL DEFAULT 1",),
    # 5: rate limits shared by the processes of one database (PrivateStore.take_tokens)
    (
        """CREATE TABLE rate_buckets (
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            tokens DOUBLE PRECISION NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (name, key)
        )""",
    ),
)
"""The schema's migration steps in order: step ``i`` takes the schema to version ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)

_MIGRATION_LOCK = 0x706C6562  # pg_advisory_xact_lock key ("pleb")
CHANNEL = "plebiscite_board"
"""The notification channel of appends (the payload: the election's uuid)."""

Connection = psycopg.Connection[TupleRow]


def _reusable(conn: Connection) -> bool:
    """Idle, and not a read-only session (one that started while the database was read-only,
    ``default_transaction_read_only``, or on a standby: it would stay so)."""
    info = conn.info
    return (
        not conn.closed
        and info.transaction_status == TransactionStatus.IDLE
        and info.parameter_status("default_transaction_read_only") != "on"
        and info.parameter_status("in_hot_standby") != "on"
    )


def _spoils(exc: BaseException) -> bool:
    """Whether a connection whose operation raised ``exc`` is closed (see
    :class:`~plebiscite.board.sqlite.Pool`): any failure of PostgreSQL but a refused
    constraint (a session that started while the database was read-only stays so)."""
    cause = exc.__cause__ if isinstance(exc, BoardError) else exc
    return isinstance(cause, psycopg.Error) and not isinstance(cause, psycopg.errors.IntegrityError)


class PostgresBoard(SqlBoard[Connection]):
    """The board in the PostgreSQL database ``dsn`` (a libpq URI or key=value string)."""

    PARAM = "%s"
    LOCK_ROW = " FOR UPDATE"
    SHARED = True
    DUPLICATE = psycopg.errors.UniqueViolation

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pool: Pool[Connection] = Pool(
            self._connect, psycopg.Connection.close, _reusable, name=self._name(), spoils=_spoils
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

    @property
    def location(self) -> str:
        return self.dsn

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
        with self._read(None) as conn:  # up to date: nothing written (a read-only database)
            row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if row is not None and row[0] and self._version(conn) == SCHEMA_VERSION:
                return
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

    def _version(self, conn: Connection) -> int:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return _int(row[0]) if row is not None and row[0] is not None else 0

    def _insert_members(self, conn: Any, sql: str, rows: list[tuple[object, ...]]) -> None:
        with conn.cursor() as cur:
            cur.executemany(sql, rows)

    def _rows(self, conn: Any, sql: str, params: tuple[object, ...]) -> list[Any]:
        # binary transfer: contents as they are, not in hexadecimal (half the time)
        return list(conn.execute(sql, params, binary=True).fetchall())

    def _appended(self, conn: Any, election: str, head: Head) -> None:
        # delivered to every listener when the transaction commits, never before
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{election} {head.height}"))

    def listen(
        self,
        on_append: Callable[[str, int], None],
        stop: threading.Event,
        *,
        on_ready: Callable[[], None] | None = None,
        timeout: float = 1.0,
    ) -> None:
        """Call ``on_append(election, height)`` (the new head's height) after each append
        committed by any process (this one included) until ``stop`` is set, on a connection
        of its own (LISTEN); ``on_ready`` once listening. Notifications sent while no one
        listened are lost: a caller that listens again catches up on ``on_ready``. Raises
        BoardError when the connection fails."""
        try:
            conn: Connection = psycopg.connect(self.dsn, autocommit=True)
        except psycopg.Error as exc:
            raise self._error(exc, None) from exc
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            if on_ready is not None:
                on_ready()
            while not stop.is_set():
                for n in conn.notifies(timeout=timeout):
                    election, _, height = n.payload.partition(" ")
                    on_append(election, int(height) if height.isdigit() else -1)
                    if stop.is_set():
                        break
        except psycopg.Error as exc:
            raise self._error(exc, None) from exc
        finally:
            conn.close()


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value
