"""The ballots verified a byte range at a time (plebiscite.protocol.scan): the same report as
the reading by the index on every vector, on random damage anywhere in an archive and on
members made to mislead the search for a range's first header, at ranges of every size from
one block; and the ranges do take the ballots of a valid archive."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexed_cases import VECTORS, scanned_verifier, verify_indexed, verify_scanned
from plebiscite.protocol.archive import BLOCK, iter_members, member_bytes
from plebiscite.protocol.ballot import BallotSetup
from plebiscite.protocol.scan import MAX_RANGE, MIN_RANGE, range_bytes, scan_range
from plebiscite.protocol.verifier import Verifier
from tamper import Archive

ALL = sorted(VECTORS.glob("*/*.bel"))
SIZES = [512, 1024, 1536, 4096, 65536]
ED25519 = (VECTORS / "belenios3/ed25519.bel").read_bytes()


def _sequential(data: bytes) -> dict:  # type: ignore[type-arg]
    """The report of the pipeline without the scan: the index read here, ballots by their
    entries (a ballot that does not hash to its name is that ballot's finding, where the
    sequential reader stops with the same message: tests/protocol/test_archive_index.py)."""
    return verify_indexed(data).to_json()


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_vector_gives_the_sequential_report(path: Path) -> None:
    data = path.read_bytes()
    expected = _sequential(data)
    for size in SIZES:
        assert verify_scanned(data, 3, size).to_json() == expected, size


def test_the_ranges_take_the_ballots_of_a_valid_archive() -> None:
    """With ranges of a few ballots (about 5 KiB each here), some ballots are taken from the
    ranges (verified where the range is read), the others (across an edge) here; with one
    range, all of them."""
    v = scanned_verifier(ED25519, 3, 16384)
    assert v.run().valid and 0 < v.scanned < 5
    one = scanned_verifier(ED25519, 3, 1 << 20)
    assert one.run().valid and one.scanned == 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.integers(0, len(ED25519) - 1),
    xor=st.integers(1, 255),
    size=st.sampled_from(SIZES),
)
def test_a_changed_byte_anywhere_gives_the_sequential_report(at: int, xor: int, size: int) -> None:
    data = bytearray(ED25519)
    data[at] ^= xor
    assert verify_scanned(bytes(data), 3, size).to_json() == _sequential(bytes(data))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(at=st.integers(0, len(ED25519)), size=st.sampled_from(SIZES))
def test_a_cut_archive_gives_the_sequential_report(at: int, size: int) -> None:
    data = ED25519[:at]
    assert verify_scanned(data, 3, size).to_json() == _sequential(data)


def _with_member_before_ballot(data: bytes, member: bytes, nth: int = 1) -> bytes:
    """``member`` (whole tar member bytes) inserted before the ``nth`` ballot's data."""
    members = list(iter_members(io.BytesIO(data)))
    ballots = [
        m
        for i, m in enumerate(members[:-1])
        if m.kind == "data" and b'"Ballot"' in members[i + 1].content
    ]
    at = ballots[nth].offset
    return data[:at] + member + data[at:]


def test_a_header_hidden_in_a_member_does_not_mislead_the_ranges() -> None:
    """A data member whose content is itself a valid tar header (a zero byte in it: no JSON
    text has one): a range that begins inside it finds that block first, which is not where
    the members before it lead; the ranges' edges do not link and the archive is read here
    from there: the sequential report."""
    fake = member_bytes("f" * 64 + ".event.json", b"{}", 0)
    content = fake * 4
    # the archive's timestamp as mtime, so that only the stray member is wrong
    timestamp = int(next(iter_members(io.BytesIO(ED25519))).mtime)
    member = member_bytes(f"{hashlib.sha256(content).hexdigest()}.data.json", content, timestamp)
    data = _with_member_before_ballot(ED25519, member)
    expected = _sequential(data)
    assert not expected["valid"]
    for size in SIZES:
        assert verify_scanned(data, 3, size).to_json() == expected, size


def test_a_second_data_member_before_a_ballot_is_read_here() -> None:
    stray = b'{"stray":1}'
    timestamp = int(next(iter_members(io.BytesIO(ED25519))).mtime)
    member = member_bytes(f"{hashlib.sha256(stray).hexdigest()}.data.json", stray, timestamp)
    data = _with_member_before_ballot(ED25519, member, 2)
    expected = _sequential(data)
    assert not expected["valid"]
    for size in SIZES:
        assert verify_scanned(data, 3, size).to_json() == expected, size


def test_a_range_stops_at_the_first_event_that_is_not_a_ballot() -> None:
    members = list(iter_members(io.BytesIO(ED25519)))
    setup_end = next(
        m.offset + BLOCK + -(-len(m.content) // BLOCK) * BLOCK
        for m in members
        if m.kind == "event" and b'"Setup"' in m.content
    )
    end_ballots = next(m for m in members if m.kind == "event" and b'"EndBallots"' in m.content)
    verifier = Verifier(lambda: io.BytesIO(ED25519))
    verifier.run()
    setup = verifier._setup
    assert isinstance(setup, BallotSetup)
    summary, parts = scan_range(
        setup, 2, members[1].mtime, io.BytesIO(ED25519), setup_end, len(ED25519)
    )
    assert summary.first == summary.body == setup_end
    assert summary.ballots == 5 and not summary.lead and not summary.trail
    assert summary.stop == end_ballots.offset
    assert summary.first_event is not None and summary.last_event is not None
    assert summary.last_event.height - summary.first_event.height == 4
    assert len(parts) == 2 and sum(len(p[0]) for p in parts) == 5


def test_range_sizes() -> None:
    assert range_bytes(10, 2) == MIN_RANGE
    assert range_bytes(1 << 40, 2) == MAX_RANGE
    assert range_bytes(100 << 20, 1) % BLOCK == 0


def _with_credentials(fn: Callable[[list[str]], list[str]]) -> bytes:
    a = Archive.load(VECTORS / "belenios3/ed25519.bel")
    setup = a.data(a.payload_index("Setup"))
    a.edit(a.index_of_hash(setup["credentials"]), fn)
    return a.to_bytes()


_OFF = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"  # not in the group


def _off_curve(creds: list[str]) -> list[str]:
    """The third credential replaced by a canonical encoding that is no element of the
    group: found by the membership checks, not by the parse."""
    return [*creds[:2], _OFF, *creds[3:]]


def _non_member_then_bad_encoding(creds: list[str]) -> list[str]:
    """A credential that is no element of the group, then one that is not even an encoding:
    the first in the list's order is the one reported."""
    return [creds[0], _OFF, creds[2], "xyz", *creds[4:]]


@pytest.mark.parametrize("change", [_off_curve, _non_member_then_bad_encoding])
def test_the_credentials_checked_on_the_runner_give_the_first_error(
    change: Callable[[list[str]], list[str]],
) -> None:
    data = _with_credentials(change)
    alone = Verifier(lambda: io.BytesIO(data)).run().to_json()
    assert not alone["valid"] and alone["findings"][0]["check"] == "setup"
    assert verify_scanned(data, 3, 4096).to_json() == alone
    assert verify_indexed(data).to_json() == alone


def test_a_range_verifies_its_ballots_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import plebiscite.protocol.scan as scan

    monkeypatch.setattr(scan, "CHUNK", 2)
    for name in ("belenios3/ed25519", "belenios3/revotes-weighted", "belenios/weighted"):
        data = (VECTORS / f"{name}.bel").read_bytes()
        v = scanned_verifier(data, 3, 1 << 20)
        assert v.run().to_json() == _sequential(data), name
        assert v.scanned >= 3
