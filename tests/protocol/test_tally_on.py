"""The server's encrypted tally through the partitioned reduce (``encrypted_tally_on``) is the
sequential producer's, byte for byte, and the published one of every valid vector: revotes,
weights, non-homomorphic and Lists questions, in one partition or several, in this thread or
on worker processes, with the ballots read here or by ranges of the board's members where
the map step runs; a board with a ballot the reduce finds wrong gives no tally."""

from __future__ import annotations

import functools
import io
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from indexed_cases import VALID, VECTORS
from plebiscite.board import StoredMember
from plebiscite.protocol.archive import MAX_DATA_RUN, iter_members
from plebiscite.protocol.messages import parse_event
from plebiscite.protocol.reduce import PoolRunner, route_result
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


def _numbered(path: Path) -> list[StoredMember]:
    """The archive's members as a board numbers them (its header left out)."""
    members = [m for m in _members(path) if m.kind in ("data", "event")]
    return [StoredMember(i, m.kind, m.hash, m.content) for i, m in enumerate(members)]


@pytest.mark.parametrize("name", VALID)
def test_ranges_read_where_the_map_runs_give_the_sequential_tally(name: str) -> None:
    board = _numbered(VECTORS / f"{name}.bel")
    alone = encrypted_tally_of_board(board).json()
    asked: list[tuple[int, int]] = []

    def read(a: int, b: int) -> list[StoredMember]:
        asked.append((a, b))
        return board[a:b]

    # ranges of 1, 2 and 3 members cut between a ballot's data and its event, and elsewhere
    for size in (1, 2, 3, 1000):
        asked.clear()
        got = encrypted_tally_on(
            iter(board), PoolRunner(None, 1), read_range=read, end_seq=len(board), range_size=size
        )
        assert got.json() == alone, (name, size)
        setup = next(m.seq for m in board if m.kind == "event")
        assert asked[0][0] == setup + 1 and asked[-1][1] == len(board)
        assert all(b - a <= size + MAX_DATA_RUN for a, b in asked)


def _slice(board: list[StoredMember], a: int, b: int) -> list[StoredMember]:
    return board[a:b]


def test_ranges_on_worker_processes_give_the_same_tally() -> None:
    board = _numbered(VECTORS / "belenios3/revotes-weighted.bel")
    with ProcessPoolExecutor(2) as pool:
        got = encrypted_tally_on(
            iter(board),
            PoolRunner(pool, 2),
            read_range=functools.partial(_slice, board),
            end_seq=len(board),
            range_size=3,
        )
    assert got.json() == encrypted_tally_of_board(board).json()


def test_a_ballot_event_whose_data_the_range_lacks_gives_no_tally() -> None:
    board = _numbered(VECTORS / "belenios3/ed25519.bel")
    ballot = next(m.seq for m in board if m.kind == "event" and b'"Ballot"' in m.content)

    def read(a: int, b: int) -> list[StoredMember]:
        return [m for m in board[a:b] if m.seq != ballot - 1]

    with pytest.raises(ValueError, match=f"member {ballot}\\) has no data member"):
        encrypted_tally_on(
            iter(board), PoolRunner(None, 1), read_range=read, end_seq=len(board), range_size=2
        )


def test_the_tally_parses_a_board_s_ballots_without_their_canonical_form_or_digests_again() -> None:
    """The tally's map step takes a board's ballots, checked in full by its verifier: their
    canonical form is not checked again (the same ciphertexts, the spacing aside), where the
    verifier's parse refuses another encoding (SECURITY-CASES 10)."""
    from plebiscite.protocol.ballot import BallotSetup, verify_ballots

    data: dict[str, bytes] = {}
    election_raw, ballot = b"", b""
    for m in iter_members(io.BytesIO((VECTORS / "belenios3/ed25519.bel").read_bytes())):
        if m.kind == "data":
            data[m.hash] = m.content
        elif m.kind == "event":
            ev = parse_event(m.content, m.hash, "event")
            if ev.type == "Setup" and ev.payload is not None:
                election_raw = data[json.loads(data[ev.payload])["election"]]
            if ev.type == "Ballot" and ev.payload is not None:
                ballot = data[ev.payload]
                break
    setup = BallotSetup(election_raw, None, per_ballot=True)
    spaced = ballot.replace(b'":', b'": ', 1)
    (kept,) = verify_ballots(setup, [(1, "e", ballot)], proofs=False).outcomes
    (refused,) = verify_ballots(setup, [(1, "e", spaced)], proofs=False).outcomes
    (taken,) = verify_ballots(setup, [(1, "e", spaced)], proofs=False, canonical=False).outcomes
    assert kept.error is None and taken.error is None
    assert refused.error is not None and "canonical form" in refused.error[1]
    assert taken.ciphertexts == kept.ciphertexts and taken.credential == kept.credential
    # nor does it look again for a ciphertext of another credential (the verifier refused
    # those): no digest is made, nor routed, and the ciphertexts and the product are the same
    bare = verify_ballots(setup, [(1, "e", ballot)], proofs=False, canonical=False, digests=False)
    assert kept.alpha_digests and bare.outcomes[0].alpha_digests == ()
    assert bare.outcomes[0].ciphertexts == kept.ciphertexts
    assert bare.product == verify_ballots(setup, [(1, "e", ballot)], proofs=False).product
    assert all(not digests for _, digests, _, _ in route_result(bare, 3))
