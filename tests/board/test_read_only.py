"""A board whose database cannot be written for a while (:mod:`readonly`, a real condition of
the database): appends and private writes fail with a BoardError, reads go on, and once it
can be written again the same board object writes again, without being opened again (no
connection opened meanwhile is kept: they would stay read-only)."""

from __future__ import annotations

import pytest

from board.db import TS, E, setup_item
from plebiscite.board import Item, open_board
from plebiscite.board.private import private_of
from plebiscite.errors import BoardError
from readonly import read_only


def read_head(board):
    """The head, read again once if the connection it used was ended (PostgreSQL)."""
    try:
        return board.head(E)
    except BoardError:
        return board.head(E)


def test_a_board_read_only_for_a_while_is_written_again_without_reopening(url):
    board = open_board(url)
    private = private_of(board)
    try:
        board.create(E, TS)
        head = board.append(E, board.head(E), [setup_item()])
        private.put("k", "one", b"1")
        with read_only(url):
            assert read_head(board) == head
            # a second connection opened meanwhile (another request holds the first one)
            with board._pool.borrow():
                assert board.head(E) == head
                assert [m.kind for m in board.members(E)] == ["data", "data", "event"]
            for _ in range(2):
                with pytest.raises(BoardError) as e:
                    board.append(E, head, [Item("EndBallots")])
                assert "failed" in str(e.value)  # SQLite failed: ..., PostgreSQL failed: ...
                with pytest.raises(BoardError):
                    private.put("k", "two", b"2")
            assert board.head(E) == head and private.get("k", "one") == b"1"
            assert private.get("k", "two") is None
        # writable again: the very next writes succeed, on every connection of the pool
        with board._pool.borrow(), board._pool.borrow():
            pass
        new = board.append(E, head, [Item("EndBallots")])
        assert new.height == 1 and board.head(E) == new
        private.put("k", "two", b"2")
        with board._pool.borrow():
            private.put("k", "three", b"3")
        assert [k for k, _ in private.items("k")] == ["one", "three", "two"]
    finally:
        board.close()
