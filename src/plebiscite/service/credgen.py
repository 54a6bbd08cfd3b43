"""The voters' credentials of a large roll, made on every core and handed over a chunk at a
time.

:func:`plebiscite.protocol.election_setup.generate_credentials` makes one fresh credential a
voter (section 3.1, step 3) in the calling thread. For a roll of hundreds of thousands (a
poll's shard) :class:`CredentialMaker` splits it into chunks of :data:`CHUNK` voters, makes
them in worker processes (each drawing from the operating system's random source) and yields
them in the roll's order, at most two chunks a worker in flight: the caller stores each chunk
(its letters, its public credentials) before the next arrives, so memory holds a few chunks,
not the roll. The public credentials stay distinct across chunks (step 7: a repeat, which
has a negligible chance, is made again here). Rolls under :data:`PARALLEL_FROM` voters, and
every roll drawn from a deterministic random source (the tests' vectors), are made in the
calling thread, in order, from that source.

The worker processes are started with ``spawn`` (the server has threads: a fork could copy
a lock held by one of them) the first time they are needed, and kept for the next roll.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import credential_secret, generate_credential
from plebiscite.crypto.groups import Group, group_by_name
from plebiscite.crypto.rand import RandomSource, SystemRandom
from plebiscite.protocol.election_setup import VoterCredential, generate_credentials

__all__ = ["CHUNK", "PARALLEL_FROM", "CredentialMaker"]

#: voters a chunk
CHUNK = 10_000
#: the smallest roll made in worker processes
PARALLEL_FROM = 20_000


def _chunk(
    voters: Sequence[tuple[str, int | None]], uuid: str, group_name: str
) -> list[VoterCredential]:
    """A worker process's chunk: fresh credentials from the operating system's randomness."""
    return generate_credentials(voters, uuid, group_by_name(group_name), SystemRandom())


class CredentialMaker:
    """Makes the credentials of a roll on ``workers`` processes (default: every core), in
    chunks of ``chunk`` voters from rolls of ``parallel_from`` voters."""

    def __init__(
        self, workers: int | None = None, *, chunk: int = CHUNK, parallel_from: int = PARALLEL_FROM
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.chunk, self.parallel_from = chunk, parallel_from
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn")
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def make(
        self,
        voters: Sequence[tuple[str, int | None]],
        uuid: str,
        group: Group,
        rng: RandomSource,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[list[VoterCredential]]:
        """The credentials of ``voters`` in their order, a chunk at a time; ``progress`` is
        called with the number made so far after each chunk."""
        if len(voters) < self.parallel_from or not isinstance(rng, SystemRandom):
            creds = generate_credentials(voters, uuid, group, rng)
            if progress is not None:
                progress(len(creds))
            yield creds
            return
        pool = self._executor()
        size = self.chunk
        starts = range(0, len(voters), size)
        pending: deque[concurrent.futures.Future[list[VoterCredential]]] = deque()
        made = 0
        seen: set[object] = set()
        ctx = Context(group)
        it = iter(starts)

        def submit() -> None:
            start = next(it, None)
            if start is not None:
                part = list(voters[start : start + size])
                pending.append(pool.submit(_chunk, part, uuid, group.name))

        try:
            for _ in range(2 * self.workers):
                submit()
            while pending:
                creds = pending.popleft().result()
                submit()
                for i, c in enumerate(creds):
                    if c.public in seen:  # step 7: distinct public credentials
                        creds[i] = c = _again(c, uuid, group, ctx, seen, rng)
                    seen.add(c.public)
                made += len(creds)
                if progress is not None:
                    progress(made)
                yield creds
        finally:
            for f in pending:
                f.cancel()


def _again(
    c: VoterCredential, uuid: str, group: Group, ctx: Context, seen: set[object], rng: RandomSource
) -> VoterCredential:
    while True:
        private = generate_credential(rng)
        public = ctx.gpow(credential_secret(private, uuid, group))
        if public not in seen:
            return VoterCredential(c.login, c.weight, private, public)
