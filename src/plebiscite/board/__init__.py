"""The append-only public board (SQLite by default, PostgreSQL at scale)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from plebiscite.board.base import Board, Head, Item, StoredMember, archive_bytes, plan_append
from plebiscite.errors import BoardError

if TYPE_CHECKING:  # imported on first use: psycopg takes a fifth of a second to import
    from plebiscite.board.postgres import PostgresBoard
    from plebiscite.board.sqlite import SQLiteBoard

__all__ = [
    "Board",
    "Head",
    "Item",
    "PostgresBoard",
    "SQLiteBoard",
    "StoredMember",
    "archive_bytes",
    "open_board",
    "plan_append",
]


def open_board(url: str) -> Board:
    """Open the board at ``url``: a file path or ``sqlite:///PATH`` (SQLite; as in SQLAlchemy,
    ``sqlite:///board.db`` is relative and ``sqlite:////var/lib/board.db`` absolute), or
    ``postgresql://...`` / ``postgres://...`` (a libpq URI: PostgreSQL)."""
    if url.startswith(("postgresql://", "postgres://")):
        from plebiscite.board.postgres import PostgresBoard

        return PostgresBoard(url)
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if not path.startswith("/") or path == "/":
            raise BoardError(f"SQLite board URL {url!r}: expected sqlite:///PATH")
        url = path[1:]
    elif "://" in url:
        scheme = url.split("://", 1)[0]
        raise BoardError(
            f"unknown board URL scheme {scheme!r}: expected a path, sqlite:///PATH "
            "or postgresql://..."
        )
    if not url:
        raise BoardError("empty board path")
    from plebiscite.board.sqlite import SQLiteBoard

    return SQLiteBoard(url)


def __getattr__(name: str) -> Any:
    if name == "SQLiteBoard":
        from plebiscite.board.sqlite import SQLiteBoard

        return SQLiteBoard
    if name == "PostgresBoard":
        from plebiscite.board.postgres import PostgresBoard

        return PostgresBoard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
