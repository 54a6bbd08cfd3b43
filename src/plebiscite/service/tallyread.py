"""The board read where a closing region's tally runs: the reader step of
:func:`plebiscite.protocol.tally.encrypted_tally_on` (``read_range``) for ``serve --jobs N``
and ``serve --cluster``, so that the server's process reads no ballot and no task carries one.

A task is given where the board is (:attr:`~plebiscite.board.Board.location`: the SQLite
file's absolute path, the PostgreSQL DSN), the election and a range of the board's member
numbers; :func:`read_range` opens the board there (once a process: the board stays open for
the tasks that follow, a few at most) and reads the range. An SQLite board is in WAL mode:
its readers never block the server's writer. A board that cannot be opened or read there
raises :class:`BoardUnreadableError`, which is the runner's failure (the close appends nothing and
is tried again), not the server's board's: its message never holds the location (a DSN may
hold a password).
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict

from plebiscite.board import Board, StoredMember, open_board
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.tally import ReadRange, ReadSlice

__all__ = [
    "OPEN_BOARDS",
    "BoardUnreadableError",
    "range_reader",
    "read_range",
    "read_slice",
    "slice_reader",
]

#: the boards a process keeps open for the tasks that follow
OPEN_BOARDS = 4

_boards: OrderedDict[str, Board] = OrderedDict()
_lock = threading.Lock()


class BoardUnreadableError(RuntimeError):
    """The board cannot be opened or read where a tally's task runs."""


def _board_at(location: str) -> Board:
    """The board at ``location``, opened once in this process (the least recently used one
    closed beyond :data:`OPEN_BOARDS`). An SQLite file that is not there is not made."""
    with _lock:
        board = _boards.get(location)
        if board is not None:
            _boards.move_to_end(location)
            return board
    if not location.startswith(("postgresql://", "postgres://")) and not os.path.isfile(location):
        raise BoardUnreadableError("the board's SQLite file is not there where the tally runs")
    board = open_board(location)
    with _lock:
        first = _boards.setdefault(location, board)  # another thread's, opened meanwhile
        stale = [_boards.popitem(last=False)[1] for _ in range(len(_boards) - OPEN_BOARDS)]
    if first is not board:
        stale.append(board)
    for other in stale:
        other.close()
    return first


def _unreadable(location: str, election: str, e: Exception) -> BoardUnreadableError:
    """The board at ``location`` closed (opened again by the next task), and the error."""
    with _lock:
        board = _boards.pop(location, None)
    if board is not None:
        board.close()
    return BoardUnreadableError(f"the board of {election} cannot be read where the tally runs: {e}")


def read_range(location: str, election: str, a: int, b: int) -> list[StoredMember]:
    """The members of ``election`` numbered ``a`` to ``b - 1`` on the board at ``location``
    (see the module); :class:`BoardUnreadableError` if they cannot be read here."""
    try:
        return list(_board_at(location).members(election, after_seq=a - 1, until_seq=b))
    except BoardUnreadableError:
        raise
    except (PlebisciteError, OSError) as e:
        raise _unreadable(location, election, e) from None


def read_slice(location: str, election: str, seq: int, start: int, size: int) -> bytes:
    """The ``size`` bytes at ``start`` of member ``seq`` of ``election`` on the board at
    ``location`` (a piece of its credential list); :class:`BoardUnreadableError` if they
    cannot be read here."""
    try:
        return _board_at(location).member_slice(election, seq, start, size)
    except BoardUnreadableError:
        raise
    except (PlebisciteError, OSError) as e:
        raise _unreadable(location, election, e) from None


def range_reader(location: str, election: str) -> ReadRange:
    """The reader step of ``election``'s tally on the board at ``location``: picklable, for a
    worker process or a Dask worker."""
    return functools.partial(read_range, location, election)


def slice_reader(location: str, election: str) -> ReadSlice:
    """The slice reader of ``election``'s tally on the board at ``location`` (a piece of its
    credential list): picklable, for a worker process or a Dask worker."""
    return functools.partial(read_slice, location, election)
