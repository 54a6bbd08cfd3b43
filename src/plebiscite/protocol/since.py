"""Checking that an archive extends an earlier copy of itself (section 3.5.1, step 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from plebiscite.errors import ConsistencyError
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.messages import parse_event

__all__ = ["compare_event_chains"]


def _events(stream: BinaryIO, label: str) -> Iterator[tuple[int, str, str]]:
    for m in iter_members(stream):
        if m.kind == "event":
            e = parse_event(m.content, m.hash, f"{label} event {m.hash}")
            yield e.height, e.hash, e.type


def compare_event_chains(earlier: BinaryIO, later: BinaryIO) -> int:
    """Raise :class:`ConsistencyError` unless every event of ``earlier`` is in ``later`` at the
    same height, in order. Returns the number of events of ``earlier``."""
    new = _events(later, "archive")
    count = 0
    for height, h, typ in _events(earlier, "earlier archive"):
        got = next(new, None)
        if got is None:
            raise ConsistencyError(
                f"event {height} ({typ}, {h}) of the earlier copy was removed: the archive ends "
                "before it",
                where=f"event {height}",
            )
        if got[1] != h:
            raise ConsistencyError(
                f"event {height} ({typ}, {h}) of the earlier copy is replaced by {got[2]} "
                f"{got[1]} (removed, changed or reordered)",
                where=f"event {height}",
            )
        count += 1
    return count
