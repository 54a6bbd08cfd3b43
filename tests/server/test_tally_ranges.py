"""The server's encrypted tally read by ranges of the board's members where its tasks run
(:mod:`plebiscite.service.tallyread`), on SQLite and on PostgreSQL: the sequential producer's,
byte for byte, whatever the ranges (of one, two or three members: edges between a ballot's
data and its event, and between two ballots), in this process and on worker processes, the
credential list parsed there too, by pieces; a board that is not there is not made, and a
process keeps a few boards open."""

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
from plebiscite.protocol.reduce import PARTITION_BALLOTS, PoolRunner
from plebiscite.protocol.tally import encrypted_tally_of_board, encrypted_tally_on
from plebiscite.service import tallyread
from plebiscite.service.tallyread import (
    OPEN_BOARDS,
    BoardUnreadableError,
    range_reader,
    read_range,
    read_slice,
    slice_reader,
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
            load_vector(b, name)
        yield b


def load_vector(board: Board, name: str) -> str:
    """The vector ``name`` appended to ``board`` an item at a time; its uuid."""
    timestamp, items = vector_items(VECTORS / f"{name}.bel")
    uuid = _uuid(name)
    board.create(uuid, timestamp)
    head = Head()
    for item in items:
        head = board.append(uuid, head, [item])
    return uuid


def _uuid(name: str) -> str:
    return str(json.loads((VECTORS / f"{name}.json").read_text())["uuid"])


def _by_ranges(
    board: Board, uuid: str, runner: Any, size: int, new_partition: Any = None, **roll: Any
) -> bytes:
    et = encrypted_tally_on(
        board.members(uuid),
        runner,
        read_range=range_reader(board.location, uuid),
        end_seq=board.next_seq(uuid),
        range_size=size,
        new_partition=new_partition,
        **roll,
    )
    return et.json()[0]


def _rolled(board: Board, uuid: str, piece: int, read: Any = None) -> dict[str, Any]:
    """The options of a tally whose credential list, however short, is parsed by the tasks,
    pieces of about ``piece`` bytes read by ``read`` (the board's slices)."""
    read = slice_reader(board.location, uuid) if read is None else read
    return {"read_slice": read, "roll_inline": 0, "roll_piece": piece}


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
        rolled = _rolled(board, uuid, 1)
        assert _by_ranges(board, uuid, PoolRunner(pool, 2), 3, **rolled) == sequential


@pytest.mark.parametrize("name", NAMES)
def test_the_credential_list_parsed_by_the_tasks_gives_the_sequential_tally(
    board: Board, name: str
) -> None:
    """Pieces of the list read where they are parsed, a credential each or more, the weights
    other than 1 among them (revotes-weighted), the partitions' lists kept on the runner."""
    uuid = _uuid(name)
    sequential = encrypted_tally_of_board(board.members(uuid)).json()[0]
    for piece in (1, 60, 1 << 20):
        for parts in (1, 3):
            got = _by_ranges(board, uuid, PoolRunner(None, 1), 2, **_rolled(board, uuid, piece),
                             ballots=parts * PARTITION_BALLOTS)  # fmt: skip
            assert got == sequential, (piece, parts)


def test_a_list_not_in_the_form_taken_by_pieces_is_parsed_here(board: Board) -> None:
    """A piece whose bytes are not in Belenios's form (white space: valid JSON all the same)
    makes the list parsed whole (on the runner for the setup, by the tally's caller for the
    end), for the same tally; the pieces' bytes repeated (a credential listed twice) are
    refused."""
    uuid = _uuid(NAMES[0])
    sequential = encrypted_tally_of_board(board.members(uuid)).json()[0]
    read = slice_reader(board.location, uuid)

    def spaced(seq: int, start: int, size: int) -> bytes:
        return read(seq, start, size).replace(b"[", b"[ ")

    got = _by_ranges(board, uuid, PoolRunner(None, 1), 2, **_rolled(board, uuid, 1, spaced))
    assert got == sequential

    def twice(seq: int, start: int, size: int) -> bytes:
        raw = read(seq, start, size)
        return raw[:-1] + b"," + raw[1:] if raw.startswith(b"[") and raw.endswith(b"]") else raw

    with pytest.raises(ValueError, match="holds a credential twice"):
        _by_ranges(board, uuid, PoolRunner(None, 1), 2, **_rolled(board, uuid, 1 << 20, twice))


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
    with pytest.raises(BoardUnreadableError, match="cannot be read where the tally runs"):
        read_slice(board.location, "Nobody", 0, 0, 10)
    assert read_slice(board.location, _uuid(NAMES[0]), 0, 0, 1) == b"{"


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
