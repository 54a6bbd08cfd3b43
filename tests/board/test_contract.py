"""The board's contract, checked on every backend (SQLite, PostgreSQL), a fresh board per test:
compare-and-append, atomicity, streaming, byte-identical archives of belenios-tool's vectors,
concurrent writers (threads and processes), durability across SIGKILL, schema migrations."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from board.db import TS, E, backend_of, make_old_schema, now_sql, raw_execute, setup_item
from board.pg import PgTestServer, PgTestServerError
from conftest import PEER_VECTORS, peer_vector_names
from plebiscite.board import (
    Board,
    Head,
    Item,
    StoredMember,
    archive_bytes,
    open_board,
    plan_append,
)
from plebiscite.board import postgres as pg_backend
from plebiscite.board import sqlite as sqlite_backend
from plebiscite.board.postgres import PostgresBoard
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.errors import BoardError, ConflictError
from plebiscite.protocol.archive import iter_members, parse_header
from plebiscite.protocol.verifier import verify_archive

# -- fixtures (``url``, a fresh database per test on every backend, is in conftest.py) ---------


@pytest.fixture
def board(url):
    b = open_board(url)
    yield b
    b.close()


# -- helpers ----------------------------------------------------------------------------------


def ballot(tag: str) -> Item:
    return Item("Ballot", (json.dumps({"ballot": tag}).encode(),))


def snapshot(board: Board, election: str = E) -> tuple[Head, list[StoredMember]]:
    return board.head(election), list(board.members(election))


def check_chain(members: list[StoredMember]) -> list[dict]:
    """The members form one chain: seq 0, 1, ...; names are hashes; each event follows the
    previous one, its payload the data just before it. Returns the events."""
    events: list[dict] = []
    parent = None
    pending: list[str] = []
    for seq, m in enumerate(members):
        assert m.seq == seq
        assert m.hash == hashlib.sha256(m.content).hexdigest()
        if m.kind == "data":
            pending.append(m.hash)
            continue
        assert m.kind == "event"
        event = json.loads(m.content)
        assert event["height"] == len(events)
        assert event.get("parent") == parent
        assert event.get("payload") == (pending[-1] if pending else None)
        parent, pending = m.hash, []
        events.append(event | {"hash": m.hash})
    assert not pending, "data after the last event"
    return events


def vector_items(path: Path) -> tuple[int, list[Item]]:
    """The timestamp of a belenios-tool archive and its events with their data, in order."""
    with path.open("rb") as stream:
        members = iter_members(stream)
        timestamp = int(parse_header(next(members)).timestamp)
        items: list[Item] = []
        data: list[bytes] = []
        for m in members:
            if m.kind == "data":
                data.append(m.content)
            else:
                items.append(Item(json.loads(m.content)["type"], tuple(data)))
                data = []
    assert not data
    return timestamp, items


def verify(archive: bytes):
    report = verify_archive(lambda: io.BytesIO(archive))
    assert report.valid, [f.describe() for f in report.findings]
    return report


def append_module(board: Board):
    """The module whose ``plan_append`` the board's append calls (the shared SqlBoard's)."""
    (append_owner,) = [c for c in type(board).__mro__ if "append" in vars(c)]
    return sys.modules[append_owner.__module__]


# -- elections, heads, appends ----------------------------------------------------------------


def test_create_timestamp_elections(board):
    assert board.elections() == []
    board.create(E, TS)
    board.create("second-election", TS + 1)
    assert board.elections() == [E, "second-election"]
    assert board.timestamp(E) == TS
    assert board.timestamp("second-election") == TS + 1
    assert board.head(E) == Head()
    assert list(board.members(E)) == []
    with pytest.raises(BoardError, match=f"election {E}: already on this board"):
        board.create(E, TS)
    for call in (
        lambda: board.timestamp("nope"),
        lambda: board.head("nope"),
        lambda: board.members("nope"),
        lambda: board.archive("nope"),
        lambda: board.append("nope", Head(), [setup_item()]),
    ):
        with pytest.raises(BoardError, match="election nope: no such election") as err:
            call()
        assert not isinstance(err.value, ConflictError)
    for bad_id in ("", "a b", 'a"b', "x" * 129, "é"):
        with pytest.raises(BoardError, match="invalid election id"):
            board.create(bad_id, TS)
    for bad_ts in (-1, 8**11, True, "1700000000"):
        with pytest.raises(BoardError, match="timestamp"):
            board.create("other", bad_ts)
    assert board.elections() == [E, "second-election"]


def test_append_and_head(board):
    board.create(E, TS)
    setup = setup_item()
    head = board.append(E, Head(), [setup])
    expected, expected_head = plan_append(Head(), [setup], 0)
    assert head == expected_head == board.head(E)
    assert head.height == 0
    assert list(board.members(E)) == expected
    assert [m.kind for m in expected] == ["data", "data", "event"]

    items = [ballot("a"), ballot("b"), Item("EndBallots")]
    new = board.append(E, head, items)
    more, more_head = plan_append(head, items, 3)
    assert new == more_head == board.head(E)
    assert new.height == 3
    members = list(board.members(E))
    assert members == expected + more
    events = check_chain(members)
    assert [e["type"] for e in events] == ["Setup", "Ballot", "Ballot", "EndBallots"]
    assert events[-1]["hash"] == new.hash
    assert members[-1].name == f"{new.hash}.event.json"
    # an empty append changes nothing but still compares the head
    assert board.append(E, new, []) == new
    with pytest.raises(ConflictError):
        board.append(E, head, [])
    assert snapshot(board) == (new, members)


def test_stale_head_raises_conflict_and_writes_nothing(board):
    board.create(E, TS)
    first = board.append(E, Head(), [setup_item()])
    second = board.append(E, first, [ballot("a")])
    before = snapshot(board)
    stale_heads = [Head(), first, Head(second.height, first.hash), Head(5, second.hash)]
    for stale in stale_heads:
        with pytest.raises(ConflictError, match=f"election {E}: the last event is height 1") as err:
            board.append(E, stale, [ballot("b")])
        assert second.hash in str(err.value)
    with pytest.raises(ConflictError):  # a stale Setup too
        board.append(E, Head(), [setup_item("again")])
    assert snapshot(board) == before


@pytest.mark.parametrize(
    "items",
    [
        [Item('Ballot"', (b"{}",))],
        [Item('Ballot","payload":"00', (b"{}",))],
        [Item("Vote", (b"{}",))],
        [Item("Ballot")],  # a Ballot needs its data
        [Item("EndBallots", (b"{}",))],  # EndBallots takes none
        [Item("Ballot", ("{}",))],  # data must be bytes
        [Item("Ballot", [b"{}"])],  # in a tuple
        [Item("Setup", (b"{}",))],  # Setup only first
        [ballot("ok"), Item('Bal"lot', (b"{}",)), ballot("never")],  # the second item is bad
        [ballot("ok"), "not an item"],
    ],
    ids=lambda items: "+".join(getattr(i, "type", "str") for i in items),
)
def test_invalid_items_leave_nothing(board, items):
    board.create(E, TS)
    head = board.append(E, Head(), [setup_item()])
    before = snapshot(board)
    with pytest.raises(BoardError, match=f"election {E}, item") as err:
        board.append(E, head, items)
    assert not isinstance(err.value, ConflictError)
    assert snapshot(board) == before
    assert board.append(E, head, [ballot("next")]).height == 1


def test_first_event_must_be_setup(board):
    board.create(E, TS)
    with pytest.raises(BoardError, match="Setup is the first event"):
        board.append(E, Head(), [ballot("a")])
    assert snapshot(board) == (Head(), [])


def test_failure_midway_rolls_back(board, monkeypatch):
    """A database error after some members are written (here the third of four is refused by
    the NOT NULL constraint) undoes the whole append; the board stays usable."""
    board.create(E, TS)
    head = board.append(E, Head(), [setup_item()])
    before = snapshot(board)
    real_plan = plan_append

    def failing_plan(head, items, first_seq):
        members, new = real_plan(head, items, first_seq)
        members[2] = StoredMember(members[2].seq, "event", members[2].hash, None)
        return members, new

    module = append_module(board)
    monkeypatch.setattr(module, "plan_append", failing_plan)
    with pytest.raises(BoardError, match=f"election {E}: .*failed") as err:
        board.append(E, head, [ballot("a"), ballot("b")])
    assert not isinstance(err.value, ConflictError)
    monkeypatch.setattr(module, "plan_append", real_plan)
    assert snapshot(board) == before
    new = board.append(E, head, [ballot("a"), ballot("b")])
    assert new.height == 2
    check_chain(list(board.members(E)))


def test_members_after_seq_and_paging(board):
    board.create(E, TS)
    head = board.append(E, Head(), [setup_item()])
    n = sqlite_backend.PAGE  # more than one page of members: PAGE ballots, 2 * PAGE members
    head = board.append(E, head, [ballot(str(i)) for i in range(n)])
    members = list(board.members(E))
    assert len(members) == 3 + 2 * n
    check_chain(members)
    for after in (-1, 0, 2, n - 1, n, n + 1, 2 * n + 1, 2 * n + 2, 5000):
        assert list(board.members(E, after_seq=after)) == members[after + 1 :]
    # a stream stops at the head at the time of the call
    stream = board.members(E)
    archive = board.archive(E)
    board.append(E, head, [Item("EndBallots")])
    assert list(stream) == members
    assert b"".join(archive) == b"".join(archive_bytes(TS, iter(members)))
    assert len(list(board.members(E))) == len(members) + 1


def test_members_by_ranges_of_seq(board, url):
    board.create(E, TS)
    assert board.next_seq(E) == 0
    head = board.append(E, Head(), [setup_item()])
    n = sqlite_backend.PAGE + 3
    board.append(E, head, [ballot(str(i)) for i in range(n)])
    members = list(board.members(E))
    assert board.next_seq(E) == len(members) == 3 + 2 * n
    end = len(members)
    for after, until in ((-1, 0), (-1, 1), (0, 3), (2, 4), (3, 3 + 2 * n), (-1, end + 9)):
        got = list(board.members(E, after_seq=after, until_seq=until))
        assert got == members[after + 1 : max(after + 1, until)], (after, until)
    # ranges end to end give the whole board, one read each: a page and more, or less
    for step in (1, 2, 7, sqlite_backend.PAGE + 1):
        joined = []
        for a in range(0, end, step):
            joined += board.members(E, after_seq=a - 1, until_seq=a + step)
        assert joined == members, step
    with pytest.raises(BoardError, match="no such election"):
        board.next_seq("Nobody")
    # where the board is, for another process to open it again
    other = open_board(board.location)
    try:
        assert list(other.members(E, until_seq=5)) == members[:5]
        assert other.next_seq(E) == end
    finally:
        other.close()
    if backend_of(url) is sqlite_backend:
        assert board.location == os.path.abspath(url)


def test_a_member_read_a_slice_at_a_time(board):
    board.create(E, TS)
    head = board.append(E, Head(), [setup_item()])
    board.append(E, head, [ballot(str(i)) for i in range(3)])
    members = list(board.members(E))
    for m in members:
        c = m.content
        for start, size in ((0, len(c)), (0, 1), (1, 5), (len(c) - 1, 9), (len(c), 4), (3, 0)):
            assert board.member_slice(E, m.seq, start, size) == c[start : start + size]
        pieces = [board.member_slice(E, m.seq, a, 7) for a in range(0, len(c), 7)]
        assert b"".join(pieces) == c
    with pytest.raises(BoardError, match="no member 99"):
        board.member_slice(E, 99, 0, 1)
    with pytest.raises(BoardError, match="no member 0"):
        board.member_slice("Nobody", 0, 0, 1)
    with pytest.raises(ValueError, match="starts at 0"):
        board.member_slice(E, 0, -1, 1)


def test_other_elections_are_independent(board):
    board.create(E, TS)
    board.create("other", TS)
    h1 = board.append(E, Head(), [setup_item("e")])
    h2 = board.append("other", Head(), [setup_item("o")])
    board.append("other", h2, [ballot("x")])
    assert board.head(E) == h1
    assert [m.seq for m in board.members("other")] == [0, 1, 2, 3, 4]
    assert len(list(board.members(E))) == 3


# -- archives of belenios-tool ----------------------------------------------------------------


@pytest.mark.parametrize("name", peer_vector_names())
def test_vector_archive_is_byte_identical(board, name):
    path = PEER_VECTORS / f"{name}.bel"
    timestamp, items = vector_items(path)
    uuid = json.loads((PEER_VECTORS / f"{name}.json").read_text())["uuid"]
    board.create(uuid, timestamp)
    head = Head()
    for item in items:
        head = board.append(uuid, head, [item])
    archive = b"".join(board.archive(uuid))
    assert archive == path.read_bytes()
    report = verify(archive)
    assert report.uuid == uuid


# -- concurrency ------------------------------------------------------------------------------


def append_with_retry(board: Board, election: str, item: Item) -> int:
    """Append ``item`` after whatever the head is; returns the number of conflicts met."""
    conflicts = 0
    while True:
        head = board.head(election)
        try:
            board.append(election, head, [item])
            return conflicts
        except ConflictError:
            conflicts += 1


def check_all_once(board: Board, expected: set[str]) -> None:
    members = list(board.members(E))
    events = check_chain(members)
    data = {m.hash: m.content for m in members if m.kind == "data"}
    ballots = [json.loads(data[e["payload"]])["ballot"] for e in events[1:]]
    assert len(ballots) == len(set(ballots)), "an append is there twice"
    assert set(ballots) == expected, "an append is lost"
    assert board.head(E).height == len(expected)


def test_threads_append_to_one_chain(board):
    threads, per_thread = 4, 15
    board.create(E, TS)
    board.append(E, Head(), [setup_item()])
    conflicts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                conflicts.append(append_with_retry(board, E, ballot(f"{t}.{i}")))
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=60)
    assert not errors, errors
    check_all_once(board, {f"{t}.{i}" for t in range(threads) for i in range(per_thread)})


WRITER = """
import json, os, sys, time
from plebiscite.board import Head, Item, open_board
from plebiscite.errors import ConflictError
url, election, tag, count, go = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
board = open_board(url)
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.002)
conflicts = 0
for i in range(count):
    item = Item("Ballot", (json.dumps({"ballot": f"{tag}.{i}"}).encode(),))
    while True:
        head = board.head(election)
        try:
            board.append(election, head, [item])
            break
        except ConflictError:
            conflicts += 1
board.close()
print("conflicts", conflicts, flush=True)
"""


def test_processes_append_to_one_chain(board, url, tmp_path):
    processes, per_process = 3, 12
    board.create(E, TS)
    board.append(E, Head(), [setup_item()])
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, E, f"p{p}", str(per_process), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in range(processes)
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        go.touch()
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert out.startswith("conflicts")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    check_all_once(board, {f"p{p}.{i}" for p in range(processes) for i in range(per_process)})


# -- durability -------------------------------------------------------------------------------

REPLAYER = """
import json, sys
from pathlib import Path
from plebiscite.board import Head, Item, open_board
from plebiscite.protocol.archive import iter_members, parse_header
url, vector = sys.argv[1], Path(sys.argv[2])
with vector.open("rb") as stream:
    members = iter_members(stream)
    timestamp = int(parse_header(next(members)).timestamp)
    items, data = [], []
    for m in members:
        if m.kind == "data":
            data.append(m.content)
        else:
            items.append(Item(json.loads(m.content)["type"], tuple(data)))
            data = []
board = open_board(url)
round = 0
while True:  # one election after another, until killed
    election = f"e{round}"
    board.create(election, timestamp)
    head = Head()
    for item in items:
        head = board.append(election, head, [item])
        print(election, head.height, head.hash, flush=True)
    round += 1
"""


def replay_until(url: str, acks: int, interrupt) -> list[tuple[str, int, str]]:
    """Run REPLAYER on the board at ``url``; after it acknowledged ``acks`` appends call
    ``interrupt(process)``, kill it; return every append it acknowledged."""
    proc = subprocess.Popen(
        [sys.executable, "-c", REPLAYER, url, str(PEER_VECTORS / "single.bel")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        while len(lines) < acks:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        interrupt(proc)
    finally:
        proc.kill()
        out, err = proc.communicate(timeout=60)
    lines += out.splitlines()  # printed before the interruption: acknowledged too
    assert len(lines) >= acks, err
    acknowledged = []
    for line in lines:
        election, height, hash_ = line.split()
        acknowledged.append((election, int(height), hash_))
    return acknowledged


def check_acknowledged(url: str, acknowledged: list[tuple[str, int, str]]) -> None:
    """Every acknowledged append is on the board at ``url``, nothing half-written is, and
    every archive is a prefix of the original (cut after an event) that verifies."""
    original = (PEER_VECTORS / "single.bel").read_bytes()
    board = open_board(url)
    try:
        elections = board.elections()
        assert {e for e, _, _ in acknowledged} <= set(elections)
        events = {}
        for election in elections:
            chain = check_chain(list(board.members(election)))
            events[election] = {(e["height"], e["hash"]) for e in chain}
            if chain:
                assert board.head(election) == Head(chain[-1]["height"], chain[-1]["hash"])
                archive = b"".join(board.archive(election))
                assert original.startswith(archive)
                verify(archive)
        for election, height, hash_ in acknowledged:
            assert (height, hash_) in events[election], f"acknowledged {election} {height} lost"
    finally:
        board.close()


@pytest.mark.parametrize("acks", [9, 30])
def test_acknowledged_appends_survive_sigkill(url, acks):
    """A writer killed (SIGKILL) at some point of its appends: every append it acknowledged
    is on the reopened board, nothing half-written is, and every archive verifies."""

    def sigkill(proc):
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL

    check_acknowledged(url, replay_until(url, acks, sigkill))


def test_postgres_acknowledged_appends_survive_a_server_crash():
    """The PostgreSQL server itself crashes (immediate shutdown: its shared memory, and any
    WAL not yet flushed, is lost) while a writer appends: after recovery every acknowledged
    append is there (synchronous_commit = on)."""
    try:
        server = PgTestServer.start(dedicated=True)
    except PgTestServerError as exc:
        pytest.fail(f"PostgreSQL could not start: {exc}", pytrace=False)
    try:
        board = open_board(server.dsn)  # open across the crash
        board.elections()
        acknowledged = replay_until(server.dsn, 20, lambda proc: server.crash())
        server.restart()
        check_acknowledged(server.dsn, acknowledged)
        # its pooled connection died with the server: one operation fails, the next reconnects
        try:
            elections = board.elections()
        except BoardError as exc:
            assert "PostgreSQL failed" in str(exc)
            elections = board.elections()
        assert {e for e, _, _ in acknowledged} <= set(elections)
        board.close()
    finally:
        server.stop()


# -- migrations -------------------------------------------------------------------------------


def test_fresh_board_is_at_the_latest_schema_and_reopening_changes_nothing(board, url):
    backend = backend_of(url)
    assert backend.SCHEMA_VERSION == len(backend.MIGRATIONS) >= 2
    assert board.schema_version() == backend.SCHEMA_VERSION
    history = raw_execute(url, "SELECT version, applied_at FROM schema_version ORDER BY version")
    assert [v for v, _ in history] == list(range(1, backend.SCHEMA_VERSION + 1))
    board.create(E, TS)
    board.append(E, Head(), [setup_item()])
    before = snapshot(board)
    for _ in range(2):
        again = open_board(url)
        try:
            assert again.schema_version() == backend.SCHEMA_VERSION
            assert snapshot(again) == before
        finally:
            again.close()
    assert raw_execute(url, "SELECT version, applied_at FROM schema_version ORDER BY version") == (
        history
    )


def test_migration_steps_apply_in_order(url):
    """A database left at version 1 is brought to the latest version when opened; one from a
    newer plebiscite is refused."""
    backend = backend_of(url)
    make_old_schema(url, 1)
    board = open_board(url)
    try:
        assert board.schema_version() == backend.SCHEMA_VERSION
        assert board.elections() == [E]
        board.append(E, Head(), [setup_item()])
    finally:
        board.close()
    # version 2 made the board append-only in the database too
    for statement in ("DELETE FROM members", "UPDATE members SET kind = 'data'"):
        with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
            raw_execute(url, statement)
    raw_execute(url, f"INSERT INTO schema_version VALUES (99, {now_sql(url)})")
    with pytest.raises(BoardError, match="schema is version 99, newer than this plebiscite"):
        open_board(url)


OPENER = """
import os, sys, time
from plebiscite.board import open_board
url, go = sys.argv[1], sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.001)
board = open_board(url)
print(board.schema_version())
board.close()
"""


def test_processes_opening_a_new_board_at_once_migrate_it_once(url, tmp_path):
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        time.sleep(0.5)  # let them import
        go.touch()
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            assert out.strip() == str(backend_of(url).SCHEMA_VERSION)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    versions = raw_execute(url, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(v,) for v in range(1, backend_of(url).SCHEMA_VERSION + 1)]


def test_durability_settings(board, url):
    with board._read(None) as conn:
        if backend_of(url) is pg_backend:
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
            assert conn.execute("SHOW fsync").fetchone() == ("on",)
        else:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
            assert conn.execute("PRAGMA busy_timeout").fetchone() == (
                sqlite_backend.BUSY_TIMEOUT_MS,
            )


# -- opening ----------------------------------------------------------------------------------


def test_open_board_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for url, path in [
        ("plain.sqlite", tmp_path / "plain.sqlite"),
        (str(tmp_path / "abs.sqlite"), tmp_path / "abs.sqlite"),
        ("sqlite:///relative.sqlite", tmp_path / "relative.sqlite"),
        (f"sqlite:///{tmp_path}/absolute.sqlite", tmp_path / "absolute.sqlite"),
    ]:
        board = open_board(url)
        assert isinstance(board, SQLiteBoard)
        board.create(E, TS)
        board.close()
        assert path.exists(), url
        with pytest.raises(BoardError, match="closed"):
            board.head(E)
    for bad in ("mysql://host/db", "sqlite://relative", "sqlite:///", ""):
        with pytest.raises(BoardError):
            open_board(bad)
    with pytest.raises(BoardError, match="SQLite failed"):
        open_board(str(tmp_path / "missing-dir" / "board.sqlite"))


def test_open_board_postgres(pg_server):
    with pg_server.fresh_database() as dsn:
        for url in (dsn, dsn.replace("postgresql://", "postgres://", 1)):
            board = open_board(url)
            try:
                assert isinstance(board, PostgresBoard)
                assert board.schema_version() == pg_backend.SCHEMA_VERSION
            finally:
                board.close()
    with pytest.raises(BoardError, match="PostgreSQL failed"):
        open_board(pg_server.dsn_for("no_such_database"))
