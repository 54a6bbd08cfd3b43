"""The append-only public board: one archive per election, as a sequence of members.

A board stores, for each election, the archive's timestamp and its members in order (data and
events, section 4.4) and exports the ``.bel`` archive byte for byte as belenios-tool writes it.
It only ever appends: :meth:`Board.append` takes the head (last event) the caller expects and
fails with :class:`~plebiscite.errors.ConflictError` if another append came first
(compare-and-append), so two writers can never fork a board; the append is atomic (all its
members or none) and durable when it returns (SQLite WAL with ``synchronous=FULL``,
PostgreSQL with synchronous commit), so an acknowledged ballot survives a crash.

What is appended is checked by the caller (the server verifies every ballot first); the board
checks only the chain it builds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from plebiscite.protocol.archive import event_bytes, header_bytes, member_bytes

__all__ = ["Board", "Head", "Item", "StoredMember", "archive_bytes", "plan_append"]


@dataclass(frozen=True)
class Head:
    """The last event of an election's board (``height is None``: no event yet)."""

    height: int | None = None
    hash: str | None = None


@dataclass(frozen=True)
class Item:
    """One event to append, preceded by its data members (the last one is its payload)."""

    type: str
    data: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class StoredMember:
    """A member as stored: ``kind`` is ``data`` or ``event``; ``hash`` the SHA256 of
    ``content`` in hexadecimal (the member's name without its suffix)."""

    seq: int
    kind: str
    hash: str
    content: bytes

    @property
    def name(self) -> str:
        return f"{self.hash}.{self.kind}.json"


def plan_append(
    head: Head, items: Sequence[Item], first_seq: int
) -> tuple[list[StoredMember], Head]:
    """The members an append adds after ``head`` (data, then the event chained to the previous
    one), numbered from ``first_seq``, and the new head. Pure: both backends use it."""
    members: list[StoredMember] = []
    height, parent = head.height, head.hash
    seq = first_seq
    for item in items:
        payload = None
        for content in item.data:
            payload = hashlib.sha256(content).hexdigest()
            members.append(StoredMember(seq, "data", payload, content))
            seq += 1
        height = 0 if height is None else height + 1
        content = event_bytes(height, parent, item.type, payload)
        parent = hashlib.sha256(content).hexdigest()
        members.append(StoredMember(seq, "event", parent, content))
        seq += 1
    return members, Head(height, parent)


def archive_bytes(timestamp: int, members: Iterator[StoredMember]) -> Iterator[bytes]:
    """The ``.bel`` archive, member by member: byte-identical to belenios-tool's."""
    yield header_bytes(timestamp)
    for m in members:
        yield member_bytes(m.name, m.content, timestamp)


class Board(Protocol):
    """What every board backend provides (SQLite, PostgreSQL); one contract test suite checks
    both."""

    def create(self, election: str, timestamp: int) -> None:
        """Start the board of ``election`` (its uuid); BoardError if it exists."""

    def elections(self) -> list[str]:
        """The elections on this board, oldest first."""

    def timestamp(self, election: str) -> int:
        """The archive timestamp of ``election``; BoardError if unknown."""

    def head(self, election: str) -> Head:
        """The last event of ``election``."""

    def append(self, election: str, expected: Head, items: Sequence[Item]) -> Head:
        """Append atomically and durably if the head is still ``expected``; ConflictError
        otherwise. Returns the new head."""

    @property
    def location(self) -> str:
        """Where the board is, for a process that opens it again (a tally's worker,
        :func:`~plebiscite.board.open_board` takes it): the SQLite file's absolute path, the
        PostgreSQL DSN. It may hold a password: never logged nor put in a message."""
        ...

    def next_seq(self, election: str) -> int:
        """The number the next member appended takes: the members of ``election`` so far are
        numbered 0 to ``next_seq - 1``, without a gap."""
        ...

    def members(
        self, election: str, *, after_seq: int = -1, until_seq: int | None = None
    ) -> Iterator[StoredMember]:
        """The members of ``election`` in order, those after ``after_seq`` and before
        ``until_seq`` (None: up to the head at the time of the call)."""

    def member_slice(self, election: str, seq: int, start: int, size: int) -> bytes:
        """The ``size`` bytes at ``start`` of the content of member ``seq`` of ``election``
        (fewer where the content ends), read without the rest of it: a piece of a large
        member (a public credential list) for the task that parses that piece;
        BoardError if there is no such member."""
        ...

    def archive(self, election: str) -> Iterator[bytes]:
        """The whole ``.bel`` archive, streamed."""

    def close(self) -> None:
        """Release the connection."""
