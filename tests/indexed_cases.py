"""Archives on which verification by the index (the Dask path's reading) must give the same
report as the sequential reading: the vectors of both records and tampered copies of them,
written as files (workers read archives by path)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plebiscite.protocol.ballot import BallotSetup, ChunkResult, verify_ballot_members
from plebiscite.protocol.reduce import PoolRunner
from plebiscite.protocol.report import Report
from plebiscite.protocol.roll import roll_range
from plebiscite.protocol.scan import ScanSummary, scan_range
from plebiscite.protocol.verifier import Verifier
from tamper import Archive, Entry

VECTORS = Path(__file__).resolve().parent / "vectors"

# a representative set: both records, revotes, weights, threshold, non-homomorphic, Lists
VALID = [
    "belenios/revotes",
    "belenios/weighted",
    "belenios/threshold",
    "belenios/nh",
    "belenios/open",
    "belenios3/ed25519",
    "belenios3/lists",
    "belenios3/nh",
    "belenios3/revotes-weighted",
]


def _load(name: str) -> Archive:
    return Archive.load(VECTORS / f"{name}.bel")


def _edit_ballot(name: str, nth: int, fn: Callable[[dict[str, Any]], None]) -> Archive:
    a = _load(name)
    i = a.payload_index("Ballot", nth)
    ballot = a.data(i)
    fn(ballot)
    return a.replace_content(i, json.dumps(ballot, separators=(",", ":")).encode())


def _bump_signature(b: dict[str, Any]) -> None:
    s = b["signature"]["proof"]
    s["response"] = str(int(s["response"]) + 1)


def _bump_result(r: dict[str, Any]) -> dict[str, Any]:
    r["result"][0][0] += 1
    return r


def _copy_ballot(name: str) -> Archive:
    """The second ballot replaced by the first (the same credential voting twice at once)."""
    a = _load(name)
    first = a.entries[a.payload_index("Ballot", 0)].content
    return a.replace_content(a.payload_index("Ballot", 1), first)


def _stray_data(name: str) -> Archive:
    """A data member no event refers to, just before a Ballot event's data."""
    a = _load(name)
    i = a.payload_index("Ballot", 1)
    a.entries.insert(i, Entry("data", b'{"stray":true}', a.entries[0].mtime))
    return a


def _oversized_ballot(name: str) -> Archive:
    """A ballot of 2 MiB, over the 1 MiB limit of a ballot."""
    a = _load(name)
    return a.replace_content(a.payload_index("Ballot", 2), b'{"x":"' + b"1" * (2 << 20) + b'"}')


def _edit_list(name: str, fn: Callable[[list[str]], bytes]) -> Archive:
    """The public credential list rewritten by ``fn`` (its text), the hashes after it made
    again."""
    a = _load(name)
    i = a.index_of_hash(a.data(a.payload_index("Setup"))["credentials"])
    return a.replace_content(i, fn(a.data(i)))


def _escaped(creds: list[str]) -> bytes:
    """The same list, its first credential's first character written as an escape."""
    text = json.dumps(creds, separators=(",", ":"))
    return (f'["\\u{ord(creds[0][0]):04x}' + text[3:]).encode()


def _owned_edited(name: str, kind: str, fn: Callable[[Any], Any]) -> Archive:
    """The data owned by the first ``kind`` event (a shuffle, a partial decryption) rewritten
    by ``fn``, the hashes after it made again."""
    a = _load(name)
    owned = a.data(a.payload_index(kind))
    return a.edit(a.index_of_hash(owned["payload"]), fn)


def _swapped(xs: list[Any], i: int, j: int) -> list[Any]:
    xs[i], xs[j] = xs[j], xs[i]
    return xs


def _tampered() -> dict[str, Archive]:
    a_removed = _load("belenios/single").remove_event(3)
    a_result = _load("belenios/single")
    a_result.edit(a_result.payload_index("Result"), _bump_result)
    a_tally = _load("belenios3/ed25519")
    a_tally.edit(
        a_tally.payload_index("EncryptedTally"),
        lambda st: st | {"num_tallied": st["num_tallied"] + 1},
    )
    return {
        "signature-2.0": _edit_ballot("belenios/single", 0, _bump_signature),
        "signature-3.x": _edit_ballot("belenios3/ed25519", 1, _bump_signature),
        "copied-ballot": _copy_ballot("belenios3/ed25519"),
        "removed-ballot": a_removed,
        "result": a_result,
        "num-tallied": a_tally,
        "stray-data": _stray_data("belenios3/ed25519"),
        "oversized-ballot": _oversized_ballot("belenios3/ed25519"),
        # a shuffle's t_hat (a proof is [t, s, c, c_hat], t = [t1, t2, t3, t4, t_hat]) and a
        # partial decryption's factors swapped: the checks by parts refuse them as one
        # process does
        "shuffle-proof": _owned_edited(
            "belenios3/nh",
            "Shuffle",
            lambda sh: (
                sh
                | {
                    "proofs": [
                        [[*p[0][:4], _swapped(p[0][4], 0, -1)], *p[1:]] for p in sh["proofs"]
                    ]
                }
            ),
        ),
        "decryption-proof": _owned_edited(
            "belenios/nh",
            "PartialDecryption",
            lambda pd: (
                pd
                | {"decryption_factors": [_swapped(col, 0, 1) for col in pd["decryption_factors"]]}
            ),
        ),
        # the credential list in another form of the same JSON (valid), a credential listed
        # twice, one that is not an element (invalid): the workers' pieces of the list give
        # way to the whole list read by the verifier
        "list-spaced": _edit_list("belenios/weighted", lambda c: json.dumps(c).encode()),
        "list-escaped": _edit_list("belenios3/ed25519", _escaped),
        "list-twice": _edit_list(
            "belenios3/ed25519", lambda c: json.dumps([*c, c[0]], separators=(",", ":")).encode()
        ),
        "list-not-element": _edit_list(
            "belenios/single",
            lambda c: json.dumps(["7" * 10, *c[1:]], separators=(",", ":")).encode(),
        ),
    }


def write_cases(directory: Path) -> dict[str, Path]:
    """Every case as a file in ``directory``: the valid vectors as they are, the tampered
    copies written there; by name."""
    paths = {name: VECTORS / f"{name}.bel" for name in VALID}
    for name, archive in _tampered().items():
        paths[name] = archive.write(directory / f"{name}.bel")
    return paths


def ballot_bytes_changed(directory: Path) -> Path:
    """A ballot's content changed in place, its member name (its hash) left as it was."""
    data = bytearray((VECTORS / "belenios3/ed25519.bel").read_bytes())
    pos = data.find(b'"election_uuid"')
    data[pos + 1] = ord("E")
    path = directory / "changed-in-place.bel"
    path.write_bytes(bytes(data))
    return path


def verify_partitioned(data: bytes, partitions: int = 3) -> Report:
    """The archive ``data`` verified by the pipeline of ``--cluster`` and ``--jobs``: read by
    its index, each chunk of ballots read from its byte ranges, the reduce partitioned by
    credential (here ``partitions`` of them, in this process). The pipeline's scan of byte
    ranges (:mod:`plebiscite.protocol.scan`), at ranges of several sizes (members across
    every kind of edge), gives the same report; it is returned."""

    indexed = verify_indexed(data, partitions)
    for size in SCAN_SIZES:
        scanned = verify_scanned(data, partitions, size)
        assert scanned.to_json() == indexed.to_json(), f"ranges of {size} bytes"
    return indexed


def verify_indexed(data: bytes, partitions: int = 3) -> Report:
    """``data`` verified by its index, the ballots read by their index entries, the reduce
    partitioned (the pipeline without the scan), the credentials' membership checked by the
    runner two at a time."""

    def map_bytes(setup: BallotSetup, chunk: list[Any]) -> ChunkResult:
        return verify_ballot_members(setup, io.BytesIO(data), chunk)

    runner = PoolRunner(None, partitions)
    return Verifier(
        lambda: io.BytesIO(data), map_ballots=map_bytes, partitions=runner, credential_chunk=2
    ).run()


# ranges of a block, of a few blocks (a ballot across two or three of them) and of 64 KiB
SCAN_SIZES = (512, 1536, 5120, 65536)


def verify_scanned(data: bytes, partitions: int = 3, scan_bytes: int = 1536) -> Report:
    """``data`` verified with its ballots scanned a byte range at a time, ranges of
    ``scan_bytes``."""
    return scanned_verifier(data, partitions, scan_bytes).run()


def scanned_verifier(data: bytes, partitions: int = 3, scan_bytes: int = 1536) -> Verifier:
    """The verifier of :func:`verify_scanned`, not yet run."""

    def map_bytes(setup: BallotSetup, chunk: list[Any]) -> ChunkResult:
        return verify_ballot_members(setup, io.BytesIO(data), chunk)

    def scan_bytes_at(
        setup: BallotSetup, parts: int, timestamp: int, start: int, end: int
    ) -> tuple[ScanSummary, tuple[Any, ...]]:
        return scan_range(setup, parts, timestamp, io.BytesIO(data), start, end)

    def roll_bytes_at(
        election: bytes, parts: int, start: int, size: int, first: bool, last: bool
    ) -> tuple[Any, ...]:
        return roll_range(election, parts, data[start : start + size], first, last)

    return Verifier(
        lambda: io.BytesIO(data),
        map_ballots=map_bytes,
        partitions=PoolRunner(None, partitions),
        scan=scan_bytes_at,
        scan_bytes=scan_bytes,
        credential_chunk=2,  # the list's membership checked by the runner, two at a time
        # every data member of the start read in pieces, the list parsed by the runner in
        # pieces of one credential or more
        roll=roll_bytes_at,
        roll_inline=0,
        roll_piece=scan_bytes // 8,
    )
