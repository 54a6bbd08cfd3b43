"""The archive reader's bounds: what follows the last member, declared sizes, data members that
no event refers to. Each is refused before it costs memory or time, with the byte it is at."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import Executor, Future
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import peer_vector
from plebiscite.errors import EncodingError, PlebisciteError, SizeError
from plebiscite.protocol.archive import (
    BLOCK,
    CHUNK,
    MAX_DATA_RUN,
    MAX_SMALL_MEMBER,
    MAX_TRAILER,
    Member,
    event_bytes,
    header_bytes,
    iter_members,
    member_bytes,
)
from plebiscite.protocol.messages import LIMITS
from plebiscite.protocol.report import Report
from plebiscite.protocol.verifier import CHUNK_BYTES, Verifier, verify_archive
from tamper import Archive, Entry, member_header

TS = 1700000000


def data_member(content: bytes, mtime: int = TS) -> bytes:
    return member_bytes(f"{hashlib.sha256(content).hexdigest()}.data.json", content, mtime)


def event_member(content: bytes) -> bytes:
    return member_bytes(f"{hashlib.sha256(content).hexdigest()}.event.json", content, TS)


SETUP = data_member(b'{"setup":true}')
BASE = header_bytes(TS) + SETUP + event_member(event_bytes(0, None, "Setup", "0" * 64))


class Counted(io.RawIOBase):
    """A stream over ``data`` that counts the bytes read from it; ``seekable`` as asked."""

    def __init__(self, data: bytes, *, seekable: bool = True) -> None:
        self._data = io.BytesIO(data)
        self._seekable = seekable
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("tell")
        return self._data.tell()

    def readinto(self, b: memoryview) -> int:  # type: ignore[override]
        n = self._data.readinto(b)
        self.read_bytes += n
        return n


def read_all(stream: io.RawIOBase, **limits: int) -> list[Member]:
    return list(iter_members(stream, **limits))  # type: ignore[arg-type]


def refused(data: bytes, *, seekable: bool = True, **limits: int) -> tuple[PlebisciteError, int]:
    """The error reading ``data`` ends with, and the bytes read before it."""
    stream = Counted(data, seekable=seekable)
    with pytest.raises(PlebisciteError) as info:
        read_all(stream, **limits)
    return info.value, stream.read_bytes


def verify(data: bytes) -> Report:
    return verify_archive(lambda: io.BytesIO(data))


def errors(report: Report) -> list[str]:
    return [f.describe() for f in report.findings if f.severity == "error"]


# -- what follows the last member ----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3 * 4096), seekable=st.booleans())
def test_zero_padding_is_accepted_up_to_its_limit(n: int, seekable: bool) -> None:
    data = BASE + b"\0" * n
    if n <= 4096:
        assert [m.kind for m in read_all(Counted(data, seekable=seekable), max_trailer=4096)] == [
            "header",
            "data",
            "event",
        ]
        return
    err, read = refused(data, seekable=seekable, max_trailer=4096)
    assert isinstance(err, SizeError)
    assert "more than 4096 bytes of zero padding" in err.message
    assert err.where == f"archive byte {len(BASE)}"
    assert read <= len(BASE) + 4096 + 1 + BLOCK  # not the rest of the padding


@settings(max_examples=60, deadline=None)
@given(
    zeros=st.integers(0, 2 * CHUNK + 3),
    byte=st.integers(1, 255),
    after=st.integers(0, 700),
    seekable=st.booleans(),
)
def test_any_other_byte_after_the_last_member_is_refused_at_its_offset(
    zeros: int, byte: int, after: int, seekable: bool
) -> None:
    data = BASE + b"\0" * zeros + bytes([byte]) + b"\xff" * after
    err, _ = refused(data, seekable=seekable)
    at = len(BASE) + zeros
    if zeros >= BLOCK:
        # after a whole block of zeros: the end of the archive, then its padding
        assert isinstance(err, EncodingError)
        assert f"byte {at} is {byte:#04x}, not zero" in err.message
        assert f"ends at byte {len(BASE)}" in err.message
        assert err.where == f"archive byte {at}"
    else:
        # a block that is not zeros where the next member's header would be
        assert err.where == f"archive byte {len(BASE)}"
        if zeros + 1 + after < BLOCK:
            assert "truncated tar header" in err.message
        else:
            assert "checksum" in err.message


def test_the_default_trailer_limit_is_a_mebibyte() -> None:
    assert len(read_all(Counted(BASE + b"\0" * MAX_TRAILER))) == 3
    err, read = refused(BASE + b"\0" * (MAX_TRAILER + 1))
    assert isinstance(err, SizeError) and err.where == f"archive byte {len(BASE)}"
    assert read <= len(BASE) + MAX_TRAILER + 1


# -- declared sizes ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1001, 8**11 - 1), present=st.integers(0, 4096), seekable=st.booleans())
def test_a_data_member_larger_than_the_limit_is_refused_before_it_is_read(
    size: int, present: int, seekable: bool
) -> None:
    name = f"{'a' * 64}.data.json"
    data = BASE + member_header(name, size, TS) + b"x" * present
    err, read = refused(data, seekable=seekable, max_member=1000)
    assert isinstance(err, SizeError)
    assert f"declares {size} bytes, more than the limit of 1000 for a data member" in err.message
    assert err.where == f"archive byte {len(BASE)}"
    assert read <= len(BASE) + BLOCK


@settings(max_examples=20, deadline=None)
@given(size=st.integers(MAX_SMALL_MEMBER + 1, 8**11 - 1))
def test_an_event_larger_than_an_event_can_be_is_refused_before_it_is_read(size: int) -> None:
    data = BASE + member_header(f"{'b' * 64}.event.json", size, TS)
    err, read = refused(data)
    assert isinstance(err, SizeError)
    assert f"more than the limit of {MAX_SMALL_MEMBER} for an event" in err.message
    assert read <= len(BASE) + BLOCK


@settings(max_examples=30, deadline=None)
@given(present=st.integers(0, 3 << 20), seekable=st.booleans())
def test_a_member_declaring_more_than_is_present_is_truncated(present: int, seekable: bool) -> None:
    size = 200 << 20
    data = BASE + member_header(f"{'c' * 64}.data.json", size, TS) + b"\0" * present
    err, read = refused(data, seekable=seekable)
    assert isinstance(err, EncodingError)
    assert f"its header declares {size} bytes, but only {present} follow it" in err.message
    assert err.where == f"archive byte {len(BASE)}"
    assert read <= len(data)  # what is there, not what is declared
    if seekable and present < size:
        assert read <= len(BASE) + BLOCK + (1 << 20)  # told by the stream's size


# -- data members waiting for their event ---------------------------------------------------------


def test_data_members_in_a_row_are_bounded_in_number() -> None:
    run = [data_member(b'{"n":%d}' % i) for i in range(MAX_DATA_RUN + 1)]
    ballot = event_member(event_bytes(1, "0" * 64, "Ballot", None))
    ok = BASE + b"".join(run[:MAX_DATA_RUN]) + ballot
    assert len(read_all(Counted(ok))) == 3 + MAX_DATA_RUN + 1
    at = len(BASE) + sum(map(len, run[:MAX_DATA_RUN]))
    err, read = refused(BASE + b"".join(run) + b"\xff" * 100_000)
    assert isinstance(err, EncodingError)
    assert f"follows {MAX_DATA_RUN} data members with no event" in err.message
    assert err.where == f"archive byte {at}"
    assert read == at + BLOCK


def test_data_members_waiting_for_an_event_are_bounded_in_bytes() -> None:
    first, second = data_member(b"1" * 600), data_member(b"2" * 600)
    err, read = refused(BASE + first + second, max_member=1000)
    assert isinstance(err, SizeError)
    assert "brings the data waiting for the next event to 1200 bytes" in err.message
    assert err.where == f"archive byte {len(BASE) + len(first)}"
    assert read == len(BASE) + len(first) + BLOCK
    # an event between them empties what waits
    ev = event_member(event_bytes(1, "0" * 64, "Ballot", None))
    assert len(read_all(Counted(BASE + first + ev + second), max_member=1000)) == 6


# -- the verifier ----------------------------------------------------------------------------


def single() -> tuple[Archive, bytes]:
    a = Archive.load(peer_vector("single")[0])
    return a, a.to_bytes()


@pytest.mark.parametrize("zeros", [2 * BLOCK, 10240, MAX_TRAILER])
def test_end_of_archive_blocks_and_tar_padding_verify(zeros: int) -> None:
    _, data = single()
    report = verify(data + b"\0" * zeros)
    assert report.valid, errors(report)


def test_a_trailer_is_refused_with_its_offset() -> None:
    _, data = single()
    report = verify(data + b"\0" * 1024 + b"junk")
    assert not report.valid
    assert any(
        f"[archive] byte {len(data) + 1024} is 0x6a, not zero" in e
        and f"archive byte {len(data) + 1024}" in e
        for e in errors(report)
    ), errors(report)
    report = verify(data + b"\0" * (MAX_TRAILER + BLOCK))
    assert any("bytes of zero padding follow the last member" in e for e in errors(report))


def test_data_that_no_event_refers_to_is_refused_and_dropped_at_each_event() -> None:
    a, _ = single()
    mtime = a.entries[0].mtime
    entries: list[Entry] = []
    for e in a.entries:
        if e.kind == "event":
            entries.append(Entry("data", b'{"stray":%d}' % len(entries), mtime))
        entries.append(e)
    report = verify(Archive(entries).to_bytes())
    assert not report.valid
    stray = [e for e in errors(report) if "not referenced by the next event" in e]
    assert len(stray) == sum(e.kind == "event" for e in a.entries)
    assert report.status == "done"  # the rest is verified all the same


def test_many_data_members_with_no_event_stop_the_verification() -> None:
    a, data = single()
    mtime = a.entries[0].mtime
    stray = b"".join(data_member(b'{"stray":%d}' % i, mtime) for i in range(1000))
    report = verify(data + stray)
    assert not report.valid
    at = len(data) + MAX_DATA_RUN * len(data_member(b'{"stray":0}'))
    assert any(
        f"follows {MAX_DATA_RUN} data members" in e and f"archive byte {at}" in e
        for e in errors(report)
    ), errors(report)


def test_an_earlier_copy_is_read_within_the_same_bounds() -> None:
    """``verify --since``: either copy is read by the same reader, so a trailer refuses it."""
    from plebiscite.protocol.since import compare_event_chains

    _, data = single()
    assert compare_event_chains(io.BytesIO(data), io.BytesIO(data + b"\0" * 1024)) == 12
    with pytest.raises(SizeError) as info:
        compare_event_chains(io.BytesIO(data + b"\0" * (MAX_TRAILER + 1)), io.BytesIO(data))
    assert info.value.where == f"archive byte {len(data)}"


class Inline(Executor):
    """An executor that runs each call at once and records the chunks of ballots it gets."""

    _max_workers = 2

    def __init__(self) -> None:
        self.chunks: list[list[tuple[int, str, bytes]]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.chunks.append(args[1])
        f: Future[Any] = Future()
        f.set_result(fn(*args, **kwargs))
        return f


def test_ballots_go_to_the_workers_in_bounded_chunks_and_an_oversized_one_not_at_all() -> None:
    a, _ = single()
    i = a.payload_index("Ballot", 1)
    a.replace_content(i, a.entries[i].content[:-1] + b" " * LIMITS.ballot_bytes + b"}")
    executor = Inline()
    report = Verifier(lambda: io.BytesIO(a.to_bytes()), executor=executor).run()
    assert any(
        f.check == "ballot"
        and f.code == "size"
        and f"more than the limit of {LIMITS.ballot_bytes}" in f.message
        for f in report.findings
    ), errors(report)
    sent = [raw for chunk in executor.chunks for _, _, raw in chunk]
    assert sent and all(len(raw) <= LIMITS.ballot_bytes for raw in sent)
    assert all(
        sum(len(r) for _, _, r in c) <= CHUNK_BYTES + LIMITS.ballot_bytes for c in executor.chunks
    )


def test_chunks_are_cut_at_their_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    import plebiscite.protocol.verifier as verifier

    monkeypatch.setattr(verifier, "CHUNK_BYTES", 1)  # each ballot its own chunk
    _, data = single()
    executor = Inline()
    assert Verifier(lambda: io.BytesIO(data), executor=executor).run().valid
    assert [len(c) for c in executor.chunks] == [1] * len(executor.chunks)
    assert len(executor.chunks) == peer_vector("single")[1]["ballots"]


def test_data_fed_to_a_live_verifier_is_bounded_as_the_reader_bounds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import plebiscite.protocol.verifier as verifier

    _, data = single()
    v = Verifier(lambda: io.BytesIO(data))
    assert v.run().valid
    monkeypatch.setattr(verifier, "DEFAULT_MAX_MEMBER", 1000)
    for content in (b"1" * 600, b"2" * 600):
        v.consume("data", hashlib.sha256(content).hexdigest(), content)
    assert any(
        "the data waiting for the next event has 1200 bytes, more than the limit of 1000" in e
        for e in errors(v.report)
    ), errors(v.report)
