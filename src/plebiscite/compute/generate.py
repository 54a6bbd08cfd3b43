"""Valid elections of any size, to measure with: real ballots with real proofs, made from a
seed on every core of this machine or on a Dask cluster, written as a standard archive.

What is made (:func:`generate_archive`), all of it a function of the :class:`Plan` (the seed
above all): an election in the Ed25519 group (a Belenios 3.x record) with a yes/no question
and a one-of-three question, one trustee (a ``Single`` key), ``voters`` voters each with a
credential of the 3.x form, one ballot per voter with random choices, then a second ballot of
the first ``revotes`` voters (replacing their first), the close (``EndBallots``), the encrypted
tally (the product of the last ballot of each credential), the trustee's partial decryption
and the result: a fully tallied archive that ``plebiscite verify`` and belenios-tool check.

How the work is split: the credentials are made in chunks (each task derives its voters'
credentials from the seed and returns their public credentials), then the ballots in chunks
(each task derives the same credentials again, makes each ballot with randomness from the
seed and the voter's number, and returns the ballots and the partial product of the
ciphertexts of those ballots that count, with their counts), by a
:class:`concurrent.futures.Executor`: a process pool (``--jobs N``) or a Dask cluster's
executor (``--cluster``). This process writes the archive in board order as the chunks come
back, with at most two chunks per worker in flight, so its memory is the public credentials
(about 70 bytes a voter, a member of the archive) plus the chunks in flight, whatever the size.

The same plan always gives the same archive, byte for byte, whatever executor made it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import credential_secret, generate_credential
from plebiscite.crypto.groups import ED25519
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.archive import ArchiveState, ArchiveWriter, header_bytes
from plebiscite.protocol.ballot import make_ballot, parse_ballot
from plebiscite.protocol.election_setup import (
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
)
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.protocol.simulate import random_choices
from plebiscite.protocol.tally import (
    EncryptedTally,
    owned_json,
    partial_decryption_json,
    result_json,
)

__all__ = ["Generated", "Plan", "generate_archive"]

TEMPLATE = {
    "description": "A generated election, to measure with",
    "name": "Generated election",
    "questions": [
        {"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Do you approve?"},
        {
            "answers": ["Red", "Green", "Blue"],
            "min": 1,
            "max": 1,
            "question": "Which colour?",
        },
    ],
}
#: ballots a task makes (about 40 ms of work each in Ed25519: big enough that the scheduling
#: costs little, small enough that a worker that dies loses little)
CHUNK = 64
#: credentials a task derives (one scalar multiplication each)
CREDENTIAL_CHUNK = 4096


@dataclass(frozen=True)
class Plan:
    """What to generate: ``voters`` voters, the first ``revotes`` of whom vote a second time,
    every choice and every random number from ``seed``; members dated ``timestamp``."""

    voters: int
    seed: str
    revotes: int = 0
    timestamp: int = 1_700_000_000

    def __post_init__(self) -> None:
        if self.voters < 1:
            raise ValueError("at least one voter")
        if not 0 <= self.revotes <= self.voters:
            raise ValueError(f"revotes must be between 0 and the {self.voters} voters")

    def rng(self, *parts: object) -> DeterministicRandom:
        return DeterministicRandom("/".join([self.seed, *map(str, parts)]))


@dataclass(frozen=True)
class Generated:
    """The archive made: its election, ballots, counts (per question, per answer) and the
    time each part took (seconds)."""

    uuid: str
    ballots: int
    counts: list[list[int]]
    seconds: dict[str, float]


@dataclass(frozen=True)
class _Setup:
    """What every task needs (small: sent once per task)."""

    plan: Plan
    election: bytes


def _credential(plan: Plan, i: int) -> str:
    return generate_credential(plan.rng("credential", i))


def public_credentials(plan: Plan, uuid: str, start: int, stop: int) -> list[str]:
    """The public credentials of voters ``start`` to ``stop`` (a task)."""
    ctx = Context(ED25519)
    return [
        ED25519.encode(ctx.gpow(credential_secret(_credential(plan, i), uuid, ED25519)))
        for i in range(start, stop)
    ]


def _counted(plan: Plan, casting: int) -> bool:
    """Whether the ``casting``-th ballot of the board counts: a first ballot of a voter who
    votes again does not."""
    return casting >= plan.revotes


def make_ballots(
    setup: _Setup, start: int, stop: int
) -> tuple[list[bytes], list[Any], list[list[int]]]:
    """Ballots ``start`` to ``stop`` of the board (a task): the ``k``-th is voter ``k``'s first
    ballot below ``voters``, then voter ``k - voters``'s second. Returns the ballots, the
    product of the ciphertexts of those that count (per question, per answer, as encoded
    pairs) and their counts."""
    plan = setup.plan
    election = parse_election(setup.election)
    group = election.group
    ctx = Context(group, election.public_key)
    sizes = [len(q.answers) for q in election.questions]
    acc = [[(group.one, group.one)] * n for n in sizes]
    counts = [[0] * n for n in sizes]
    out = []
    for k in range(start, stop):
        voter = k if k < plan.voters else k - plan.voters
        rng = plan.rng("ballot", k)
        choices = random_choices(election, rng)
        raw = make_ballot(election, _credential(plan, voter), choices, rng, ctx=ctx)
        out.append(raw)
        if _counted(plan, k):
            b = parse_ballot(raw, election)
            for qi, answer in enumerate(b.answers):
                for j, (alpha, beta) in enumerate(answer.ciphertexts):
                    a0, b0 = acc[qi][j]
                    acc[qi][j] = (group.mul(a0, alpha), group.mul(b0, beta))
                for j, c in enumerate(choices[qi]):
                    counts[qi][j] += int(c)
    encoded = [[(group.encode(a), group.encode(b)) for a, b in col] for col in acc]
    return out, encoded, counts


def _in_order(
    executor: Executor, tasks: Iterator[tuple[Callable[..., Any], tuple[Any, ...]]], width: int
) -> Iterator[Any]:
    """The results of ``tasks`` in their order, at most ``width`` in flight."""
    pending: list[Future[Any]] = []
    for fn, args in tasks:
        pending.append(executor.submit(fn, *args))
        if len(pending) >= width:
            yield pending.pop(0).result()
    for f in pending:
        yield f.result()


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(start + size, total)


def generate_archive(
    out: Path,
    plan: Plan,
    executor: Executor,
    workers: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    """Write the archive of ``plan`` to ``out`` (a new file: never over an existing one),
    the work done by ``executor`` (``workers`` wide). ``progress`` gets the number of ballots
    written so far."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    width = max(1, 2 * workers)
    x, trustee_public = make_trustee_key(ED25519, plan.rng("trustee"))
    trustees_raw = make_trustees([("Single", trustee_public)], ED25519)
    uuid = generate_uuid(plan.rng("uuid"))
    election_raw = make_election(strictjson.dumps_compact(TEMPLATE), uuid, ED25519, trustees_raw)
    election = parse_election(election_raw)

    publics: list[str] = []
    for part in _in_order(
        executor,
        (
            (public_credentials, (plan, uuid, a, b))
            for a, b in _chunks(plan.voters, CREDENTIAL_CHUNK)
        ),
        width,
    ):
        publics.extend(part)
    if len({hashlib.sha256(p.encode()).digest()[:16] for p in publics}) != len(publics):
        raise ValueError("two voters' public credentials are equal: choose another seed")
    publics.sort()
    credentials_raw = strictjson.dumps_compact(publics)
    del publics
    seconds["credentials"] = time.perf_counter() - t

    t = time.perf_counter()
    group = election.group
    sizes = [len(q.answers) for q in election.questions]
    acc = [[(group.one, group.one)] * n for n in sizes]
    counts = [[0] * n for n in sizes]
    total = plan.voters + plan.revotes
    setup = _Setup(plan, election_raw)
    with out.open("xb") as f:
        f.write(header_bytes(plan.timestamp))
        w = ArchiveWriter(f, ArchiveState(plan.timestamp))
        refs = {
            "election": w.data(election_raw),
            "trustees": w.data(trustees_raw),
            "credentials": w.data(credentials_raw),
        }
        w.event("Setup", w.data(strictjson.dumps_compact(refs)))
        del credentials_raw
        written = 0
        for ballots, product, chunk_counts in _in_order(
            executor, ((make_ballots, (setup, a, b)) for a, b in _chunks(total, CHUNK)), width
        ):
            for raw in ballots:
                w.event("Ballot", w.data(raw))
            for qi, col in enumerate(product):
                for j, (alpha, beta) in enumerate(col):
                    a0, b0 = acc[qi][j]
                    acc[qi][j] = (
                        group.mul(a0, group.decode(alpha)),
                        group.mul(b0, group.decode(beta)),
                    )
            for qi, col in enumerate(chunk_counts):
                for j, c in enumerate(col):
                    counts[qi][j] += c
            written += len(ballots)
            if progress is not None:
                progress(written)
        seconds["ballots"] = time.perf_counter() - t

        t = time.perf_counter()
        w.event("EndBallots")
        tally = EncryptedTally(acc, plan.voters, plan.voters, tuple(election.questions))
        et, sized = tally.json()
        w.data(et)
        w.event("EncryptedTally", w.data(sized))
        ctx = Context(group, election.public_key)
        pd = partial_decryption_json(
            ctx, election.fingerprint, x, acc, plan.rng("decryption"), election.questions
        )
        w.data(pd)
        w.event("PartialDecryption", w.data(owned_json(1, hashlib.sha256(pd).hexdigest())))
        _check_counts(election, ctx, x, acc, counts)
        w.event("Result", w.data(result_json(election, counts)))
    seconds["tally"] = time.perf_counter() - t
    return Generated(uuid, total, counts, seconds)


def _check_counts(
    election: Election, ctx: Context, x: int, tally: list[list[Any]], counts: list[list[int]]
) -> None:
    """The tally decrypts to the counts of the choices made (one exponentiation a count)."""
    group = election.group
    for qi, col in enumerate(tally):
        for j, (alpha, beta) in enumerate(col):
            m = group.div(beta, group.pow(alpha, x))
            if m != ctx.gpow(counts[qi][j]):
                raise AssertionError(f"question {qi + 1}, answer {j + 1}: the tally is wrong")
