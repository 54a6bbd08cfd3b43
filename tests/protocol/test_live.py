"""Live verification: a verifier fed member by member reaches the same verdict as one reading
the whole archive; ballots are prechecked before they are appended."""

from __future__ import annotations

import io
import json

import pytest

from conftest import peer_vector
from plebiscite.board.base import Head, Item, plan_append
from plebiscite.crypto.credentials import generate_credential
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import ConsistencyError, PlebisciteError, StateError
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.verifier import Verifier
from tamper import Archive


def _prefix_verifier(a: Archive, events: int) -> tuple[Verifier, int]:
    """A verifier of the first ``events`` events whose ``open_archive`` opens the archive as
    it now is (members fed later included), as a board's would."""
    evs = a.events()
    end = evs[events - 1][0] + 1
    board = Archive(a.entries[:end])
    v = Verifier(lambda: io.BytesIO(board.to_bytes()))
    v.board = board  # type: ignore[attr-defined]
    assert v.run().valid
    return v, end


def _feed(v: Verifier, kind: str, content: bytes) -> None:
    from tamper import Entry

    entry = Entry(kind, content, v.board.entries[0].mtime)  # type: ignore[attr-defined]
    v.board.entries.append(entry)  # type: ignore[attr-defined]
    v.consume(kind, entry.hash, content)


@pytest.mark.parametrize("name", ["single", "revotes", "nh", "threshold-all"])
def test_fed_member_by_member_equals_whole(name):
    path, _ = peer_vector(name)
    a = Archive.load(path)
    v, end = _prefix_verifier(a, 2)
    for e in a.entries[end:]:
        _feed(v, e.kind, e.content)
    whole = Verifier(lambda: path.open("rb")).run()
    assert v.report.valid and whole.valid
    assert v.report.result == whole.result
    assert (v.report.events, v.report.ballots, v.report.status) == (
        whole.events,
        whole.ballots,
        whole.status,
    )


def _append(v: Verifier, head: Head, raw: bytes, seq: int) -> Head:
    members, new_head = plan_append(head, [Item("Ballot", (raw,))], seq)
    for m in members:
        _feed(v, m.kind, m.content)
    return new_head


def test_prechecked_ballot_is_accepted_without_checking_twice():
    path, meta = peer_vector("open")
    a = Archive.load(path)
    v, _ = _prefix_verifier(a, len(a.events()))
    head = Head(v.head.height, v.head.hash)
    raw = make_ballot(
        v.election, meta["private_credentials"][4], [[1, 0], [0, 0, 1]], DeterministicRandom("live")
    )
    pre = v.precheck_ballot(raw)
    v.admit_ballot(raw, pre)
    _append(v, head, raw, 100)
    assert v.report.valid, [f.describe() for f in v.report.findings]
    assert v.report.ballots == meta["ballots"] + 1
    assert v.admitted == 0


def test_precheck_refuses_foreign_credential_and_closed_voting():
    path, _ = peer_vector("open")
    a = Archive.load(path)
    v, _ = _prefix_verifier(a, len(a.events()))
    outsider = generate_credential(DeterministicRandom("outsider"))
    raw = make_ballot(v.election, outsider, [[1, 0], [0, 0, 1]], DeterministicRandom("x"))
    with pytest.raises(ConsistencyError, match="not in the public credential list"):
        v.precheck_ballot(raw)
    with pytest.raises(PlebisciteError):
        v.precheck_ballot(b'{"not": "a ballot"}')
    members, _ = plan_append(Head(v.head.height, v.head.hash), [Item("EndBallots")], 100)
    for m in members:
        _feed(v, m.kind, m.content)
    with pytest.raises(StateError, match="voting is not open"):
        v.precheck_ballot(raw)


def _feed_checked(v: Verifier, kind: str, content: bytes) -> None:
    """As :func:`_feed`, the member's ballot proofs checked by whoever appended it."""
    from tamper import Entry

    entry = Entry(kind, content, v.board.entries[0].mtime)  # type: ignore[attr-defined]
    v.board.entries.append(entry)  # type: ignore[attr-defined]
    v.consume(kind, entry.hash, content, proofs_checked=True)


def _ballot_members(v: Verifier, raw: bytes) -> list[tuple[str, bytes]]:
    head = Head(v.head.height, v.head.hash)
    members, _ = plan_append(head, [Item("Ballot", (raw,))], 100)
    return [(m.kind, m.content) for m in members]


def test_a_ballot_whose_proofs_were_checked_is_accounted_without_checking_them_again():
    """What another process of the same server appended: its proofs are trusted (a bad one
    passes), its place on the board is not (a foreign credential is still refused)."""
    path, meta = peer_vector("open")
    a = Archive.load(path)
    v, _ = _prefix_verifier(a, len(a.events()))
    good = make_ballot(
        v.election, meta["private_credentials"][4], [[1, 0], [0, 0, 1]], DeterministicRandom("a")
    )
    for kind, content in _ballot_members(v, good):
        _feed_checked(v, kind, content)
    assert v.report.valid and v.report.ballots == meta["ballots"] + 1

    # a forged proof, trusted as checked: accepted (the trust is the caller's to give)
    forged = json.loads(good)
    forged["answers"][0]["overall_proof"][0]["response"] = "1"
    raw = json.dumps(forged, separators=(",", ":")).encode()
    for kind, content in _ballot_members(v, raw):
        _feed_checked(v, kind, content)
    assert v.report.valid

    # a credential not on the list is refused even so
    outsider = generate_credential(DeterministicRandom("outsider-checked"))
    foreign = make_ballot(v.election, outsider, [[1, 0], [0, 0, 1]], DeterministicRandom("f"))
    for kind, content in _ballot_members(v, foreign):
        _feed_checked(v, kind, content)
    assert not v.report.valid
    assert any("not in the public credential list" in f.message for f in v.report.findings)


def test_without_the_flag_the_same_forged_proof_is_refused():
    path, meta = peer_vector("open")
    a = Archive.load(path)
    v, _ = _prefix_verifier(a, len(a.events()))
    good = make_ballot(
        v.election, meta["private_credentials"][4], [[1, 0], [0, 0, 1]], DeterministicRandom("a")
    )
    forged = json.loads(good)
    forged["answers"][0]["overall_proof"][0]["response"] = "1"
    raw = json.dumps(forged, separators=(",", ":")).encode()
    for kind, content in _ballot_members(v, raw):
        _feed(v, kind, content)
    assert not v.report.valid


def _first_payload(a: Archive, kind: str) -> tuple[int, dict, bytes]:
    """The number of events before the first ``kind`` event, its owned data and the data it
    owns."""
    first = next(k for k, (_, ev) in enumerate(a.events()) if ev["type"] == kind)
    owned = a.data(a.payload_index(kind, 0))
    return first, owned, a.entries[a.index_of_hash(owned["payload"])].content


def _alike_with_a_runner(a: Archive, first: int, chunked, check, raw: bytes, broken) -> list:
    """The verifier of the first ``first`` events (``chunked(v)`` sets its chunk) with no
    runner and with a thread pool's: ``check(v, raw, runner)`` takes ``raw`` and refuses
    each of ``broken`` with the same errors either way; those errors."""
    from concurrent.futures import ThreadPoolExecutor

    from plebiscite.protocol.reduce import PoolRunner

    seen = []
    with ThreadPoolExecutor(2) as pool:
        for runner in (None, PoolRunner(pool, 2)):
            v, _ = _prefix_verifier(a, first)
            chunked(v)
            errors = []
            for b in broken:
                with pytest.raises(PlebisciteError) as e:
                    check(v, b, runner)
                errors.append((e.value.message, e.value.where))
            check(v, raw, runner)
            seen.append(errors)
    assert seen[0] == seen[1]
    return seen[0]


@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_a_partial_decryption_s_proofs_checked_by_a_runner_are_taken_and_refused_alike(chunk):
    """The proofs of a partial decryption checked by a runner's workers (threads here), a
    chunk of ``chunk`` a map step when there are more: the verifier's own check accepts the
    same decryption, and refuses the same broken proofs (the first question's first, the last
    question's last: a shuffled non-homomorphic column) with the same error, wherever they
    fall among the chunks."""
    path, _ = peer_vector("nh")
    a = Archive.load(path)
    first, owned, raw = _first_payload(a, "PartialDecryption")
    last = len(json.loads(raw)["decryption_factors"]) - 1
    broken = []
    for i, j, k in ((0, 0, 1), (last, -1, -2)):  # two factors swapped: their proofs fail
        bad = json.loads(raw)
        col = bad["decryption_factors"][i]
        col[j], col[k] = col[k], col[j]
        broken.append(json.dumps(bad, separators=(",", ":")).encode())

    def chunked(v: Verifier) -> None:
        v.decryption_chunk = chunk

    def check(v: Verifier, raw: bytes, runner) -> None:
        v.precheck_partial_decryption(owned["owner"], raw, runner=runner)

    errors = _alike_with_a_runner(a, first, chunked, check, raw, broken)
    assert [m for m, _ in errors] == ["decryption proof does not verify"] * 2


@pytest.mark.parametrize("vector", ["belenios/nh", "belenios3/nh"])
@pytest.mark.parametrize("chunk", [1, 2, 1000])
def test_a_shuffle_checked_by_parts_on_a_runner_is_taken_and_refused_alike(vector, chunk):
    """A shuffle's proof checked by parts on a runner's workers (threads here), ``chunk``
    ciphertexts a map step when there are more, in the finite-field group and in Ed25519:
    the shuffle the verifier's own check accepts is accepted, and the same changed ones (two
    shuffled ciphertexts swapped, a ``t_hat`` of another, a commitment of another) are refused
    with the same error."""
    from conftest import VECTORS

    a = Archive.load(VECTORS / f"{vector}.bel")
    first, _, raw = _first_payload(a, "Shuffle")

    def changed(fn) -> bytes:
        sh = json.loads(raw)
        fn(sh)
        return json.dumps(sh, separators=(",", ":")).encode()

    def swap(xs: list, i: int, j: int) -> None:
        xs[i], xs[j] = xs[j], xs[i]

    broken = [
        changed(lambda sh: swap(sh["ciphertexts"][0], 0, -1)),
        # a proof is [t, s, c, c_hat], t = [t1, t2, t3, t4, t_hat]
        changed(lambda sh: swap(sh["proofs"][0][0][4], 0, -1)),
        changed(lambda sh: swap(sh["proofs"][0][3], 0, 1)),
    ]

    def chunked(v: Verifier) -> None:
        v.shuffle_chunk = chunk

    def check(v: Verifier, raw: bytes, runner) -> None:
        v.precheck_shuffle(raw, runner=runner)

    errors = _alike_with_a_runner(a, first, chunked, check, raw, broken)
    assert all("does not verify" in m for m, _ in errors), errors
