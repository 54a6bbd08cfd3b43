"""The public archive (``.bel``) of section 4.4: an old-style (v7) tar, read as a stream.

The first member is ``BELENIOS`` (the header: version and timestamp); every other member is named
``<sha256 of its content>.data.json`` or ``<sha256>.event.json``. The archive grows by appending:
belenios-tool writes no end-of-archive blocks (a reader also accepts them, and any zero padding,
at the end). Each member's mtime equals the header's timestamp. Every data member precedes the
event that refers to it, directly or through another data member (section 4.4's table).

All reading of an archive is here, in :func:`iter_members`, and its memory is bounded whatever
the archive declares or contains:

- a member's content is read only if its declared size is within its limit: ``max_member``
  (256 MiB by default) for a data member, :data:`MAX_SMALL_MEMBER` (4096 bytes) for the header
  and an event. A larger declaration is refused before anything of the member is read, and so
  is a declaration of more bytes than the stream still holds (when it can seek): the time spent
  is that of the bytes actually present;
- the data members waiting for the event that refers to them are at most
  :data:`MAX_DATA_RUN` in a row (an event refers to at most 5) and hold at most ``max_member``
  bytes together, the member being read included. A data member that no event refers to is
  thus held only until the next event, within that bound, and the verifier refuses it there;
- whatever follows the last member is read :data:`CHUNK` bytes at a time and must be zeros (the
  end-of-archive blocks, tar's padding), at most :data:`MAX_TRAILER` bytes of them; any other
  byte, or more zeros than that, is refused with its offset.

So the reader never holds more than ``max_member`` bytes of member content at once (from a
stream that cannot seek, a member larger than 1 MiB is read in 1 MiB pieces and joined: twice
its size for a moment). Each error names the archive byte where the problem is.
"""

from __future__ import annotations

import hashlib
import io
import re
from array import array
from collections.abc import Iterator

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.errors import EncodingError, PlebisciteError, SizeError

if TYPE_CHECKING:
    from typing import BinaryIO


__all__ = [
    "BLOCK",
    "CHUNK",
    "DEFAULT_MAX_MEMBER",
    "MAX_DATA_RUN",
    "MAX_SMALL_MEMBER",
    "MAX_TRAILER",
    "ArchiveHeader",
    "ArchiveIndex",
    "ArchiveState",
    "ArchiveWriter",
    "IndexEntry",
    "Member",
    "archive_state",
    "check_member",
    "event_bytes",
    "header_bytes",
    "index_archive",
    "iter_members",
    "member_bytes",
    "parse_header",
    "read_member",
]

BLOCK = 512
# the content of one data member, and of the data members waiting for one event together
DEFAULT_MAX_MEMBER = 256 * 1024 * 1024
# the header and an event (an event is under 200 bytes; the parsers allow 4096)
MAX_SMALL_MEMBER = 4096
# data members in a row with no event: the most one event refers to is 5 (a Setup event of
# Belenios 3.2 and later: setup data, election, trustees, credentials and their certificate)
MAX_DATA_RUN = 8
# zero bytes after the last member, end-of-archive blocks included: tar pads an archive to its
# record size (10,240 bytes by default), and 1 MiB is a blocking factor of 2048
MAX_TRAILER = 1 << 20
# the piece in which the trailer is read
CHUNK = 1 << 16
# members larger than this are checked against what the stream still holds before being read,
# and read in pieces of this size from a stream that cannot seek
_LARGE = 1 << 20
_NAME = re.compile(r"([0-9a-f]{64})\.(data|event)\.json\Z")


class ArchiveHeader(NamedTuple):
    version: int
    timestamp: str


class Member(NamedTuple):
    """One archive member: ``kind`` is ``header``, ``data`` or ``event``; ``offset`` is the
    byte offset of its tar header in the archive (where a problem is)."""

    name: str
    kind: str
    hash: str
    content: bytes
    offset: int
    mtime: int


def _octal(field: bytes, what: str, offset: int) -> int:
    text = field.rstrip(b"\0 ").lstrip(b" ")
    if not text:
        return 0
    if not re.fullmatch(rb"[0-7]+", text):
        raise EncodingError(f"tar {what} field is not octal", where=f"archive byte {offset}")
    return int(text, 8)


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _remaining(stream: BinaryIO) -> int | None:
    """The bytes the stream holds after its position, or None when it cannot tell."""
    try:
        if not stream.seekable():
            return None
        pos = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(pos)
    except (OSError, ValueError, AttributeError):
        return None
    return end - pos


def _read_content(stream: BinaryIO, size: int, name: str, where: str) -> bytes:
    """A member's ``size`` bytes of content, read in time proportional to the bytes present."""
    if size <= _LARGE:
        content = _read_exact(stream, size)
    else:
        left = _remaining(stream)
        if left is not None and left < size:
            raise EncodingError(
                f"member {name!r} is truncated: its header declares {size} bytes, but only "
                f"{left} follow it",
                where=where,
            )
        if left is not None:
            content = _read_exact(stream, size)  # one allocation of the member's size
        else:
            pieces, got = [], 0
            while got < size:
                piece = stream.read(min(_LARGE, size - got))
                if not piece:
                    break
                pieces.append(piece)
                got += len(piece)
            content = b"".join(pieces)
    if len(content) < size:
        raise EncodingError(
            f"member {name!r} is truncated: its header declares {size} bytes, but only "
            f"{len(content)} follow it",
            where=where,
        )
    return content


def _check_trailer(stream: BinaryIO, start: int, first: bytes, max_trailer: int) -> None:
    """What follows the last member, from archive byte ``start`` (``first`` already read):
    zeros only, at most ``max_trailer`` of them, read :data:`CHUNK` bytes at a time."""
    seen = 0
    chunk = first
    while chunk:
        zeros = len(chunk) - len(chunk.lstrip(b"\0"))
        if zeros < len(chunk):
            at = start + seen + zeros
            raise EncodingError(
                f"byte {at} is {chunk[zeros]:#04x}, not zero: only zero padding may follow the "
                f"last member, which ends at byte {start}",
                where=f"archive byte {at}",
            )
        seen += len(chunk)
        if seen > max_trailer:
            raise SizeError(
                f"more than {max_trailer} bytes of zero padding follow the last member, which "
                f"ends at byte {start}",
                where=f"archive byte {start}",
            )
        chunk = stream.read(min(CHUNK, max_trailer + 1 - seen))


def _member_header(block: bytes, offset: int, *, first: bool) -> tuple[str, str, str, int, int]:
    """The tar header (one full block) of the member at archive byte ``offset``, checked: the
    member's name, kind (``header``, ``data`` or ``event``), the hash its name declares (empty
    for the header), its size and its mtime."""
    where = f"archive byte {offset}"
    stored = _octal(block[148:156], "checksum", offset)
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
    if stored != computed:
        raise EncodingError("tar header checksum mismatch", where=where)
    typeflag = block[156:157]
    if typeflag not in (b"0", b"\0"):
        raise EncodingError(f"tar member type {typeflag!r} is not a regular file", where=where)
    raw_name = block[:100].split(b"\0", 1)[0]
    try:
        name = raw_name.decode("ascii")
    except UnicodeDecodeError:
        raise EncodingError("tar member name is not ASCII", where=where) from None
    size = _octal(block[124:136], "size", offset)
    mtime = _octal(block[136:148], "mtime", offset)
    if first:
        if name != "BELENIOS":
            raise EncodingError(f"first member is {name!r}, expected 'BELENIOS'", where=where)
        return name, "header", "", size, mtime
    m = _NAME.match(name)
    if m is None:
        raise EncodingError(
            f"member name {name!r} is not '<sha256>.data.json' or '<sha256>.event.json'",
            where=where,
        )
    return name, m.group(2), m.group(1), size, mtime


def _check_size(
    name: str,
    kind: str,
    size: int,
    run: int,
    run_bytes: int,
    max_member: int,
    where: str,
    *,
    first: bool,
) -> None:
    """A member's declared size against its limit, and a data member against the data members
    waiting for their event (``run`` of them, ``run_bytes`` together)."""
    if kind == "data":
        if size > max_member:
            raise SizeError(
                f"member {name!r} declares {size} bytes, more than the limit of "
                f"{max_member} for a data member",
                where=where,
            )
        if run >= MAX_DATA_RUN:
            raise EncodingError(
                f"data member {name!r} follows {run} data members with no event between "
                f"them: no event refers to more than 5 (at most {MAX_DATA_RUN} in a row are "
                "read)",
                where=where,
            )
        if run_bytes + size > max_member:
            raise SizeError(
                f"data member {name!r} ({size} bytes) brings the data waiting for the next "
                f"event to {run_bytes + size} bytes, more than the limit of {max_member}",
                where=where,
            )
    elif size > MAX_SMALL_MEMBER:
        raise SizeError(
            f"member {name!r} declares {size} bytes, more than the limit of "
            f"{MAX_SMALL_MEMBER} for {'the header' if first else 'an event'}",
            where=where,
        )


def iter_members(
    stream: BinaryIO,
    *,
    max_member: int = DEFAULT_MAX_MEMBER,
    max_trailer: int = MAX_TRAILER,
) -> Iterator[Member]:
    """Yield the members of an archive one by one, checking the tar layout and file names.

    The first member must be ``BELENIOS``; the content hash of every other member must match its
    name. Sizes are checked (against ``max_member`` for data members, :data:`MAX_SMALL_MEMBER`
    for the header and events, and the data members waiting for their event together against
    ``max_member``) before a member's content is read; what follows the last member must be at
    most ``max_trailer`` zero bytes. See the module's docstring for the memory this takes.
    """
    offset = 0
    first = True
    run = run_bytes = 0  # the data members read since the last event, and their bytes
    while True:
        block = _read_exact(stream, BLOCK)
        if not block:
            if first:
                raise EncodingError("empty archive")
            return
        where = f"archive byte {offset}"
        if block[0] == 0 and block.count(0) == len(block):
            # the end of the archive: end-of-archive blocks and padding, zeros only
            if first:
                raise EncodingError("empty archive: it starts with zeros", where=where)
            _check_trailer(stream, offset, block, max_trailer)
            return
        if len(block) < BLOCK:
            raise EncodingError(
                f"truncated tar header: {len(block)} bytes at the end of the archive", where=where
            )
        name, kind, expected, size, mtime = _member_header(block, offset, first=first)
        _check_size(name, kind, size, run, run_bytes, max_member, where, first=first)
        content = _read_content(stream, size, name, where)
        pad = (-size) % BLOCK
        if pad:
            padding = _read_exact(stream, pad)
            if len(padding) < pad:
                raise EncodingError(f"member {name!r} padding is truncated", where=where)
            if padding.strip(b"\0"):
                raise EncodingError(f"member {name!r} padding is not zeros", where=where)
        if first:
            yield Member(name, kind, "", content, offset, mtime)
            first = False
        else:
            digest = hashlib.sha256(content).hexdigest()
            if digest != expected:
                raise EncodingError(f"member {name!r} content hashes to {digest}", where=where)
            if kind == "data":
                run, run_bytes = run + 1, run_bytes + size
            else:
                run = run_bytes = 0
            yield Member(name, kind, digest, content, offset, mtime)
        offset += BLOCK + size + pad


class IndexEntry(NamedTuple):
    """Where one member lies: ``offset`` is the byte offset of its tar header, its content is
    the ``size`` bytes that follow that header; ``hash`` is the SHA-256 its name declares
    (empty for the header), to be checked against the content when it is read."""

    kind: str
    hash: str
    offset: int
    size: int
    mtime: int


_KINDS = {"header": ord("h"), "data": ord("d"), "event": ord("e")}
_KIND_NAMES = {v: k for k, v in _KINDS.items()}


class ArchiveIndex:
    """Where every member of an archive lies, in archive order: 57 bytes per member (a kind
    byte, the 32 bytes of the hash its name declares, its offset, size and mtime as 64-bit
    integers). Made by :func:`index_archive`; read members with :func:`read_member`.

    ``error`` is the layout error that ended the index (the members before it are indexed), to
    be raised where a sequential reader would have met it, after the members before it;
    ``end`` is the byte where the last member indexed ends."""

    __slots__ = ("_hashes", "_kinds", "_mtimes", "_offsets", "_sizes", "end", "error")

    def __init__(self) -> None:
        self._kinds = bytearray()
        self._hashes = bytearray()
        self._offsets = array("q")
        self._sizes = array("q")
        self._mtimes = array("q")
        self.error: PlebisciteError | None = None
        self.end = 0

    def _add(self, kind: str, hash_: str, offset: int, size: int, mtime: int) -> None:
        self._kinds.append(_KINDS[kind])
        self._hashes += bytes.fromhex(hash_) if hash_ else bytes(32)
        self._offsets.append(offset)
        self._sizes.append(size)
        self._mtimes.append(mtime)

    def __len__(self) -> int:
        return len(self._kinds)

    def __getitem__(self, i: int) -> IndexEntry:
        kind = _KIND_NAMES[self._kinds[i]]
        hash_ = "" if kind == "header" else self._hashes[32 * i : 32 * i + 32].hex()
        return IndexEntry(kind, hash_, self._offsets[i], self._sizes[i], self._mtimes[i])

    def next_event(self, i: int) -> int | None:
        """The position of the first event after member ``i``, or None."""
        j = self._kinds.find(_KINDS["event"], i + 1)
        return None if j < 0 else j

    @property
    def nbytes(self) -> int:
        """The memory the index takes, its entries' arrays."""
        return (
            len(self._kinds)
            + len(self._hashes)
            + 8 * (len(self._offsets) + len(self._sizes) + len(self._mtimes))
        )


def index_archive(
    stream: BinaryIO,
    *,
    max_member: int = DEFAULT_MAX_MEMBER,
    max_trailer: int = MAX_TRAILER,
    start: int = 0,
    max_events: int | None = None,
) -> ArchiveIndex:
    """Index an archive in one sequential pass: where each member lies, with every check of
    :func:`iter_members` except the hashes of the data members, whose content is skipped (by
    seeking, when the stream can): whoever reads a data member by the index checks its hash
    then (:func:`read_member`). The header and the events, small, are read and their hashes
    checked here. A layout error ends the index and is kept in it (:attr:`ArchiveIndex.error`),
    not raised. The memory taken is the index's own (57 bytes per member) and one event.

    ``start``: the byte where a member begins (after an event: no data member waits) to index
    from, the header being before it; ``max_events``: the index ends after that many events
    (:attr:`ArchiveIndex.end` is then where the last one ends)."""
    index = ArchiveIndex()
    offset = start
    first = start == 0
    if start:
        stream.seek(start)
    run = run_bytes = 0
    seekable = _remaining(stream) is not None
    events = 0
    try:
        while max_events is None or events < max_events:
            block = _read_exact(stream, BLOCK)
            if not block:
                if first:
                    raise EncodingError("empty archive")
                return index
            where = f"archive byte {offset}"
            if block[0] == 0 and block.count(0) == len(block):
                if first:
                    raise EncodingError("empty archive: it starts with zeros", where=where)
                _check_trailer(stream, offset, block, max_trailer)
                return index
            if len(block) < BLOCK:
                raise EncodingError(
                    f"truncated tar header: {len(block)} bytes at the end of the archive",
                    where=where,
                )
            name, kind, expected, size, mtime = _member_header(block, offset, first=first)
            _check_size(name, kind, size, run, run_bytes, max_member, where, first=first)
            pad = (-size) % BLOCK
            if kind == "data":
                left = _remaining(stream) if seekable else None
                if left is not None:
                    if left < size:
                        raise EncodingError(
                            f"member {name!r} is truncated: its header declares {size} bytes, "
                            f"but only {left} follow it",
                            where=where,
                        )
                    stream.seek(size, io.SEEK_CUR)
                else:
                    got = 0
                    while got < size:
                        piece = stream.read(min(_LARGE, size - got))
                        if not piece:
                            raise EncodingError(
                                f"member {name!r} is truncated: its header declares {size} "
                                f"bytes, but only {got} follow it",
                                where=where,
                            )
                        got += len(piece)
                run, run_bytes = run + 1, run_bytes + size
            else:
                content = _read_content(stream, size, name, where)
                if not first:
                    digest = hashlib.sha256(content).hexdigest()
                    if digest != expected:
                        raise EncodingError(
                            f"member {name!r} content hashes to {digest}", where=where
                        )
                run = run_bytes = 0
            if pad:
                padding = _read_exact(stream, pad)
                if len(padding) < pad:
                    raise EncodingError(f"member {name!r} padding is truncated", where=where)
                if padding.strip(b"\0"):
                    raise EncodingError(f"member {name!r} padding is not zeros", where=where)
            index._add(kind, expected, offset, size, mtime)
            events += kind == "event"
            first = False
            offset += BLOCK + size + pad
            index.end = offset
    except PlebisciteError as e:
        index.error = e
    return index


def read_member(
    stream: BinaryIO, entry: IndexEntry, *, max_size: int = DEFAULT_MAX_MEMBER
) -> bytes:
    """The content of the member ``entry`` of an index, read from its byte range and checked:
    its size within ``max_size``, its SHA-256 equal to the hash its name declares."""
    where = f"archive byte {entry.offset}"
    name = "BELENIOS" if entry.kind == "header" else f"{entry.hash}.{entry.kind}.json"
    if entry.size > max_size:
        raise SizeError(
            f"member {name!r} declares {entry.size} bytes, more than the limit of {max_size}",
            where=where,
        )
    stream.seek(entry.offset + BLOCK)
    return check_member(entry, _read_exact(stream, entry.size))


def check_member(entry: IndexEntry, content: bytes) -> bytes:
    """``content``, read for the member ``entry`` of an index, checked: all its bytes there,
    its SHA-256 equal to the hash its name declares."""
    where = f"archive byte {entry.offset}"
    name = "BELENIOS" if entry.kind == "header" else f"{entry.hash}.{entry.kind}.json"
    if len(content) < entry.size:
        raise EncodingError(
            f"member {name!r} is truncated: the index gives {entry.size} bytes, but only "
            f"{len(content)} are there",
            where=where,
        )
    if entry.kind != "header":
        digest = hashlib.sha256(content).hexdigest()
        if digest != entry.hash:
            raise EncodingError(f"member {name!r} content hashes to {digest}", where=where)
    return content


def parse_header(member: Member) -> ArchiveHeader:
    where = "archive header BELENIOS"
    obj = strictjson.loads(member.content, max_size=4096, where=where)
    if not isinstance(obj, dict) or set(obj) != {"version", "timestamp"}:
        raise EncodingError("header must have exactly 'version' and 'timestamp'", where=where)
    version, timestamp = obj["version"], obj["timestamp"]
    if type(version) is not int or version != 1:
        raise EncodingError(f"unsupported archive version {version!r}", where=where)
    if not isinstance(timestamp, str) or not re.fullmatch(r"(?:0|[1-9][0-9]{0,18})", timestamp):
        raise EncodingError("timestamp must be a decimal string", where=where)
    return ArchiveHeader(version, timestamp)


def member_bytes(name: str, content: bytes, mtime: int) -> bytes:
    """One v7 tar member exactly as Belenios writes it: mode 0644, uid and gid 0, no magic."""
    if len(name) > 99:
        raise ValueError("tar member name too long")
    header = bytearray(BLOCK)
    header[0 : len(name)] = name.encode("ascii")
    header[100:108] = b"0000644\0"
    header[108:116] = b"0000000\0"
    header[116:124] = b"0000000\0"
    header[124:136] = b"%011o\0" % len(content)
    header[136:148] = b"%011o\0" % mtime
    header[148:156] = b" " * 8
    header[156:157] = b"0"
    checksum = sum(header)
    header[148:156] = b"%06o\0 " % checksum
    return bytes(header) + content + b"\0" * ((-len(content)) % BLOCK)


class ArchiveState:
    """Where an archive stands: its timestamp and last event (``None`` before Setup)."""

    __slots__ = ("last_hash", "last_height", "timestamp")

    def __init__(
        self, timestamp: int, last_height: int | None = None, last_hash: str | None = None
    ) -> None:
        self.timestamp, self.last_height, self.last_hash = timestamp, last_height, last_hash

    def __repr__(self) -> str:
        return f"ArchiveState({self.timestamp}, {self.last_height}, {self.last_hash!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchiveState) and (
            self.timestamp,
            self.last_height,
            self.last_hash,
        ) == (other.timestamp, other.last_height, other.last_hash)

    __hash__ = None  # type: ignore[assignment]


def archive_state(stream: BinaryIO) -> ArchiveState:
    """Read an archive to the end and return what appending to it needs."""
    members = iter_members(stream)
    state = ArchiveState(int(parse_header(next(members)).timestamp))
    for m in members:
        if m.kind == "event":
            where = f"event {m.hash}"
            event = strictjson.loads(m.content, max_size=1 << 20, where=where)
            height = event.get("height") if isinstance(event, dict) else None
            if type(height) is not int:
                raise EncodingError("an event without an integer height", where=where)
            state.last_height = height
            state.last_hash = m.hash
    return state


def header_bytes(timestamp: int) -> bytes:
    """The ``BELENIOS`` member that starts an archive."""
    content = b'{"version":1,"timestamp":"%d"}' % timestamp
    return member_bytes("BELENIOS", content, timestamp)


def event_bytes(height: int, parent: str | None, type_: str, payload: str | None) -> bytes:
    """An event (section 4.4) exactly as Belenios serializes it: parent, height, type, payload."""
    fields = []
    if parent is not None:
        fields.append(f'"parent":"{parent}"')
    fields.append(f'"height":{height}')
    fields.append(f'"type":"{type_}"')
    if payload is not None:
        fields.append(f'"payload":"{payload}"')
    return ("{" + ",".join(fields) + "}").encode()


class ArchiveWriter:
    """Appends data and events to an archive stream, exactly as Belenios does: each data member
    before the event that refers to it, the event chained to the previous one."""

    def __init__(self, stream: BinaryIO, state: ArchiveState) -> None:
        self.stream = stream
        self.state = state

    def data(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        self.stream.write(member_bytes(f"{digest}.data.json", content, self.state.timestamp))
        return digest

    def event(self, type_: str, payload: str | None = None) -> str:
        st = self.state
        height = 0 if st.last_height is None else st.last_height + 1
        content = event_bytes(height, st.last_hash, type_, payload)
        digest = hashlib.sha256(content).hexdigest()
        self.stream.write(member_bytes(f"{digest}.event.json", content, st.timestamp))
        st.last_height, st.last_hash = height, digest
        return digest
