"""The public credential list of a large archive parsed where it is read, a byte range at a
time, so that the verifier never holds it (a hundred bytes a voter, parsed).

The verifier that scans an archive (:mod:`plebiscite.protocol.scan`) reads the list's member
itself but keeps none of it: :func:`roll_pieces` checks its size and its SHA-256 as it goes
and cuts it where one string of the list ends and the next begins. Each piece goes to
:func:`roll_range` where it runs (a worker): it parses its strings, checks each credential as
:func:`~plebiscite.protocol.messages.parse_credentials` does (its encoding, its subgroup
membership, its weight) and routes the credentials into the partitions of the reduce
(:func:`~plebiscite.protocol.reduce.part_of`), each part a sorted
:class:`~plebiscite.protocol.reduce.Listed`. :func:`merge_listed` makes each partition's parts
one and finds a credential listed twice (always in one partition).

Only the form Belenios writes is taken this way: ``[`` and ``]`` with no white space, strings
with no escape nor control character, separated by commas alone. In that form every quote
opens or closes a string, so the cuts, made at ``","``, are where strings meet, and a piece
that is a run of such strings says so by itself (a piece is checked whole: quotes, commas,
its characters). Anything else (another form of valid JSON, or an error anywhere) makes a
piece say it is not ``ok``: the verifier then parses the whole list itself, as the sequential
reader does, with the same errors at the same places."""

from __future__ import annotations

import hashlib
import itertools
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from plebiscite.errors import EncodingError, PlebisciteError, SizeError
from plebiscite.protocol.archive import BLOCK, DEFAULT_MAX_MEMBER, IndexEntry
from plebiscite.protocol.ballot import election_context
from plebiscite.protocol.messages import credential_of
from plebiscite.protocol.reduce import Listed, part_of

if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = [
    "ROLL_INLINE",
    "ROLL_PIECE",
    "RollSummary",
    "merge_listed",
    "pieces_of",
    "roll_pieces",
    "roll_range",
]

#: a credential list larger than this is left to the workers (a smaller one is parsed by
#: the verifier: two tasks a partition would cost more than they save)
ROLL_INLINE = 1 << 20
#: the bytes of a piece of the list, about (some 15,000 Ed25519 credentials)
ROLL_PIECE = 1 << 20
_READ = 1 << 20
_CUT = b'","'
# what a piece holds outside its strings' characters when it is in the form taken here
_NOT_IN_FORM = re.compile(rb"[\x00-\x1f\\]")


class RollSummary(NamedTuple):
    """What :func:`roll_range` found in its piece: ``ok`` (every string of the form, every
    credential valid), how many credentials it has, their total weight and the weights other
    than 1."""

    ok: bool
    credentials: int = 0
    weight: int = 0
    weights: dict[str, int] | None = None


def _ranges(cuts: list[int], size: int) -> list[tuple[int, int]]:
    """The pieces' byte ranges of a list of ``size`` bytes cut at ``cuts`` (each a comma's
    place: a piece ends before it, the next begins after it)."""
    bounds = [0, *cuts]
    ends = [*cuts, size]
    return [(a if i == 0 else a + 1, b) for i, (a, b) in enumerate(zip(bounds, ends, strict=True))]


def roll_pieces(
    stream: BinaryIO, entry: IndexEntry, *, piece: int = ROLL_PIECE
) -> list[tuple[int, int]]:
    """The member ``entry`` (the list) read from ``stream`` and checked as
    :func:`~plebiscite.protocol.archive.read_member` checks it (its size within the limit, all
    its bytes there, its SHA-256), none of it kept: the byte ranges ``[a, b)`` of its content
    to give :func:`roll_range`, each about ``piece`` bytes, cut just before the comma of a
    ``","`` (the next one begins after it)."""
    where = f"archive byte {entry.offset}"
    name = f"{entry.hash}.{entry.kind}.json"
    if entry.size > DEFAULT_MAX_MEMBER:
        raise SizeError(
            f"member {name!r} declares {entry.size} bytes, more than the limit of "
            f"{DEFAULT_MAX_MEMBER}",
            where=where,
        )
    stream.seek(entry.offset + BLOCK)
    digest = hashlib.sha256()
    cuts: list[int] = []
    at, tail, next_cut = 0, b"", piece  # bytes read, the last two of them
    while at < entry.size:
        chunk = stream.read(min(_READ, entry.size - at))
        if not chunk:
            raise EncodingError(
                f"member {name!r} is truncated: the index gives {entry.size} bytes, but only "
                f"{at} are there",
                where=where,
            )
        digest.update(chunk)
        seen = tail + chunk  # begins at at - len(tail)
        base = at - len(tail)
        while next_cut < at + len(chunk):
            i = seen.find(_CUT, max(0, next_cut - base))
            if i < 0:
                break
            cuts.append(base + i + 1)  # the comma's place
            next_cut = base + i + 1 + piece
        at += len(chunk)
        tail = seen[-2:]
    if digest.hexdigest() != entry.hash:
        raise EncodingError(f"member {name!r} content hashes to {digest.hexdigest()}", where=where)
    return _ranges(cuts, entry.size)


def pieces_of(raw: bytes, *, piece: int = ROLL_PIECE) -> list[tuple[int, int]]:
    """The byte ranges ``[a, b)`` of a list held whole (``raw``: a board's member, its
    hash checked when the board took it) to give :func:`roll_range`, cut as
    :func:`roll_pieces` cuts a member it reads."""
    cuts: list[int] = []
    at = piece
    while at < len(raw):
        i = raw.find(_CUT, at)
        if i < 0:
            break
        cuts.append(i + 1)  # the comma's place
        at = i + 1 + piece
    return _ranges(cuts, len(raw))


def roll_range(
    election_raw: bytes, parts: int, raw: bytes, first: bool, last: bool, *, decode: bool = True
) -> tuple[Any, ...]:
    """A piece of the list (``raw``; ``first``: it begins the list, ``last``: it ends it)
    parsed and checked (see the module): its :class:`RollSummary`, then its credentials of
    each of the ``parts`` partitions (a :class:`~plebiscite.protocol.reduce.Listed` each).
    ``decode=False``: the credentials' encodings and membership are not checked (a board's
    list, checked when the board took it: see
    :func:`~plebiscite.protocol.messages.parse_credentials`)."""
    nothing = (RollSummary(False), *(Listed(b"", None) for _ in range(parts)))
    if first:
        if not raw.startswith(b"["):
            return nothing
        raw = raw[1:]
    if last:
        if not raw.endswith(b"]"):
            return nothing
        raw = raw[:-1]
    if not raw:  # an empty list, or a piece in no form
        return (RollSummary(first and last), *nothing[1:])
    if not (raw.startswith(b'"') and raw.endswith(b'"')) or len(raw) < 2:
        return nothing
    if _NOT_IN_FORM.search(raw) is not None:
        return nothing
    strings = raw[1:-1].split(_CUT)
    if raw.count(b'"') != 2 * len(strings):  # a quote elsewhere than around the strings
        return nothing
    election, _ = election_context(election_raw)
    group = election.group
    routed: list[list[tuple[str, int]]] = [[] for _ in range(parts)]
    weight, weights = 0, dict[str, int]()
    try:
        for s in strings:
            c = credential_of(s.decode("utf-8"), group, "public credentials", decode=decode)
            routed[part_of(c.public.encode(), parts)].append((c.public, c.weight))
            weight += c.weight
            if c.weight != 1:
                weights[c.public] = c.weight
    except (PlebisciteError, UnicodeDecodeError):
        return nothing
    listed = [Listed.of_sorted(sorted(items)) for items in routed]
    return (RollSummary(True, len(strings), weight, weights or None), *listed)


def merge_listed(*parts: Listed) -> tuple[Listed, bool]:
    """The parts of one partition made one :class:`Listed`, and whether a credential is in
    it twice."""
    items = sorted(item for p in parts for item in p.items())
    twice = any(a[0] == b[0] for a, b in itertools.pairwise(items))
    return Listed.of_sorted(items), twice
