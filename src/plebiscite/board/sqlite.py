"""The board in one SQLite file: the default backend, for one server (several threads or processes).

Durability: the file is in WAL mode with ``synchronous=FULL``, so a commit is on disk when
:meth:`SQLiteBoard.append` returns. Compare-and-append: an append is one ``BEGIN IMMEDIATE``
transaction (it takes the file's write lock at once) that reads the election's head, compares it
with the expected one, inserts the members computed by :func:`~plebiscite.board.base.plan_append`
and moves the head; so of two writers (threads or processes) that expected the same head one
appends and the other gets :class:`~plebiscite.errors.ConflictError`. A writer waits for the lock
up to :data:`BUSY_TIMEOUT_MS` (SQLite's ``busy_timeout``).

Schema (version :data:`SCHEMA_VERSION`): ``elections`` (one row per election: uuid, archive
timestamp, head height and hash, the next member number), ``members`` (election, seq, kind,
hash, content; primary key (election, seq)), ``private`` (the server's private records,
:mod:`plebiscite.board.private`: kind, key, value, version) and ``schema_version`` (one row per
migration applied). Migrations are an ordered list of steps; opening a board applies those it
lacks in one transaction, so reopening is a no-op and two processes opening a new file at once
are safe.
Triggers refuse any change or removal of a member and of an election's uuid and timestamp.

Threads: each operation borrows a connection from a small pool (one connection is used by one
thread at a time). Streams (:meth:`SQLiteBoard.members`, :meth:`SQLiteBoard.archive`) read by
pages in short separate queries, never holding a transaction open, and stop at the head of the
board at the time of the call.

This module also holds what both backends share (:func:`check_items`, the errors, the pool).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Generic, Self, TypeVar

from plebiscite.board.base import Head, Item, StoredMember, archive_bytes, plan_append
from plebiscite.errors import BoardError, ConflictError
from plebiscite.protocol.messages import EVENT_TYPES, WITH_PAYLOAD
from plebiscite.protocol.record import EVENT_TYPES as RECORD_EVENT_TYPES
from plebiscite.protocol.record import RECORD, is_record_board

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "PAGE",
    "SCHEMA_VERSION",
    "SQLiteBoard",
    "SqlBoard",
    "check_election",
    "check_heights",
    "check_items",
    "check_timestamp",
]

BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another's transaction to end before failing (milliseconds)."""

PAGE = 256
"""Members read per query when streaming."""

MAX_TIMESTAMP = 8**11 - 1
"""The largest archive timestamp: the tar mtime field has 11 octal digits."""

_ELECTION = re.compile(r"[A-Za-z0-9_-]{1,128}\Z")

# -- shared by both backends ------------------------------------------------------------------


def where(election: str) -> str:
    return f"election {election}"


def check_election(election: str) -> None:
    """An election id is a Belenios uuid (base58): letters, digits, ``_`` or ``-``."""
    if not isinstance(election, str) or not _ELECTION.match(election):
        raise BoardError(
            f"invalid election id {election!r}: expected 1 to 128 letters, digits, '_' or '-'"
        )


def check_timestamp(election: str, timestamp: int) -> None:
    if type(timestamp) is not int or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise BoardError(
            f"archive timestamp {timestamp!r} is not an integer in [0, {MAX_TIMESTAMP}]",
            where=where(election),
        )


def check_items(election: str, items: Sequence[Item]) -> None:
    """Refuse items that can never make a valid chain: an unknown event type, a payload missing
    or unexpected, data that is not bytes. Checked before taking any lock. A referendum's
    record board (:mod:`plebiscite.protocol.record`) takes plebiscite's event types only, each
    with its payload."""
    record = is_record_board(election)
    types, with_payload = (
        (RECORD_EVENT_TYPES, RECORD_EVENT_TYPES) if record else (EVENT_TYPES, WITH_PAYLOAD)
    )
    for i, item in enumerate(items):
        here = f"{where(election)}, item {i}"
        if not isinstance(item, Item):
            raise BoardError(f"not an Item: {type(item).__name__}", where=here)
        if item.type not in types:
            raise BoardError(f"unknown event type {item.type!r}", where=here)
        if not isinstance(item.data, tuple) or not all(type(d) is bytes for d in item.data):
            raise BoardError("data must be a tuple of bytes", where=here)
        if record and len(item.data) != 1:
            raise BoardError(f"event {item.type} takes exactly one data member", where=here)
        if bool(item.data) != (item.type in with_payload):
            needs = "needs a payload (data)" if item.type in WITH_PAYLOAD else "takes no data"
            raise BoardError(f"event {item.type} {needs}", where=here)


def check_heights(election: str, head: Head, items: Sequence[Item]) -> None:
    """Setup is the first event (height 0) and only it (on a record board: Record). Checked
    once the head is known."""
    first = RECORD if is_record_board(election) else "Setup"
    height = head.height
    for i, item in enumerate(items):
        height = 0 if height is None else height + 1
        if (item.type == first) != (height == 0):
            raise BoardError(
                f"event {item.type} at height {height}: {first} is the first event and only it",
                where=f"{where(election)}, item {i}",
            )


def unknown_election(election: str) -> BoardError:
    return BoardError("no such election on this board", where=where(election))


def conflict(election: str, expected: Head, current: Head) -> ConflictError:
    return ConflictError(
        f"the last event is {_describe(current)}, not {_describe(expected)} as expected: "
        "another append came first (read the head again)",
        where=where(election),
    )


def _describe(head: Head) -> str:
    if head.height is None:
        return "none (empty board)"
    return f"height {head.height} ({head.hash})"


C = TypeVar("C")


class Pool(Generic[C]):
    """Connections borrowed one operation at a time; at most ``max_idle`` are kept open. A
    connection found broken after use is closed, and so are the idle ones; so is a connection
    whose operation failed in the database (``spoils``: a read-only or full disk, an I/O
    error, a read-only transaction; not a refused constraint), because a connection opened
    while the database could not be written stays read-only when it can be again (SQLite opens
    the file read-only; a PostgreSQL session keeps the ``default_transaction_read_only`` it
    started with): the next operation opens a new one, so the database is used again as soon
    as it can be written, without a restart.

    After a fork the child opens its own connections and never touches (nor closes) those
    inherited from the parent."""

    def __init__(
        self,
        connect: Callable[[], C],
        close: Callable[[C], None],
        reusable: Callable[[C], bool],
        *,
        name: str,
        max_idle: int = 8,
        spoils: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        self._connect = connect
        self._close = close
        self._reusable = reusable
        self._spoils = spoils
        self._name = name
        self._max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: list[C] = []
        self._inherited: list[C] = []
        self._pid = os.getpid()
        self._closed = False

    @contextmanager
    def borrow(self) -> Iterator[C]:
        conn: C | None = None
        with self._lock:
            if self._closed:
                raise BoardError(f"the board {self._name} is closed")
            if self._pid != os.getpid():
                self._inherited.extend(self._idle)
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                conn = self._idle.pop()
        if conn is None:
            conn = self._connect()
        spoiled = False
        try:
            yield conn
        except BaseException as exc:
            spoiled = self._spoils(exc)
            raise
        finally:
            reusable = keep = not spoiled and self._reusable(conn)
            if keep:
                with self._lock:
                    keep = (
                        not self._closed
                        and self._pid == os.getpid()
                        and len(self._idle) < self._max_idle
                    )
                    if keep:
                        self._idle.append(conn)
            if not keep:
                self._close(conn)
            if not reusable:  # broken (the server restarted, the disk read-only): the idle too
                with self._lock:
                    stale, self._idle = self._idle, []
                for other in stale:
                    self._close(other)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)


class SqlBoard(Generic[C]):
    """The :class:`~plebiscite.board.base.Board` operations over the schema both backends
    share. A backend gives its connections (``_pool``), its transactions (``_read``:
    statements in autocommit; ``_write``: one transaction, committed if the body returns) and
    its dialect: :attr:`PARAM`, the driver's parameter placeholder; :attr:`LOCK_ROW`, what
    locks the election's row for the rest of the append's transaction (nothing where the
    transaction already holds the database's write lock); :attr:`DUPLICATE`, the driver's
    error for a uuid already on the board; :meth:`_insert_members`."""

    PARAM = "?"
    LOCK_ROW = ""
    SHARED = False
    """Whether several server processes may serve the board (PostgreSQL), or one (SQLite)."""
    DUPLICATE: type[Exception]
    _pool: Pool[C]

    def _read(self, election: str | None) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _write(self, election: str | None) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _version(self, conn: Any) -> int:
        raise NotImplementedError

    def _insert_members(self, conn: Any, sql: str, rows: list[tuple[object, ...]]) -> None:
        conn.executemany(sql, rows)

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.PARAM)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        """The schema version of the database (:data:`SCHEMA_VERSION` once open)."""
        with self._read(None) as conn:
            return self._version(conn)

    def create(self, election: str, timestamp: int) -> None:
        check_election(election)
        check_timestamp(election, timestamp)
        try:
            with self._write(election) as conn:
                conn.execute(
                    self._sql("INSERT INTO elections (uuid, timestamp) VALUES (?, ?)"),
                    (election, timestamp),
                )
        except BoardError as exc:
            if isinstance(exc.__cause__, self.DUPLICATE):
                raise BoardError("already on this board", where=where(election)) from None
            raise

    def elections(self) -> list[str]:
        with self._read(None) as conn:
            return [str(r[0]) for r in conn.execute("SELECT uuid FROM elections ORDER BY id")]

    def timestamp(self, election: str) -> int:
        with self._read(election) as conn:
            row = conn.execute(
                self._sql("SELECT timestamp FROM elections WHERE uuid = ?"), (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        return int(row[0])

    def head(self, election: str) -> Head:
        with self._read(election) as conn:
            row = conn.execute(
                self._sql("SELECT height, head FROM elections WHERE uuid = ?"), (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        return _head(row[0], row[1])

    def append(self, election: str, expected: Head, items: Sequence[Item]) -> Head:
        items = tuple(items)
        check_items(election, items)
        with self._write(election) as conn:
            row = conn.execute(
                self._sql("SELECT id, height, head, next_seq FROM elections WHERE uuid = ?")
                + self.LOCK_ROW,
                (election,),
            ).fetchone()
            if row is None:
                raise unknown_election(election)
            ident, next_seq = int(row[0]), int(row[3])
            current = _head(row[1], row[2])
            if current != expected:
                raise conflict(election, expected, current)
            check_heights(election, current, items)
            members, new = plan_append(current, items, next_seq)
            self._insert_members(
                conn,
                self._sql(
                    "INSERT INTO members (election, seq, kind, hash, content) "
                    "VALUES (?, ?, ?, ?, ?)"
                ),
                [(ident, m.seq, m.kind, m.hash, m.content) for m in members],
            )
            conn.execute(
                self._sql("UPDATE elections SET height = ?, head = ?, next_seq = ? WHERE id = ?"),
                (new.height, new.hash, next_seq + len(members), ident),
            )
            self._appended(conn, election, new)
        return new

    def _appended(self, conn: Any, election: str, head: Head) -> None:
        """Within an append's transaction: tell the other processes (nothing on SQLite, where
        one process serves the board)."""

    def next_seq(self, election: str) -> int:
        with self._read(election) as conn:
            row = conn.execute(
                self._sql("SELECT next_seq FROM elections WHERE uuid = ?"), (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        return int(row[0])

    def members(
        self, election: str, *, after_seq: int = -1, until_seq: int | None = None
    ) -> Iterator[StoredMember]:
        with self._read(election) as conn:
            row = conn.execute(
                self._sql("SELECT id, next_seq FROM elections WHERE uuid = ?"), (election,)
            ).fetchone()
        if row is None:
            raise unknown_election(election)
        ident, end = int(row[0]), int(row[1])
        if until_seq is not None:
            end = min(end, until_seq)
        first = self._page(election, ident, after_seq, end)
        return self._pages(election, ident, first, end)

    def _rows(self, conn: Any, sql: str, params: tuple[object, ...]) -> list[Any]:
        """The rows of a query that reads members' contents (the driver's fastest transfer)."""
        return list(conn.execute(sql, params).fetchall())

    def _page(self, election: str, ident: int, after: int, end: int) -> list[StoredMember]:
        with self._read(election) as conn:
            rows = self._rows(
                conn,
                self._sql(
                    "SELECT seq, kind, hash, content FROM members "
                    "WHERE election = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?"
                ),
                (ident, after, end, PAGE),
            )
        return [StoredMember(int(r[0]), str(r[1]), str(r[2]), bytes(r[3])) for r in rows]

    def _pages(
        self, election: str, ident: int, page: list[StoredMember], end: int
    ) -> Iterator[StoredMember]:
        while page:
            yield from page
            if len(page) < PAGE:
                return
            page = self._page(election, ident, page[-1].seq, end)

    def member_slice(self, election: str, seq: int, start: int, size: int) -> bytes:
        if start < 0 or size < 0:
            raise ValueError("a member's slice starts at 0 or after and has a size of 0 or more")
        with self._read(election) as conn:
            rows = self._rows(
                conn,
                self._sql(
                    "SELECT substr(m.content, ?, ?) FROM members m JOIN elections e "
                    "ON m.election = e.id WHERE e.uuid = ? AND m.seq = ?"
                ),
                (start + 1, size, election, seq),
            )
        if not rows:
            raise BoardError(f"{election} has no member {seq}", where=where(election))
        return bytes(rows[0][0])

    def archive(self, election: str) -> Iterator[bytes]:
        return archive_bytes(self.timestamp(election), self.members(election))

    def close(self) -> None:
        self._pool.close()


def _head(height: object, hash_: object) -> Head:
    if height is None:
        return Head()
    assert isinstance(height, int) and isinstance(hash_, str)
    return Head(height, hash_)


# -- SQLite -------------------------------------------------------------------------------------

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the elections and their members
    (
        """CREATE TABLE elections (
            id INTEGER PRIMARY KEY,
            uuid TEXT NOT NULL UNIQUE,
            timestamp INTEGER NOT NULL,
            height INTEGER,
            head TEXT,
            next_seq INTEGER NOT NULL DEFAULT 0
        )""",
        """CREATE TABLE members (
            election INTEGER NOT NULL REFERENCES elections (id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('data', 'event')),
            hash TEXT NOT NULL,
            content BLOB NOT NULL,
            PRIMARY KEY (election, seq)
        )""",
    ),
    # 2: append-only, enforced by the database too
    (
        """CREATE TRIGGER members_no_update BEFORE UPDATE ON members
            BEGIN SELECT RAISE(ABORT, 'the board is append-only: members cannot change'); END""",
        """CREATE TRIGGER members_no_delete BEFORE DELETE ON members
            BEGIN SELECT RAISE(ABORT, 'the board is append-only: members cannot go'); END""",
        """CREATE TRIGGER elections_no_update BEFORE UPDATE OF uuid, timestamp ON elections
            BEGIN SELECT RAISE(ABORT, 'an election keeps its uuid and timestamp'); END""",
        """CREATE TRIGGER elections_no_delete BEFORE DELETE ON elections
            BEGIN SELECT RAISE(ABORT, 'the board is append-only: elections cannot go'); END""",
    ),
    # 3: the server's private records (plebiscite.board.private), outside the public board
    (
        """CREATE TABLE private (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            value BLOB NOT NULL,
            PRIMARY KEY (kind, key)
        )""",
    ),
    # 4: each private record's version, for compare-and-put (PrivateStore.replace)
    ("ALTER TABLE private ADD COLUMN version INTEGER NOT NULL DEFAULT 1",),
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


class _Connection(sqlite3.Connection):
    """A connection that knows whether the file was writable when it was opened: SQLite opens
    a file it cannot write read-only, and such a connection stays read-only."""

    read_only = False


def _reusable(conn: sqlite3.Connection) -> bool:
    if getattr(conn, "read_only", False):
        return False  # opened while the file could not be written: not kept
    return not conn.in_transaction  # in a transaction only if a rollback itself failed


def _spoils(exc: BaseException) -> bool:
    """Whether a connection whose operation raised ``exc`` is closed (see :class:`Pool`): any
    failure of SQLite but a refused constraint."""
    cause = exc.__cause__ if isinstance(exc, BoardError) else exc
    return isinstance(cause, sqlite3.Error) and not isinstance(cause, sqlite3.IntegrityError)


class SQLiteBoard(SqlBoard[sqlite3.Connection]):
    """The board in the SQLite file ``path`` (created if missing)."""

    DUPLICATE = sqlite3.IntegrityError

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._pool: Pool[sqlite3.Connection] = Pool(
            self._connect, sqlite3.Connection.close, _reusable, name=self.path, spoils=_spoils
        )
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteBoard({self.path!r})"

    @property
    def location(self) -> str:
        return os.path.abspath(self.path)

    def claim_server(self) -> None:
        """Claim the file for this process's server until the process ends: an SQLite board
        is served by one process (several threads); a second server process on the same file
        is refused with a BoardError that says so (PostgreSQL is for several). The claim is
        an exclusive lock on ``PATH.serve.lock`` holding the claimant's process id."""
        import fcntl

        lock_path = f"{self.path}.serve.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise BoardError(
                f"another process (pid {holder}) already serves this SQLite board: SQLite is "
                "for one server process; for several, use PostgreSQL "
                "(--database postgresql://...)",
                where=f"board {self.path}",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._claim = fd  # kept open (the lock with it) for the life of the process

    # -- connections and transactions --

    def _error(self, exc: sqlite3.Error, election: str | None) -> BoardError:
        what = where(election) if election else f"board {self.path}"
        return BoardError(f"SQLite failed: {exc}", where=what)

    @staticmethod
    def _set_wal(conn: sqlite3.Connection) -> str:
        """Switch to WAL. Turning WAL on needs a moment alone with a new file, and SQLite does
        not wait for it (busy_timeout does not apply): when several processes open a new
        board at once, retry for up to the busy timeout."""
        import time

        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit: transactions are explicit
                check_same_thread=False,  # pooled: used by one thread at a time
                factory=_Connection,
            )
        except sqlite3.Error as exc:
            raise self._error(exc, None) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = self._set_wal(conn)
            if mode != "wal":
                raise BoardError(
                    f"SQLite journal mode is {mode!r}, not 'wal' (an in-memory database?)",
                    where=f"board {self.path}",
                )
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # what SQLite did when it opened the file (a read-only one is opened read-only)
            conn.read_only = not os.access(self.path, os.W_OK)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.Error):
                raise self._error(exc, None) from exc
            raise
        return conn

    @contextmanager
    def _read(self, election: str | None) -> Iterator[sqlite3.Connection]:
        with self._pool.borrow() as conn:
            try:
                yield conn
            except sqlite3.Error as exc:
                raise self._error(exc, election) from exc

    @contextmanager
    def _write(self, election: str | None) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, committed if the body returns, else rolled back."""
        with self._pool.borrow() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._error(exc, election) from exc

    def _migrate(self) -> None:
        with self._read(None) as conn:
            if self._version(conn) == SCHEMA_VERSION:
                return
        with self._write(None) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            version = self._version(conn)
            if version > SCHEMA_VERSION:
                raise BoardError(
                    f"the board's schema is version {version}, newer than this plebiscite's "
                    f"({SCHEMA_VERSION}): upgrade plebiscite",
                    where=f"board {self.path}",
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) "
                    "VALUES (?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    (number,),
                )

    def _version(self, conn: sqlite3.Connection) -> int:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if exists is None:
            return 0
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)
