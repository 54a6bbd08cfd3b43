"""The archive index (index_archive, read_member) and verification by it: the reading the Dask
path uses, here with the map step run in this process (tests/compute runs it on a cluster)."""

from __future__ import annotations

import functools
import io
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from indexed_cases import VECTORS, ballot_bytes_changed, write_cases
from plebiscite.errors import EncodingError, PlebisciteError
from plebiscite.protocol.archive import (
    BLOCK,
    IndexEntry,
    index_archive,
    iter_members,
    read_member,
)
from plebiscite.protocol.ballot import BallotSetup, ChunkResult, verify_ballot_members
from plebiscite.protocol.verifier import MapStepError, Verifier

ALL = sorted(VECTORS.glob("*/*.bel"))


class _Unseekable(io.RawIOBase):
    """A stream that can only be read forward (a pipe)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b):  # type: ignore[no-untyped-def]
        chunk = self._data.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def _sequential_error(data: bytes) -> PlebisciteError:
    with pytest.raises(PlebisciteError) as e:
        list(iter_members(io.BytesIO(data)))
    return e.value


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_index_gives_where_every_member_lies(path: Path) -> None:
    data = path.read_bytes()
    index = index_archive(io.BytesIO(data))
    members = list(iter_members(io.BytesIO(data)))
    assert index.error is None and len(index) == len(members)
    assert index.nbytes == 57 * len(index)
    stream = io.BytesIO(data)
    for i, m in enumerate(members):
        e = index[i]
        assert (e.kind, e.hash, e.offset, e.mtime) == (m.kind, m.hash, m.offset, m.mtime)
        assert read_member(stream, e) == m.content
    assert index.end == members[-1].offset + BLOCK + -(-len(members[-1].content) // BLOCK) * BLOCK
    # a stream that cannot seek gives the same index
    forward = index_archive(io.BufferedReader(_Unseekable(data)))
    assert [forward[i] for i in range(len(forward))] == [index[i] for i in range(len(index))]


def _cut(data: bytes, at: int) -> bytes:
    return data[:at]


@pytest.mark.parametrize(
    "damage",
    [
        "truncated data member",
        "padding not zeros",
        "trailing bytes",
        "event hash",
        "header checksum",
    ],
)
def test_a_layout_error_ends_the_index_where_a_sequential_reader_meets_it(damage: str) -> None:
    data = bytearray((VECTORS / "belenios3/ed25519.bel").read_bytes())
    members = list(iter_members(io.BytesIO(bytes(data))))
    data_member = next(m for m in members if m.kind == "data" and len(m.content) % BLOCK)
    event = next(m for m in members if m.kind == "event" and m.offset > data_member.offset)
    if damage == "truncated data member":
        data = data[: data_member.offset + BLOCK + 10]
    elif damage == "padding not zeros":
        data[data_member.offset + BLOCK + len(data_member.content)] = 1
    elif damage == "trailing bytes":
        data += b"\0" * 1024 + b"x"
    elif damage == "event hash":
        data[event.offset + BLOCK] ^= 0x20
    else:
        data[event.offset] ^= 1
    expected = _sequential_error(bytes(data))
    index = index_archive(io.BytesIO(bytes(data)))
    assert index.error is not None
    assert (index.error.message, index.error.where) == (expected.message, expected.where)
    indexed_before = [index[i].offset for i in range(len(index))]
    assert indexed_before == [m.offset for m in members if m.offset < indexed_before[-1] + 1]


def test_read_member_checks_the_hash_and_the_range() -> None:
    data = (VECTORS / "belenios3/ed25519.bel").read_bytes()
    index = index_archive(io.BytesIO(data))
    ballot = next(index[i] for i in range(len(index)) if index[i].kind == "data")
    changed = bytearray(data)
    changed[ballot.offset + BLOCK] ^= 1
    with pytest.raises(EncodingError, match="content hashes to") as e:
        read_member(io.BytesIO(bytes(changed)), ballot)
    assert e.value.where == f"archive byte {ballot.offset}"
    beyond = IndexEntry("data", ballot.hash, len(data) - BLOCK, 4096, ballot.mtime)
    with pytest.raises(EncodingError, match="truncated"):
        read_member(io.BytesIO(data), beyond)
    with pytest.raises(PlebisciteError, match="more than the limit"):
        read_member(io.BytesIO(data), ballot, max_size=ballot.size - 1)


def _map_here(
    path: Path, setup: BallotSetup, chunk: list[tuple[int, str, IndexEntry]]
) -> ChunkResult:
    with path.open("rb") as stream:
        return verify_ballot_members(setup, stream, chunk)


def _both(path: Path) -> tuple[dict, dict]:  # type: ignore[type-arg]
    sequential = Verifier(lambda: path.open("rb"), name="a").run()
    indexed = Verifier(
        lambda: path.open("rb"), name="a", map_ballots=functools.partial(_map_here, path)
    ).run()
    return sequential.to_json(), indexed.to_json()


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_cases(tmp_path_factory.mktemp("cases"))


def test_verification_by_the_index_gives_the_same_report(cases: dict[str, Path]) -> None:
    for name, path in cases.items():
        sequential, indexed = _both(path)
        assert indexed == sequential, name


def test_a_ballot_changed_in_place_is_found_by_whoever_reads_it(tmp_path: Path) -> None:
    """Read by the index, a ballot whose content no longer hashes to its name is found by the
    map step (the archive error the sequential reader stops at, as the ballot's finding):
    the same verdict, the same message."""
    sequential, indexed = _both(ballot_bytes_changed(tmp_path))
    assert not sequential["valid"] and not indexed["valid"]
    message = sequential["findings"][0]["message"]
    assert "content hashes to" in message
    assert next(f for f in indexed["findings"] if f["message"] == message)["check"] == "ballot"


@pytest.mark.parametrize("by_index", [False, True], ids=["sequential", "by the index"])
def test_an_archive_changed_between_the_two_passes_is_reported(by_index: bool) -> None:
    """The second pass over replaced ballots does not verify their proofs again: it checks
    instead that it reads the events (hence the ballots) the first pass verified."""
    from tamper import Archive

    path = VECTORS / "belenios/revotes.bel"
    assert Verifier(lambda: path.open("rb")).run().valid
    a = Archive.load(path)
    i = a.payload_index("Ballot", 0)
    a.edit(i, lambda b: b | {"answers": list(reversed(b["answers"]))})
    changed = a.to_bytes()
    opened: list[int] = []

    def opener() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(path.read_bytes() if len(opened) == 1 else changed)

    mapped = functools.partial(_map_here, path) if by_index else None
    report = Verifier(opener, map_ballots=mapped).run()
    assert len(opened) == 2 and not report.valid
    assert any(
        "the archive changed while it was verified" in f.message or "hashes to" in f.message
        for f in report.findings
    )


def _exit(setup: BallotSetup, chunk: list[tuple[int, str, IndexEntry]]) -> ChunkResult:
    os._exit(1)


def test_a_lost_worker_gives_no_verdict_not_an_invalid_one() -> None:
    """An executor's failure (here a process pool whose worker died) is not the archive's:
    MapStepError, never a finding (an OSError from a lost connection is no unreadable
    archive)."""
    path = VECTORS / "belenios3/ed25519.bel"
    with ProcessPoolExecutor(max_workers=1) as pool, pytest.raises(MapStepError) as e:
        Verifier(lambda: path.open("rb"), executor=pool, map_ballots=_exit).run()
    assert isinstance(e.value.__cause__, BrokenProcessPool)
