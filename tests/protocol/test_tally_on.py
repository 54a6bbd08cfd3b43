"""The server's encrypted tally through the partitioned reduce (``encrypted_tally_on``) is the
sequential producer's, byte for byte, and the published one of every valid vector: revotes,
weights, non-homomorphic and Lists questions, in one partition or several, in this thread or
on worker processes; a board with a ballot the reduce finds wrong gives no tally."""

from __future__ import annotations

import io
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from indexed_cases import VALID, VECTORS
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.messages import parse_event
from plebiscite.protocol.reduce import PoolRunner
from plebiscite.protocol.tally import encrypted_tally_of_board, encrypted_tally_on
from tamper import Archive


def _members(path: Path) -> list:
    return list(iter_members(io.BytesIO(path.read_bytes())))


def published_tally(archive: bytes) -> bytes | None:
    """The data of the archive's EncryptedTally event (the encrypted tally), if any."""
    members = list(iter_members(io.BytesIO(archive)))
    data = {m.hash: m.content for m in members if m.kind == "data"}
    for m in members:
        if m.kind == "event":
            ev = parse_event(m.content, m.hash, "event")
            if ev.type == "EncryptedTally" and ev.payload is not None:
                return data[json.loads(data[ev.payload])["encrypted_tally"]]
    return None


@pytest.mark.parametrize("name", VALID)
def test_the_reduce_gives_the_sequential_tally(name: str) -> None:
    path = VECTORS / f"{name}.bel"
    alone = encrypted_tally_of_board(_members(path))
    for ballots in (0, 250_000):  # one partition, then three
        got = encrypted_tally_on(_members(path), PoolRunner(None, 1), ballots=ballots, chunk_size=2)
        assert got.json() == alone.json(), (name, ballots)
    published = published_tally(path.read_bytes())
    if published is not None:
        assert alone.json()[0] == published, name


def test_worker_processes_give_the_same_tally() -> None:
    path = VECTORS / "belenios3/revotes-weighted.bel"
    with ProcessPoolExecutor(2) as pool:
        got = encrypted_tally_on(_members(path), PoolRunner(pool, 2), chunk_size=1)
    assert got.json() == encrypted_tally_of_board(_members(path)).json()


def test_a_ballot_off_the_list_gives_no_tally(tmp_path: Path) -> None:
    a = Archive.load(VECTORS / "belenios3/ed25519.bel")
    voter = a.data(a.payload_index("Ballot"))["credential"]
    setup = a.data(a.payload_index("Setup"))
    listed = a.index_of_hash(setup["credentials"])
    a.edit(listed, lambda creds: [c for c in creds if c.split(",")[0] != voter])
    path = a.write(tmp_path / "off-the-list.bel")
    with pytest.raises(ValueError, match="credential is not in the public credential list"):
        encrypted_tally_on(_members(path), PoolRunner(None, 1))
