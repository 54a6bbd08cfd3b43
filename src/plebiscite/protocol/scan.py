"""The ballots of an archive verified a byte range at a time, where the range is read: the map
step that leaves the verifier no work per ballot.

A verifier given a scan step (:class:`~plebiscite.protocol.verifier.Verifier`'s ``scan``)
reads the start of the archive itself (its header, the setup's data and the Setup event), then
cuts what follows into byte ranges, each given to :func:`scan_range` where it runs (a worker
process, a Dask worker). :func:`scan_range` reads its range and:

- finds the first member whose tar header begins in it: a block, at a multiple of 512 bytes,
  whose name is ``<sha256>.data.json`` or ``<sha256>.event.json`` ended by a zero byte, with
  its checksum right. The content of a member of a Belenios archive is JSON text, which never
  holds a zero byte: in a valid archive the block found is a header. Whether it is the header
  that the members before it lead to is not trusted but checked by the verifier: the first
  member of each range must begin where the last one the range before it walked ends;
- walks the members from there, header to header by their sizes, as the sequential reader
  does: each header checked, each member's mtime the archive's timestamp, its padding zeros,
  each event's content hashing to its name;
- takes the regular part of the range: pairs of one ballot's data member and its Ballot event
  (the event refers to that member, its height and parent follow the event before it in the
  range), and verifies those ballots (the signature, every proof: the map step of the
  verifier, :func:`~plebiscite.protocol.ballot.verify_ballot_contents`) and routes their
  outcomes into the partitions of the reduce (:func:`~plebiscite.protocol.reduce.route_result`);
- gives back a :class:`ScanSummary`: where its members begin and end, the events before its
  first data member and the data members after its last event (the pieces of the ballots that
  straddle two ranges, which the verifier reads itself), the first and last events of the
  regular part (the verifier links the chain from range to range) and, at the first member
  that is not regular (an event of another type, a member that does not parse, a ballot over
  the size limit, a second data member before an event), where the regular part stops: from
  there the verifier reads the archive by itself, with every check of the sequential reader.

The verifier works per range, never per ballot: the index of a hundred million ballots is
never made nor held anywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from plebiscite.errors import PlebisciteError
from plebiscite.protocol.archive import (
    BLOCK,
    DEFAULT_MAX_MEMBER,
    IndexEntry,
    _check_size,
    _member_header,
    check_member,
)
from plebiscite.protocol.ballot import BallotSetup, verify_ballot_contents
from plebiscite.protocol.jsonvalues import LIMITS
from plebiscite.protocol.messages import Event, parse_event
from plebiscite.protocol.reduce import ChunkProduct, Part, multiply, part_of, route_result

if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["MIN_RANGE", "ScanSummary", "range_bytes", "scan_range"]

# a range's bytes: at least this many (about 50 ballots: a task's cost to the scheduler and
# the verifier's work per range stay small beside the range's), at most MAX_RANGE (its
# ballots' outcomes are held together), about eight ranges a worker
MIN_RANGE = 256 << 10
MAX_RANGE = 64 << 20
# the ballots verified at a time (their outcomes routed, their parsed forms dropped)
CHUNK = 256
_NAME_END = b".json\0"
# where ".json" and its zero byte lie in the header of a data member and of an event
_DATA_AT, _EVENT_AT = 64 + len(".data"), 64 + len(".event")


class ScanSummary(NamedTuple):
    """What :func:`scan_range` found in the range ``[start, until)``."""

    start: int
    until: int
    #: the byte where the first member whose header begins in the range begins (None: none)
    first: int | None
    #: where the last member walked ends (the range's end or beyond): the next range's first
    #: member begins there
    end: int
    #: the events before the range's first data member, their index entries and contents
    lead: list[tuple[IndexEntry, bytes]]
    #: the regular part: where it begins, its ballots, its first and last Ballot events
    body: int | None
    ballots: int
    first_event: Event | None
    last_event: Event | None
    #: the data members after the regular part's last event (the range ends before their
    #: event), when the regular part reaches the range's end
    trail: list[IndexEntry]
    #: where the regular part stops (the first member not in it), or None: it reaches the end
    stop: int | None


def range_bytes(length: int, workers: int) -> int:
    """The size of the ranges for ``length`` bytes on ``workers`` workers: about eight a
    worker, within ``[MIN_RANGE, MAX_RANGE]``, a multiple of a block."""
    size = max(MIN_RANGE, min(MAX_RANGE, length // max(1, 8 * workers)))
    return size - size % BLOCK


class _Reader:
    """The range read forward a piece at a time, as far as it is walked (a range that stops
    at its first member reads no more than that member's header)."""

    def __init__(self, stream: BinaryIO, start: int) -> None:
        self.stream = stream
        self.base = start  # the offset of buf[0]
        self.buf = b""

    def get(self, offset: int, n: int) -> bytes:
        i = offset - self.base
        if i < 0 or i > len(self.buf):  # behind the piece held, or beyond it: read there
            self.stream.seek(offset)
            self.base, self.buf = offset, self.stream.read(max(n, _PIECE))
            return self.buf[:n]
        if i + n > len(self.buf):
            self.stream.seek(self.base + len(self.buf))
            self.buf = self.buf[i:] + self.stream.read(max(n - (len(self.buf) - i), _PIECE))
            self.base, i = offset, 0
        return self.buf[i : i + n]


# what a range reads at a time
_PIECE = 1 << 16


def _first_header(r: _Reader, start: int, end: int) -> int | None:
    """The first block at a multiple of 512 in ``[start, end)`` that is a member's header,
    searched a piece at a time (the pieces overlap by a block: a name across two is found)."""
    for at in range(start, end, _PIECE):
        piece = r.get(at, min(_PIECE, end - at) + BLOCK)
        p = piece.find(_NAME_END)
        while p >= 0:
            for name_end in (_DATA_AT, _EVENT_AT):
                base = at + p - name_end
                if base % BLOCK == 0 and start <= base < end:
                    try:
                        _member_header(r.get(base, BLOCK), base, first=False)
                    except PlebisciteError:
                        continue
                    return base
            p = piece.find(_NAME_END, p + 1)
    return None


def scan_range(
    setup: BallotSetup,
    parts: int,
    timestamp: int,
    stream: BinaryIO,
    start: int,
    end: int,
) -> tuple[ScanSummary, tuple[Part, ...]]:
    """The range ``[start, end)`` of the archive read from ``stream`` (see the module): what
    it holds, and the outcomes of its regular part's ballots routed into ``parts``
    partitions. ``timestamp``: the archive header's, every member's mtime."""
    r = _Reader(stream, start)
    first = _first_header(r, start, end)
    if first is None:
        return ScanSummary(start, end, None, start, [], None, 0, None, None, [], None), ()
    lead: list[tuple[IndexEntry, bytes]] = []
    held: list[tuple[IndexEntry, bytes]] = []  # data members waiting for their event
    body: list[tuple[int, str, IndexEntry, bytes]] = []  # read, not yet verified
    taken, body_at = 0, None
    routed: tuple[Part, ...] = tuple(([], [], [], []) for _ in range(parts))
    products: list[ChunkProduct] = []  # the chunks', made one for the range at its end

    def verify_body() -> None:
        # a chunk at a time: a parsed ballot takes many times its bytes
        res = verify_ballot_contents(setup, body)
        if any(o.error is None for o in res.outcomes):
            products.append(res.product)
        res.product = []
        for into, part in zip(routed, route_result(res, parts), strict=True):
            for a, b in zip(into, part, strict=True):
                a.extend(b)  # type: ignore[attr-defined]
        body.clear()

    first_event: Event | None = None
    last: Event | None = None
    stop: int | None = None
    o = first
    while o < end:
        where = f"archive byte {o}"
        block = r.get(o, BLOCK)
        try:
            if len(block) < BLOCK:
                raise ValueError
            name, kind, hash_, size, mtime = _member_header(block, o, first=False)
            if kind == "data" and size > LIMITS.ballot_bytes:
                raise ValueError  # refused for its size by the verifier, before reading it
            _check_size(
                name, kind, size, len(held), sum(e.size for e, _ in held),
                DEFAULT_MAX_MEMBER, where, first=False,
            )  # fmt: skip
            pad = (-size) % BLOCK
            rest = r.get(o + BLOCK, size + pad)
            if mtime != timestamp or len(rest) < size + pad or rest[size:].strip(b"\0"):
                raise ValueError
        except (PlebisciteError, ValueError):
            stop = held[0][0].offset if held else o
            break
        entry = IndexEntry(kind, hash_, o, size, mtime)
        content = rest[:size]
        nxt = o + BLOCK + size + pad
        if kind == "data":
            held.append((entry, content))
            if len(held) > 1:
                stop = held[0][0].offset
                break
            o = nxt
            continue
        try:
            check_member(entry, content)  # an event hashes to its name
        except PlebisciteError:
            stop = held[0][0].offset if held else o
            break
        if not held and first_event is None:
            lead.append((entry, content))  # its data, if any, in the range before
            o = nxt
            continue
        try:
            ev = parse_event(content, hash_, f"event {hash_}")
        except PlebisciteError:
            ev = None
        data = held[0][0] if held else None
        if (
            ev is None
            or data is None
            or ev.type != "Ballot"
            or ev.payload != data.hash
            or (last is not None and (ev.height != last.height + 1 or ev.parent != last.hash))
        ):
            stop = data.offset if data is not None else o
            break
        body.append((ev.height, ev.hash, data, held[0][1]))
        taken += 1
        body_at = data.offset if body_at is None else body_at
        if len(body) >= CHUNK:
            verify_body()
        held = []
        first_event = first_event or ev
        last = ev
        o = nxt
    trail = [e for e, _ in held] if stop is None else []
    summary = ScanSummary(
        start, end, first, o if stop is None else stop, lead, body_at, taken, first_event, last,
        trail, stop,
    )  # fmt: skip
    if not taken:
        return summary, ()
    if body:
        verify_body()
    if products:
        routed[part_of(b"range %d" % start, parts)][3].append(multiply(setup, products))
    return summary, routed
