"""The public archive (``.bel``) of section 4.4: an old-style (v7) tar, read as a stream.

The first member is ``BELENIOS`` (the header: version and timestamp); every other member is named
``<sha256 of its content>.data.json`` or ``<sha256>.event.json``. The archive grows by appending:
it has no end-of-archive blocks while an election runs (a reader also accepts them at the end).
Each member's mtime equals the header's timestamp.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.errors import EncodingError, SizeError

if TYPE_CHECKING:
    from typing import BinaryIO


__all__ = [
    "BLOCK",
    "DEFAULT_MAX_MEMBER",
    "ArchiveHeader",
    "ArchiveState",
    "ArchiveWriter",
    "Member",
    "archive_state",
    "event_bytes",
    "header_bytes",
    "iter_members",
    "member_bytes",
    "parse_header",
]

BLOCK = 512
DEFAULT_MAX_MEMBER = 256 * 1024 * 1024
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
        raise EncodingError(f"tar {what} field is not octal", where=f"byte {offset}")
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


def iter_members(stream: BinaryIO, *, max_member: int = DEFAULT_MAX_MEMBER) -> Iterator[Member]:
    """Yield the members of an archive one by one, checking the tar layout and file names.

    The first member must be ``BELENIOS``; the content hash of every other member must match its
    name. Sizes are checked against ``max_member`` before a member's content is read.
    """
    offset = 0
    first = True
    while True:
        block = _read_exact(stream, BLOCK)
        if not block:
            if first:
                raise EncodingError("empty archive")
            return
        where = f"archive byte {offset}"
        if len(block) < BLOCK:
            raise EncodingError("truncated tar header", where=where)
        if block == b"\0" * BLOCK:
            # end-of-archive marker: only zero blocks may follow
            rest = stream.read()
            if rest.strip(b"\0"):
                raise EncodingError("data after the end-of-archive marker", where=where)
            if first:
                raise EncodingError("empty archive")
            return
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
        if size > max_member:
            raise SizeError(
                f"member {name!r} has {size} bytes, more than the limit of {max_member}",
                where=where,
            )
        content = _read_exact(stream, size)
        if len(content) < size:
            raise EncodingError(f"member {name!r} is truncated", where=where)
        pad = (-size) % BLOCK
        if pad:
            padding = _read_exact(stream, pad)
            if len(padding) < pad:
                raise EncodingError(f"member {name!r} padding is truncated", where=where)
            if padding.strip(b"\0"):
                raise EncodingError(f"member {name!r} padding is not zeros", where=where)
        if first:
            if name != "BELENIOS":
                raise EncodingError(f"first member is {name!r}, expected 'BELENIOS'", where=where)
            yield Member(name, "header", "", content, offset, mtime)
            first = False
        else:
            m = _NAME.match(name)
            if m is None:
                raise EncodingError(
                    f"member name {name!r} is not '<sha256>.data.json' or '<sha256>.event.json'",
                    where=where,
                )
            digest = hashlib.sha256(content).hexdigest()
            if digest != m.group(1):
                raise EncodingError(f"member {name!r} content hashes to {digest}", where=where)
            yield Member(name, m.group(2), digest, content, offset, mtime)
        offset += BLOCK + size + pad


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
