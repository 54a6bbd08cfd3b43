"""The public ballot box of one board: every ballot's smart ballot tracker, its height, and
whether it is the last ballot of its credential so far (``counted``) or a later ballot of the
same credential replaced it (``replaced``, with the height of the replacing ballot).

Nothing here is secret: the board itself holds every ballot with its public credential; the
box answers a page without naming any credential. It is kept up to date as the board's members
are indexed (:meth:`BallotBox.add`, called by :class:`~plebiscite.service.election.ElectionState`
for each Ballot event, in board order), so a request never reads the board:

- the heights of the ballots in board order (an ``array`` of 8 bytes a ballot): a page after
  or before a height is two bisections and a slice, whatever the board's size;
- for each ballot the height of the ballot that replaced it (-1: none), another 8 bytes;
- the tracker of each ballot and tracker → height (the same dict the election's tracker look-up
  uses, :attr:`BallotBox.by_tracker`), and the trackers in sorted order (:class:`SortedStrings`,
  blocks of at most 2 × :data:`BLOCK` strings): a prefix search is a bisection and a walk over
  the trackers that start with it, never a scan of the board;
- credential → the position of its last ballot, the credential kept as a 12-byte digest
  (BLAKE2b) whatever the group's size of a public credential.

Paging is by board height: ``after`` (the ballots above a height, first ``limit`` of them),
``before`` (below a height, the last ``limit``), both (that window). A tracker is 43 characters
of Base64 (the ballot's SHA256, without padding, as the booth shows it); a search takes the
whole tracker or a prefix of at least :data:`MIN_PREFIX` characters (:func:`parse_query`).
"""

from __future__ import annotations

import hashlib
import heapq
import re
import threading
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from dataclasses import dataclass

from plebiscite.service.errors import Invalid

__all__ = [
    "BLOCK",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MIN_PREFIX",
    "TRACKER_LENGTH",
    "BallotBox",
    "BoxEntry",
    "BoxPage",
    "BoxQuery",
    "SortedStrings",
    "parse_query",
]

MAX_LIMIT = 500
"""The most ballots one page holds."""
DEFAULT_LIMIT = 100
MIN_PREFIX = 4
"""The shortest tracker prefix searched for."""
TRACKER_LENGTH = 43
"""A smart ballot tracker: the ballot's SHA256 in Base64 without its padding."""
BLOCK = 512
"""The sorted trackers are kept in blocks of BLOCK to 2 × BLOCK strings."""
MAX_HEIGHT = 1 << 53

_TRACKER_CHARS = re.compile(r"[A-Za-z0-9+/]*\Z")
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,15})\Z")


@dataclass(frozen=True)
class BoxQuery:
    """What one page of the ballot box asks for (:func:`parse_query` reads it)."""

    after: int | None = None
    before: int | None = None
    limit: int = DEFAULT_LIMIT
    tracker: str | None = None


def _height(value: str, name: str) -> int:
    if not _DECIMAL.match(value) or int(value) > MAX_HEIGHT:
        raise Invalid(
            "bad_parameter",
            f"{value[:40]!r} is not a board height (a whole number from 0 to {MAX_HEIGHT})",
            where=f"{name} parameter",
        )
    return int(value)


def parse_query(
    after: str | None = None,
    before: str | None = None,
    limit: str | None = None,
    tracker: str | None = None,
) -> BoxQuery:
    """The query of a page from its parameters as they came (text, or None when absent);
    :class:`~plebiscite.service.errors.Invalid` ``bad_parameter`` naming the parameter that is
    wrong. ``tracker``: a space is read as ``+`` (a ``+`` not percent-encoded in a query
    string arrives as a space, also at either end; a tracker holds no space)."""
    q_after = None if after is None else _height(after, "after")
    q_before = None if before is None else _height(before, "before")
    if q_after is not None and q_before is not None and q_before <= q_after + 1:
        raise Invalid(
            "bad_parameter",
            f"before ({q_before}) must be above after + 1 ({q_after + 1}): no ballot lies between",
            where="before parameter",
        )
    q_limit = DEFAULT_LIMIT
    if limit is not None:
        if not _DECIMAL.match(limit) or not 1 <= int(limit) <= MAX_LIMIT:
            raise Invalid(
                "bad_parameter",
                f"{limit[:40]!r} is not a number of ballots from 1 to {MAX_LIMIT}",
                where="limit parameter",
            )
        q_limit = int(limit)
    q_tracker = None
    if tracker is not None:
        t = tracker.replace(" ", "+").strip()
        if not _TRACKER_CHARS.match(t):
            bad = next(c for c in t if not _TRACKER_CHARS.match(c))
            raise Invalid(
                "bad_parameter",
                f"{bad!r} is not a character of a smart ballot tracker (Base64: A-Z, a-z, 0-9, "
                "+ and /, no padding)",
                where="tracker parameter",
            )
        if not MIN_PREFIX <= len(t) <= TRACKER_LENGTH:
            raise Invalid(
                "bad_parameter",
                f"a tracker or its prefix has {MIN_PREFIX} to {TRACKER_LENGTH} characters, "
                f"not {len(t)}",
                where="tracker parameter",
            )
        q_tracker = t
    return BoxQuery(q_after, q_before, q_limit, q_tracker)


class SortedStrings:
    """Strings kept sorted in blocks (each of :data:`BLOCK` to 2 × :data:`BLOCK`, but the
    last): an insertion is a bisection and a move of at most 2 × BLOCK pointers, a prefix
    search a bisection then a walk over what matches."""

    def __init__(self) -> None:
        self._blocks: list[list[str]] = []
        self._maxes: list[str] = []  # the largest string of each block
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, s: str) -> None:
        self._len += 1
        if not self._blocks:
            self._blocks.append([s])
            self._maxes.append(s)
            return
        i = bisect_left(self._maxes, s)
        if i == len(self._blocks):  # past every block: at the end of the last one
            i -= 1
            self._blocks[i].append(s)
            self._maxes[i] = s
        else:
            insort(self._blocks[i], s)
        block = self._blocks[i]
        if len(block) > 2 * BLOCK:
            self._blocks[i : i + 1] = [block[:BLOCK], block[BLOCK:]]
            self._maxes[i : i + 1] = [block[BLOCK - 1], block[-1]]

    def starting_with(self, prefix: str) -> Iterator[str]:
        """The strings that start with ``prefix``, in order."""
        i = bisect_left(self._maxes, prefix)
        while i < len(self._blocks):
            block = self._blocks[i]
            j = bisect_left(block, prefix)
            while j < len(block):
                s = block[j]
                if not s.startswith(prefix):
                    return
                yield s
                j += 1
            i += 1

    def __iter__(self) -> Iterator[str]:
        for block in self._blocks:
            yield from block


@dataclass(frozen=True)
class BoxEntry:
    """One ballot of the box: ``replaced_by`` is the height of the later ballot of the same
    credential, None while it is the last (counted) one."""

    tracker: str
    height: int
    replaced_by: int | None

    @property
    def status(self) -> str:
        return "counted" if self.replaced_by is None else "replaced"

    def to_json(self) -> dict[str, object]:
        return {
            "tracker": self.tracker,
            "height": self.height,
            "status": self.status,
            "replaced_by": self.replaced_by,
            "time": None,
        }


@dataclass(frozen=True)
class BoxPage:
    """A page: its entries (by height), and whether ballots (of the search, if any) lie after
    its last entry and before its first."""

    entries: list[BoxEntry]
    more_after: bool
    more_before: bool


class BallotBox:
    """The ballots of one board in board order, indexed for pages and tracker searches (see
    the module's documentation). Ballots are added in increasing height."""

    def __init__(self, by_tracker: dict[str, int] | None = None) -> None:
        self.heights = array("q")
        self._replaced_by = array("q")
        self._trackers: list[str] = []
        #: tracker -> height of its ballot (given: a dict that holds no other tracker)
        self.by_tracker: dict[str, int] = {} if by_tracker is None else by_tracker
        self._sorted = SortedStrings()
        self._last: dict[bytes, int] = {}  # credential digest -> position of its last ballot
        # held by add and page: a page is read while ballots are appended (other threads)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.heights)

    @property
    def counted(self) -> int:
        """The ballots counted so far: one per credential that cast one."""
        return len(self._last)

    @staticmethod
    def credential_key(credential: str | bytes) -> bytes:
        raw = credential.encode() if isinstance(credential, str) else credential
        return hashlib.blake2b(raw, digest_size=12).digest()

    def add(self, tracker: str, height: int, credential: str | bytes | None) -> None:
        """The ballot ``tracker`` at ``height`` (above every ballot added before), cast with
        the public ``credential`` (None: unknown, the ballot stands alone)."""
        key = None if credential is None else self.credential_key(credential)
        with self._lock:
            if self.heights and height <= self.heights[-1]:
                raise ValueError(f"ballot at height {height} after one at {self.heights[-1]}")
            position = len(self.heights)
            self.heights.append(height)
            self._replaced_by.append(-1)
            self._trackers.append(tracker)
            self.by_tracker[tracker] = height
            self._sorted.add(tracker)
            if key is not None:
                previous = self._last.get(key)
                if previous is not None:
                    self._replaced_by[previous] = height
                self._last[key] = position

    def entry(self, position: int) -> BoxEntry:
        replaced = self._replaced_by[position]
        return BoxEntry(
            self._trackers[position], self.heights[position], None if replaced < 0 else replaced
        )

    def position_of(self, height: int) -> int:
        """The position of the ballot at ``height`` (which must be one)."""
        return bisect_left(self.heights, height)

    def page(self, q: BoxQuery) -> BoxPage:
        """The ballots ``q`` asks for: at most ``q.limit``, by height."""
        with self._lock:
            return self._page(q)

    def _page(self, q: BoxQuery) -> BoxPage:
        if q.tracker is not None:
            return self._search(q)
        heights = self.heights
        lo = 0 if q.after is None else bisect_right(heights, q.after)
        hi = len(heights) if q.before is None else bisect_left(heights, q.before)
        if q.before is not None:
            lo = max(lo, hi - q.limit)
        else:
            hi = min(hi, lo + q.limit)
        lo = min(lo, hi)
        return BoxPage(
            [self.entry(i) for i in range(lo, hi)],
            more_after=hi < len(heights),
            more_before=lo > 0,
        )

    def _search(self, q: BoxQuery) -> BoxPage:
        """The ballots whose tracker starts with ``q.tracker``, in the window of ``q``."""
        assert q.tracker is not None
        low = -1 if q.after is None else q.after
        high = MAX_HEIGHT + 1 if q.before is None else q.before
        below = above = False

        def window() -> Iterator[int]:
            nonlocal below, above
            for t in self._sorted.starting_with(q.tracker or ""):
                h = self.by_tracker[t]
                if h <= low:
                    below = True
                elif h >= high:
                    above = True
                else:
                    yield h

        # the limit + 1 nearest of the window (one more: whether the window goes on)
        if q.before is not None:
            found = sorted(heapq.nlargest(q.limit + 1, window()))
            if len(found) > q.limit:
                found, below = found[1:], True
        else:
            found = heapq.nsmallest(q.limit + 1, window())
            if len(found) > q.limit:
                found, above = found[:-1], True
        return BoxPage(
            [self.entry(self.position_of(h)) for h in found], more_after=above, more_before=below
        )
