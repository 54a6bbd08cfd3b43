"""The tally side (sections 4.16 to 4.19): encrypted tally, shuffles, partial decryptions and the
result, as JSON byte-compatible with belenios-tool. Pure; every randomised function takes a
:class:`RandomSource`.

The producers here compute what is published; the verifier
(:class:`~plebiscite.protocol.verifier.Verifier`) checks it, from its own reading of the board,
before it is appended (:meth:`~plebiscite.protocol.verifier.Verifier.check_encrypted_tally`,
``precheck_shuffle``, ``precheck_partial_decryption``): a fault of a producer is refused
instead of being checked against itself. An encrypted tally is only ever computed from a board
the verifier has checked, and a trustee only ever decrypts the tally the verifier read from it
(SECURITY-CASES 17).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, Protocol

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element
from plebiscite.crypto.hashing import sha256_hex, sha256_int
from plebiscite.crypto.proofs import prove_decryption
from plebiscite.crypto.rand import RandomSource
from plebiscite.crypto.shuffle import (
    get_generator,
    get_generators,
    get_nizkp_challenges,
    str_ciphertexts,
    str_elements,
)
from plebiscite.protocol.archive import MAX_DATA_RUN
from plebiscite.protocol.ballot import (
    AnswerNH,
    BallotSetup,
    ParsedBallot,
    parse_ballot,
    verify_ballots,
)
from plebiscite.protocol.messages import (
    Ciphertext,
    Election,
    obj,
    parse_credentials,
    parse_election,
    parse_event,
)
from plebiscite.protocol.questions import Question
from plebiscite.protocol.reduce import (
    Partial,
    PartitionState,
    PoolRunner,
    Runner,
    absorb,
    credential_parts,
    partitions_for,
    reduce_partitions,
    route_result,
)
from plebiscite.protocol.roll import ROLL_INLINE, ROLL_PIECE, RollSummary, merge_listed, pieces_of
from plebiscite.protocol.roll import roll_range as _roll_range

__all__ = [
    "MAX_RANGE_MEMBERS",
    "MIN_RANGE_MEMBERS",
    "EncryptedTally",
    "ReadRange",
    "ReadSlice",
    "count_json",
    "encrypted_tally_json",
    "encrypted_tally_of_board",
    "encrypted_tally_on",
    "gen_shuffle",
    "owned_json",
    "partial_decryption_json",
    "range_members",
    "result_json",
    "shuffle_json",
    "sized_encrypted_tally_json",
]

_SMALL = 1 << 30


def count_json(n: int) -> int | str:
    """Counts and weights as Belenios writes them: a JSON number below 2^30, a string above."""
    return n if n < _SMALL else str(n)


def _ct(c: Ciphertext) -> dict[str, str]:
    return {"alpha": str(c[0]), "beta": str(c[1])}


def _nested(columns: Sequence[list[Any]], questions: Sequence[Question] | None) -> list[list[Any]]:
    """Each question's flat column in the shape of its part of the record (one level deeper
    for Lists questions)."""
    if questions is None:
        return list(columns)
    return [q.nest(col) for q, col in zip(questions, columns, strict=True)]


def encrypted_tally_json(
    tally: Sequence[Sequence[Ciphertext]], questions: Sequence[Question] | None = None
) -> bytes:
    """The ``encrypted_tally``; ``questions`` (all of the election's, in order) give the shape
    of questions whose tally is not a plain list."""
    return strictjson.dumps_compact(_nested([[_ct(c) for c in col] for col in tally], questions))


class EncryptedTally(NamedTuple):
    """An encrypted tally to publish, with the number of voters counted and their weight."""

    tally: list[list[Ciphertext]]
    num_tallied: int
    total_weight: int
    questions: tuple[Question, ...] | None = None

    def json(self) -> tuple[bytes, bytes]:
        """The data of the EncryptedTally event: the encrypted tally, then its sized wrapper."""
        et = encrypted_tally_json(self.tally, self.questions)
        return et, sized_encrypted_tally_json(self.num_tallied, self.total_weight, sha256_hex(et))


class _Member(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def content(self) -> bytes: ...


class _SeqMember(_Member, Protocol):
    """A board's member, with its number on the board (0, 1, ... without a gap)."""

    @property
    def seq(self) -> int: ...


#: the reader step of :func:`encrypted_tally_on` where the map step runs: ``read(a, b)`` gives
#: the board's members numbered ``a`` to ``b - 1``, in order (the caller's I/O, injected here)
ReadRange = Callable[[int, int], Iterable[_SeqMember]]


#: the reader step of :func:`encrypted_tally_on` that reads a piece of a member where the
#: task that parses it runs: ``read(seq, start, size)`` gives the ``size`` bytes at ``start``
#: of the content of the board's member ``seq`` (the caller's I/O, injected here)
ReadSlice = Callable[[int, int, int], bytes]


def _setup_refs(data: dict[str, bytes], payload: str) -> dict[str, Any]:
    """The hashes of a board's Setup's members (election, trustees, credentials)."""
    return obj(
        strictjson.loads(data[payload], max_size=4096, where="setup"),
        "setup",
        ("election", "trustees", "credentials"),
    )


def _weights_of(raw: bytes, election: Election) -> dict[str, int]:
    """Each public credential's weight: the credentials are the board's, checked when it
    took them (not again here)."""
    return {c.public: c.weight for c in parse_credentials(raw, election.group, decode=False)}


def _setup_of(data: dict[str, bytes], payload: str) -> tuple[bytes, Election, dict[str, int]]:
    """A board's Setup from its data members by hash: the election (as written, and parsed)
    and each public credential's weight."""
    refs = _setup_refs(data, payload)
    el_raw = data[refs["election"]]
    election = parse_election(el_raw)
    return el_raw, election, _weights_of(data[refs["credentials"]], election)


def _roll_slice(
    read: ReadSlice, seq: int, start: int, size: int, election_raw: bytes, parts: int,
    first: bool, last: bool,
) -> tuple[Any, ...]:  # fmt: skip
    """A piece of the board's credential list read where it runs and parsed there
    (:func:`~plebiscite.protocol.roll.roll_range`, the encodings not checked again)."""
    raw = read(seq, start, size)
    return _roll_range(election_raw, parts, raw, first, last, decode=False)


def _setup_rolled(
    election_raw: bytes, read: ReadSlice, seq: int, size: int, *summaries: RollSummary
) -> tuple[BallotSetup, bool]:
    """The map step's setup from the credential list's pieces' summaries, where it runs: the
    weights other than 1 the pieces found, and True; or when a piece is not in the form taken
    there, the weights of the whole list (member ``seq``, ``size`` bytes) read and parsed
    here, and False."""
    weights: dict[str, int] = {}
    ok = all(s.ok for s in summaries)
    if ok:
        for summary in summaries:
            weights |= summary.weights or {}
    else:
        every = _weights_of(read(seq, 0, size), parse_election(election_raw))
        weights = {c: w for c, w in every.items() if w != 1}
    return BallotSetup(election_raw, weights or None, per_ballot=True), ok


# the pieces of the credential list a worker parses, about (:func:`_rolled`: each piece is a
# task, and each partition's list a task taking an item of every piece)
ROLL_PIECES_A_WORKER = 4


def _rolled(
    runner: Runner, read: ReadSlice, seq: int, raw: bytes, election_raw: bytes, parts: int,
    piece: int,
) -> tuple[Any, Any, list[Any], list[Any]]:  # fmt: skip
    """The board's credential list (member ``seq``, ``raw`` here) parsed by the runner's
    workers, a piece each, and kept there a partition's sorted list: handles on the runner of
    the map step's setup (:func:`_setup_rolled`, made there from the pieces' summaries: the
    client waits for none of them), of whether every piece was in the form taken there (if
    not, the lists are not the board's: the caller makes them), of each partition's
    :class:`~plebiscite.protocol.reduce.Listed` and of whether it holds a credential twice."""
    bounds = pieces_of(raw, piece=piece)
    last = len(bounds) - 1
    handles = [
        runner.map(_roll_slice, read, seq, a, b - a, election_raw, parts, i == 0, i == last)
        for i, (a, b) in enumerate(bounds)
    ]
    summaries = [runner.item(h, 0) for h in handles]
    made = runner.reduce(_setup_rolled, election_raw, read, seq, len(raw), *summaries)
    merged = [
        runner.reduce(merge_listed, *(runner.item(h, 1 + p) for h in handles)) for p in range(parts)
    ]
    return (
        runner.item(made, 0),
        runner.item(made, 1),
        [runner.item(m, 0) for m in merged],
        [runner.item(m, 1) for m in merged],
    )


def encrypted_tally_of_board(members: Iterable[_Member]) -> EncryptedTally:
    """The encrypted tally of a closed board, from its members in order (an archive's, or a
    board's): for each homomorphic question the product of every voter's last ballot raised to
    the voter's weight, for each non-homomorphic one the last ballots' ciphertexts sorted (as
    belenios-tool orders them). Only the ballots' ciphertexts are read: the board's ballots are
    those the verifier accepted."""
    data: dict[str, bytes] = {}
    election: Election | None = None
    weights: dict[str, int] = {}
    last: dict[str, ParsedBallot] = {}
    for m in members:
        if m.kind == "data":
            data[m.hash] = m.content
            continue
        if m.kind != "event":
            continue  # an archive's header
        ev = parse_event(m.content, m.hash, f"event {m.hash}")
        if ev.type == "Setup" and ev.payload is not None:
            _, election, weights = _setup_of(data, ev.payload)
        elif ev.type == "Ballot" and ev.payload is not None and election is not None:
            b = parse_ballot(data[ev.payload], election)
            last[b.credential_text] = b
        data.clear()
    if election is None:
        raise ValueError("the board has no Setup event")
    group = election.group
    tally: list[list[Ciphertext]] = []
    for i, q in enumerate(election.questions):
        if q.homomorphic:
            acc = [(group.one, group.one)] * q.size
            for cred, b in last.items():
                w = weights[cred]
                for j, (alpha, beta) in enumerate(b.answers[i].ciphertexts):
                    if w != 1:
                        alpha, beta = group.pow(alpha, w), group.pow(beta, w)
                    acc[j] = (group.mul(acc[j][0], alpha), group.mul(acc[j][1], beta))
            tally.append(acc)
        else:
            column = []
            for b in last.values():
                answer = b.answers[i]
                assert isinstance(answer, AnswerNH)
                column.append(answer.choices)
            tally.append(sorted(column, key=lambda c: (group.sort_key(c[0]), group.sort_key(c[1]))))
    return EncryptedTally(
        tally, len(last), sum(weights[c] for c in last), tuple(election.questions)
    )


# ballots of one map task of :func:`encrypted_tally_on` (a Dask task costs the scheduler
# about as much whatever its size: the cluster's chunk of verification)
TALLY_CHUNK = 256


def _tally_chunk(parts: int, setup: BallotSetup, chunk: list[tuple[int, str, bytes]]) -> Any:
    """The map step of :func:`encrypted_tally_on` on a worker: the ballots of ``chunk``
    parsed (their signature, proofs and canonical form were checked when the board took
    them, and that none holds a ciphertext of another credential: none is checked again, no
    digest of a ciphertext is made), their ciphertexts raised to their weights, routed into
    the ``parts`` partitions."""
    return route_result(
        verify_ballots(setup, chunk, proofs=False, canonical=False, digests=False), parts
    )


def _identity(value: BallotSetup) -> BallotSetup:
    return value


# the members of one range of :func:`encrypted_tally_on` read by ``read_range``: at least this
# many (a task's cost to the scheduler), at most MAX_RANGE_MEMBERS (a worker holds its range:
# about 10 MiB of ballots), about eight ranges a worker
MIN_RANGE_MEMBERS = 1024
MAX_RANGE_MEMBERS = 4096


# the map steps whose parts each partition takes at once, at least (a round of
# :func:`encrypted_tally_on`: a task a partition, which costs the scheduler about as much
# whatever its size; the map steps' values wait on their workers meanwhile, a few MiB each)
ROUND_MAPS = 8


def range_members(members: int, workers: int) -> int:
    """The members of each range for ``members`` members on ``workers`` workers: about eight
    ranges a worker, within ``[MIN_RANGE_MEMBERS, MAX_RANGE_MEMBERS]``."""
    return max(MIN_RANGE_MEMBERS, min(MAX_RANGE_MEMBERS, members // max(1, 8 * workers)))


def _tally_range(
    read: ReadRange, parts: int, setup: BallotSetup, start: int, a: int, b: int
) -> Any:
    """The map step of :func:`encrypted_tally_on` with ``read_range``, where it runs: the
    Ballot events numbered ``a`` to ``b - 1`` read, each with its ballot, the data member just
    before it (read from up to :data:`~plebiscite.protocol.archive.MAX_DATA_RUN` members
    before ``a``, none before ``start``: the event's data may lie in the range before), the
    ballots parsed and routed as :func:`_tally_chunk` does them; the other events skipped."""
    chunk: list[tuple[int, str, bytes]] = []
    data: dict[str, bytes] = {}
    for m in read(max(start, a - MAX_DATA_RUN), b):
        if m.kind == "data":
            data[m.hash] = m.content
            continue
        if m.kind == "event" and m.seq >= a:
            ev = parse_event(m.content, m.hash, f"event {m.hash}")
            if ev.type == "Ballot" and ev.payload is not None:
                ballot = data.get(ev.payload)
                if ballot is None:
                    raise ValueError(
                        f"the Ballot event at height {ev.height} (member {m.seq}) has no data "
                        f"member {ev.payload} before it"
                    )
                chunk.append((ev.height, ev.hash, ballot))
        data.clear()
    return route_result(
        verify_ballots(setup, chunk, proofs=False, canonical=False, digests=False), parts
    )


def encrypted_tally_on(
    members: Iterable[_Member],
    runner: Runner,
    *,
    ballots: int = 0,
    chunk_size: int = TALLY_CHUNK,
    read_range: ReadRange | None = None,
    end_seq: int = 0,
    range_size: int | None = None,
    new_partition: Callable[[], PartitionState] | None = None,
    read_slice: ReadSlice | None = None,
    roll_inline: int = ROLL_INLINE,
    roll_piece: int | None = None,
) -> EncryptedTally:
    """The encrypted tally of a closed board as :func:`encrypted_tally_of_board` gives it,
    computed by the partitioned reduce of verification (:mod:`plebiscite.protocol.reduce`) on
    ``runner``: the board's members are read here, in order, and its ballots sent in chunks
    to the map step (parsed, raised to their weights, routed by credential), each
    partition's last ballots multiplied where its state is, the partitions' products merged
    in a tree (:class:`~plebiscite.protocol.reduce.Partial`). ``ballots`` (the ballots on the
    board, about) sizes the partitions.

    Given ``read_range`` (:data:`ReadRange`) and ``end_seq`` (the number after the board's
    last member), ``members`` are read here only up to the Setup event (they must have their
    ``seq``): what follows, up to ``end_seq``, is cut into ranges of members (``range_size``,
    default :func:`range_members`), each read by ``read_range`` where its map step runs, which
    pairs the range's Ballot events with their ballots: no ballot is read here nor sent in a
    task. Two ranges a worker are in flight, and each partition takes the parts of
    :data:`ROUND_MAPS` of them at least at once (its round). ``new_partition`` makes each
    partition's state where it is to live (:func:`plebiscite.compute.spill.disk_partition`:
    its records beyond a bound written to that disk); None: in memory (pickled runs).

    Given ``read_slice`` (:data:`ReadSlice`) too, a credential list over ``roll_inline``
    bytes is parsed by the runner's workers, pieces of about ``roll_piece`` bytes each read
    where its task runs (None: :data:`ROLL_PIECES_A_WORKER` a worker, of
    :data:`~plebiscite.protocol.roll.ROLL_PIECE` bytes at least), each partition's
    credentials kept there for its end (as ``plebiscite verify`` does an archive's:
    :mod:`plebiscite.protocol.roll`); the map
    step's setup (the weights other than 1) is made there from the pieces' summaries, so that
    the ranges are sent at once: no weight comes here.

    Raises ValueError when the board has no Setup or a
    ballot the reduce finds wrong (not on the list: the board's verifier refuses those, so a
    tally is never made of them; nor does it look again for a ciphertext of another
    credential, which the verifier refused too, and checks against its own tally before the
    tally is published); raises what the runner raises when a task fails."""
    data: dict[str, bytes] = {}
    setup: BallotSetup | None = None
    shared: Any = None
    election: Election | None = None
    weights: dict[str, int] = {}
    seqs: dict[str, int] = {}
    listed: Callable[[int], Any] | None = None
    rolled: tuple[int, int] | None = None  # the list's member and size, read by the tasks
    in_form: Any = None
    twice: list[Any] = []
    parts = 0
    states: list[Any] = []
    mapped: deque[Any] = deque()
    round_: list[Any] = []
    chunk: list[tuple[int, str, bytes]] = []
    width = max(1, runner.width)

    def absorb_round() -> None:
        nonlocal round_
        maps, round_ = round_, []
        for p, items in enumerate(runner.parts(maps, states)):
            states[p] = runner.reduce(absorb, states[p], 1, *items)

    def drain(keep: int) -> None:
        while len(mapped) > keep:
            # whichever has run (not the oldest: a worker whose steps are done would wait)
            m = runner.wait_first(mapped)
            del mapped[next(i for i, h in enumerate(mapped) if h is m)]
            round_.append(m)
            if len(round_) >= max(width, ROUND_MAPS):
                absorb_round()

    def submit() -> None:
        nonlocal chunk
        if chunk:
            mapped.append(runner.map(_tally_chunk, parts, shared, chunk))
            chunk = []
            drain(2 * width)

    for m in members:
        if m.kind == "data":
            data[m.hash] = m.content
            seq = getattr(m, "seq", None) if setup is None else None  # the Setup's members'
            if isinstance(seq, int):
                seqs[m.hash] = seq
            continue
        if m.kind != "event":
            continue  # an archive's header
        ev = parse_event(m.content, m.hash, f"event {m.hash}")
        if ev.type == "Setup" and ev.payload is not None:
            refs = _setup_refs(data, ev.payload)
            el_raw, cr_raw = data[refs["election"]], data[refs["credentials"]]
            election = parse_election(el_raw)
            parts = partitions_for(ballots, width)
            cr_seq = seqs.get(refs["credentials"])
            if read_slice is not None and cr_seq is not None and len(cr_raw) > roll_inline:
                # the setup made on the runner from the pieces: the ranges go at once
                piece = roll_piece or max(ROLL_PIECE, len(cr_raw) // (ROLL_PIECES_A_WORKER * width))
                shared, in_form, handles, twice = _rolled(
                    runner, read_slice, cr_seq, cr_raw, el_raw, parts, piece
                )
                rolled = (cr_seq, len(cr_raw))
                listed = handles.__getitem__
                setup = BallotSetup(el_raw, None, per_ballot=True)  # the end's: no weights
            else:
                weights = _weights_of(cr_raw, election)
                others = {c: w for c, w in weights.items() if w != 1}
                setup = BallotSetup(el_raw, others or None, per_ballot=True)
                # the election and the weights sent once, a handle every chunk's task takes
                shared = runner.map(_identity, setup)
            del cr_raw
            data.clear()  # the list too, with ranges (the loop stops below)
            # each partition's state made where it is to live (new_partition: its runs on
            # that disk), or in memory by the first round
            states = [None if new_partition is None else runner.reduce(new_partition)
                      for _ in range(parts)]  # fmt: skip
            if read_range is not None:
                seq = getattr(m, "seq", None)
                if not isinstance(seq, int):
                    raise TypeError("a tally read by ranges takes a board's members (their seq)")
                start = seq + 1
                step = range_size or range_members(end_seq - start, width)
                for a in range(start, end_seq, step):
                    b = min(a + step, end_seq)
                    mapped.append(runner.map(_tally_range, read_range, parts, shared, start, a, b))
                    drain(2 * width)
                break
        elif ev.type == "Ballot" and ev.payload is not None and setup is not None:
            chunk.append((ev.height, ev.hash, data[ev.payload]))
            if len(chunk) >= chunk_size:
                submit()
        data.clear()
    if election is None or setup is None:
        raise ValueError("the board has no Setup event")
    submit()
    drain(0)
    if round_:
        absorb_round()
    # local worker processes: the partitions' products made there, a partition a worker
    local = isinstance(runner, PoolRunner) and runner.executor is not None and parts > 1
    if rolled is not None and read_slice is not None and not runner.result(in_form):
        # a piece not in the form taken there: the list parsed here, as a short one is
        seq, size = rolled
        weights, listed, twice = _weights_of(read_slice(seq, 0, size), election), None, []
    if any(runner.result(t) for t in twice):
        raise ValueError("the board's public credential list holds a credential twice")
    if listed is None:
        listed = credential_parts(weights, len(states))
    total = reduce_partitions(runner, states, setup, listed, 1, finish_by_map=local)
    if total.findings or total.dropped:
        more = len(total.findings) + total.dropped - 1
        if not total.findings:  # only counted (an invalid ballot's error beyond the first)
            raise ValueError(f"{more + 1} ballots of the board are invalid")
        h, _, _, _, message, where, _, tracker = total.findings[0]
        raise ValueError(
            f"ballot {tracker} at height {h} ({where or 'ballot'}): {message}"
            + (f", and {more} more" if more else "")
        )
    return _tally_of(election, total)


def _tally_of(election: Election, total: Partial) -> EncryptedTally:
    """The encrypted tally of a reduce's root: the products of the homomorphic questions, the
    counted ballots' ciphertexts of the non-homomorphic ones sorted (belenios-tool's order)."""
    key = election.group.sort_key
    nh = [cts for _, cts in sorted(total.nh, key=lambda x: x[0])]
    tally: list[list[Ciphertext]] = []
    k = 0
    for acc in total.product:
        if acc is not None:
            tally.append(list(acc))
        else:
            tally.append(sorted((cts[k] for cts in nh), key=lambda c: (key(c[0]), key(c[1]))))
            k += 1
    return EncryptedTally(tally, total.counted, total.weight, tuple(election.questions))


def sized_encrypted_tally_json(num_tallied: int, total_weight: int, tally_hash: str) -> bytes:
    return strictjson.dumps_compact(
        {
            "num_tallied": count_json(num_tallied),
            "total_weight": count_json(total_weight),
            "encrypted_tally": tally_hash,
        }
    )


def owned_json(owner: int, payload_hash: str) -> bytes:
    return strictjson.dumps_compact({"owner": owner, "payload": payload_hash})


# -- shuffles (section 4.17 and 6) -----------------------------------------------------------


def gen_shuffle(
    ctx: Context, e: Sequence[Ciphertext], fingerprint: str, rng: RandomSource
) -> tuple[list[Ciphertext], list[Any]]:
    """``GenShuffle`` and ``GenShuffleProof`` (tables 1 to 12): the shuffled ciphertexts and the
    proof as the JSON value ``[t, s, c, c_hat]``."""
    q, y = ctx.q, ctx.y
    mul = ctx.mul
    assert y is not None
    N = len(e)
    # GenPermutation (table 2)
    index = list(range(N))
    psi = []
    for i in range(N):
        k = i + int(rng.below(N - i))
        psi.append(index[k])
        index[k] = index[i]
    # GenReEncryption (table 3)
    r_prime = [rng.below(q) for _ in range(N)]
    reenc = [
        (mul(a, ctx.gpow(r)), mul(b, ctx.ypow(r))) for (a, b), r in zip(e, r_prime, strict=True)
    ]
    e_prime = [reenc[j] for j in psi]
    # GenShuffleProof (table 4)
    h = get_generator(ctx.group, -1)
    hs = get_generators(ctx.group, N)
    r = [0] * N
    c = [ctx.one] * N
    for i, j in enumerate(psi):  # GenPermutationCommitment (table 9)
        r[j] = rng.below(q)
        c[j] = mul(ctx.gpow(r[j]), hs[i])
    str_c = str_ciphertexts(e) + str_ciphertexts(e_prime) + str_elements(c)
    u = get_nizkp_challenges(N, f"shuffle-challenges|{fingerprint}|{str_c}", q)
    u_prime = [u[j] for j in psi]
    c_hat: list[Element] = []
    r_hat: list[int] = []
    prev = h
    for ui in u_prime:  # GenCommitmentChain (table 12)
        ri = rng.below(q)
        prev = mul(ctx.gpow(ri), ctx.pow(prev, ui))
        c_hat.append(prev)
        r_hat.append(ri)
    w1, w2, w3, w4 = (rng.below(q) for _ in range(4))
    w_hat = [rng.below(q) for _ in range(N)]
    w_prime = [rng.below(q) for _ in range(N)]
    t1 = ctx.gpow(w1)
    t2 = ctx.gpow(w2)
    t3 = ctx.gpow(w3)
    t41 = ctx.ypow(-w4)
    t42 = ctx.gpow(-w4)
    for hi, (a2, b2), wi in zip(hs, e_prime, w_prime, strict=True):
        t3 = mul(t3, ctx.pow(hi, wi))
        t41 = mul(t41, ctx.pow(b2, wi))
        t42 = mul(t42, ctx.pow(a2, wi))
    t_hat = []
    prev = h
    for ch, wh, wp in zip(c_hat, w_hat, w_prime, strict=True):
        t_hat.append(mul(ctx.gpow(wh), ctx.pow(prev, wp)))
        prev = ch
    str_t = str_elements([t1, t2, t3, t41, t42]) + str_elements(t_hat)
    str_y = str_c + str_elements(c_hat) + str(y)
    chal = sha256_int(f"shuffle-challenge|{fingerprint}|{str_t}{str_y}") % q
    r_bar = sum(r) % q
    s1 = (w1 + chal * r_bar) % q
    v = [1] * N
    for i in range(N - 2, -1, -1):
        v[i] = u_prime[i + 1] * v[i + 1] % q
    s2 = (w2 + chal * (sum(rh * vi for rh, vi in zip(r_hat, v, strict=True)) % q)) % q
    s3 = (w3 + chal * (sum(ri * ui for ri, ui in zip(r, u, strict=True)) % q)) % q
    s4 = (w4 + chal * (sum(ri * ui for ri, ui in zip(r_prime, u, strict=True)) % q)) % q
    s_hat = [(wh + chal * rh) % q for wh, rh in zip(w_hat, r_hat, strict=True)]
    s_prime = [(wp + chal * up) % q for wp, up in zip(w_prime, u_prime, strict=True)]

    def strs(xs: Sequence[object]) -> list[str]:
        return [str(x) for x in xs]

    proof = [
        [str(t1), str(t2), str(t3), [str(t41), str(t42)], strs(t_hat)],
        [str(s1), str(s2), str(s3), str(s4), strs(s_hat), strs(s_prime)],
        strs(c),
        strs(c_hat),
    ]
    return e_prime, proof


def shuffle_json(
    election: Election, ctx: Context, tally: Sequence[Sequence[Ciphertext]], rng: RandomSource
) -> bytes:
    """A ``shuffle`` of every non-homomorphic column of the current tally."""
    cts, proofs = [], []
    for q, col in zip(election.questions, tally, strict=True):
        if q.homomorphic:
            continue
        e_prime, proof = gen_shuffle(ctx, col, election.fingerprint, rng)
        cts.append([_ct(x) for x in e_prime])
        proofs.append(proof)
    return strictjson.dumps_compact({"ciphertexts": cts, "proofs": proofs})


# -- partial decryptions and the result (sections 4.18, 4.19) ---------------------------------


def partial_decryption_json(
    ctx: Context,
    fingerprint: str,
    x: int,
    tally: Sequence[Sequence[Ciphertext]],
    rng: RandomSource,
    questions: Sequence[Question] | None = None,
) -> bytes:
    """Decryption factors ``alpha^x`` and their proofs for every ciphertext of the tally (in
    the shape the ``questions`` give, when given)."""
    factors, proofs = [], []
    for col in tally:
        frow, prow = [], []
        for alpha, _ in col:
            f, pr = prove_decryption(ctx, fingerprint, x, alpha, rng.below(ctx.q))
            frow.append(str(f))
            prow.append({"challenge": str(pr.challenge), "response": str(pr.response)})
        factors.append(frow)
        proofs.append(prow)
    return strictjson.dumps_compact(
        {
            "decryption_factors": _nested(factors, questions),
            "decryption_proofs": _nested(proofs, questions),
        }
    )


def result_json(election: Election, result: Sequence[Sequence[Any]]) -> bytes:
    """The ``result``: counts of homomorphic questions (nested as their question is), the
    decoded vectors of non-homomorphic ones."""

    def counts(v: Any) -> Any:
        return [counts(x) for x in v] if isinstance(v, list) else count_json(int(v))

    out: list[Any] = []
    for q, col in zip(election.questions, result, strict=True):
        out.append(counts(list(col)) if q.homomorphic else [list(v) for v in col])
    return strictjson.dumps_compact({"result": out})
