"""The server's encrypted tally read by ranges of the board's members where its tasks run
(:mod:`plebiscite.service.tallyread`), on SQLite and on PostgreSQL: the sequential producer's,
byte for byte, whatever the ranges (of one, two or three members: edges between a ballot's
data and its event, and between two ballots), in this process and on worker processes; a
board that is not there is not made, and a process keeps a few boards open."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from board.test_contract import vector_items
from indexed_cases import VECTORS
from plebiscite.board import Board, Head, Item, open_board
from plebiscite.compute.spill import disk_partition
from plebiscite.protocol.reduce import PoolRunner
from plebiscite.protocol.tally import encrypted_tally_of_board, encrypted_tally_on
from plebiscite.service import tallyread
from plebiscite.service.tallyread import (
    OPEN_BOARDS,
    BoardUnreadableError,
    range_reader,
    read_range,
)

NAMES = ("belenios3/revotes-weighted", "belenios3/nh", "belenios3/lists")


@pytest.fixture(params=["sqlite", "postgres"])
def board(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Board]:
    """A fresh board holding the vectors of NAMES, on each backend."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = str(tmp_path / "board.db")
        else:
            url = stack.enter_context(request.getfixturevalue("pg_server").fresh_database())
        b = stack.enter_context(contextlib.closing(open_board(url)))
        for name in NAMES:
            timestamp, items = vector_items(VECTORS / f"{name}.bel")
            uuid = _uuid(name)
            b.create(uuid, timestamp)
            head = Head()
            for item in items:
                head = b.append(uuid, head, [item])
        yield b


def _uuid(name: str) -> str:
    return str(json.loads((VECTORS / f"{name}.json").read_text())["uuid"])


def _by_ranges(board: Board, uuid: str, runner: Any, size: int, new_partition: Any = None) -> bytes:
    et = encrypted_tally_on(
        board.members(uuid),
        runner,
        read_range=range_reader(board.location, uuid),
        end_seq=board.next_seq(uuid),
        range_size=size,
        new_partition=new_partition,
    )
    return et.json()[0]


@pytest.mark.parametrize("name", NAMES)
def test_a_board_read_by_ranges_gives_the_sequential_tally(board: Board, name: str) -> None:
    uuid = _uuid(name)
    sequential = encrypted_tally_of_board(board.members(uuid)).json()[0]
    for size in (1, 2, 3, 50):
        assert _by_ranges(board, uuid, PoolRunner(None, 1), size) == sequential, size


def test_worker_processes_read_their_ranges_of_the_board(board: Board) -> None:
    uuid = _uuid(NAMES[0])
    sequential = encrypted_tally_of_board(board.members(uuid)).json()[0]
    with ProcessPoolExecutor(2) as pool:
        assert _by_ranges(board, uuid, PoolRunner(pool, 2), 3) == sequential


def test_partitions_on_disk_give_the_same_tally_and_leave_no_file(
    board: Board, tmp_path: Path
) -> None:
    """The server's partitions (disk_partition: a record a run here) give the tally of
    those in memory, in this process and on worker processes; their runs go with them."""
    uuid = _uuid(NAMES[0])
    sequential = encrypted_tally_of_board(board.members(uuid)).json()[0]
    runs = tmp_path / "runs"
    runs.mkdir()
    on_disk = functools.partial(disk_partition, 1, str(runs))
    assert _by_ranges(board, uuid, PoolRunner(None, 1), 2, on_disk) == sequential
    with ProcessPoolExecutor(2) as pool:
        assert _by_ranges(board, uuid, PoolRunner(pool, 2), 2, on_disk) == sequential
    gc.collect()
    assert list(runs.iterdir()) == []


def test_a_board_that_is_not_there_is_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere.db"
    with pytest.raises(BoardUnreadableError, match="SQLite file is not there") as e:
        read_range(str(missing), "E", 0, 10)
    assert str(tmp_path) not in str(e.value)
    assert not missing.exists()


def test_an_election_not_on_the_board_cannot_be_read(board: Board) -> None:
    with pytest.raises(BoardUnreadableError, match="cannot be read where the tally runs"):
        list(read_range(board.location, "Nobody", 0, 10))


def test_a_process_keeps_a_few_boards_open(tmp_path: Path) -> None:
    paths = [str(tmp_path / f"b{i}.db") for i in range(OPEN_BOARDS + 1)]
    for path in paths:
        with contextlib.closing(open_board(path)) as b:
            b.create("E", 0)
            b.append("E", Head(), [Item("Setup", (b"{}", b"{}"))])
    assert [m.kind for m in read_range(paths[0], "E", 0, 3)] == ["data", "data", "event"]
    first = tallyread._boards[paths[0]]
    assert read_range(paths[0], "E", 2, 3)[0].seq == 2
    assert tallyread._boards[paths[0]] is first  # opened once
    for path in paths[1:]:
        read_range(path, "E", 0, 1)
    assert paths[0] not in tallyread._boards  # the least recently used, closed
    assert len([p for p in paths if p in tallyread._boards]) == OPEN_BOARDS
