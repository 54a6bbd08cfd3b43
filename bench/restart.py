#!/usr/bin/env python3
"""Benchmark: the board server's restart time with many ballots on the board, resuming its
live verifier from the checkpoint stored in its private store instead of verifying again.

An election of N voters (default 100,000; ``--ballots N``) with one yes/no question,
BELENIOS-2048, one trustee ("Single"), and one ballot per voter is made once and kept in
``.cache/bench/restart-N.jsonl.gz`` (the setup on its first line, then one ballot a line);
the credentials and the ballots are made on every core.

For each database (``--databases sqlite,postgres``: a SQLite file, a fresh database of a
PostgreSQL server started for the benchmark), the board is written with the library (the
Setup, then the ballots in appends of :data:`BATCH`), and the verifier's checkpoint is made
once by an :class:`~plebiscite.service.election.ElectionState` verifying the whole board on
every core (what a start without a checkpoint costs: the first full verification column). Then
``plebiscite serve`` is started on that database with that signing key, three times, stopped
by SIGTERM in between (it saves its state on the way out): the time from starting the process
to ``/healthz`` answering 200, the server's peak memory (``VmHWM``); after each start the
election must report N ballots and be valid, and the server's log must not say that it
verified the whole board (the checkpoint not used). The checkpoint's size is that of its base
and every delta in the private store after the last stop.

The default run (100,000 ballots, both databases) took 20 minutes on 2 shared cores: 4 to make
the election (once), 6 to 7 for each first full verification.

    ./dev bench restart [--ballots N] [--databases sqlite,postgres] [--starts 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from common import ROOT
from ingest import Server
from peer import YES_NO
from plebiscite import strictjson
from plebiscite.board import Head, Item, open_board
from plebiscite.board.private import private_of
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import BELENIOS_2048
from plebiscite.crypto.rand import DeterministicRandom, SystemRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.election_setup import (
    VoterCredential,
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.service.election import (
    CHECKPOINT_KIND,
    DELTA_KIND,
    ElectionState,
    setup_archive,
)

if TYPE_CHECKING:
    from board.pg import PgTestServer

BATCH = 500
"""Ballots per append when the board is written."""
CHUNK = 500
"""Credentials or ballots per task of the worker processes."""
NOT_RESUMED = "verifying the whole board"
"""What the server logs when it does not use the stored checkpoint."""
JOBS = os.cpu_count() or 1


# -- the election and its ballots, made once ---------------------------------------------------


@dataclass
class Made:
    setup: dict[str, str]  # election, trustees, credentials: their exact JSON texts
    ballots: list[bytes]
    timings: dict[str, float]  # how long making them took (seconds), and on how many cores


def _credentials(uuid: str, start: int, count: int) -> list[VoterCredential]:
    """Credentials of voters ``start`` to ``start + count - 1`` (in a worker process)."""
    rng = DeterministicRandom(f"bench-restart-credentials-{start}")
    voters: list[tuple[str, int | None]] = [(f"v{i}", None) for i in range(start, start + count)]
    return generate_credentials(voters, uuid, BELENIOS_2048, rng)


_worker: tuple[Election, Context] | None = None


def _init_ballots(election_raw: bytes) -> None:
    global _worker
    election = parse_election(election_raw)
    _worker = (election, Context(election.group, election.public_key))


def _ballots(items: Sequence[tuple[int, str]]) -> list[bytes]:
    """The ballots of ``(voter, credential)`` items, yes and no in turn (in a worker process)."""
    assert _worker is not None
    election, ctx = _worker
    return [
        make_ballot(
            election,
            cred,
            [[1, 0] if i % 2 else [0, 1]],
            DeterministicRandom(f"restart-{i}"),
            ctx=ctx,
        )
        for i, cred in items
    ]


def chunks(n: int) -> list[tuple[int, int]]:
    return [(start, min(CHUNK, n - start)) for start in range(0, n, CHUNK)]


def make(count: int) -> Made:
    """An election of ``count`` voters and a ballot of each, on every core."""
    rng = DeterministicRandom(f"bench-restart-{count}")
    group = BELENIOS_2048
    uuid = generate_uuid(rng)
    _, key = make_trustee_key(group, rng)
    trustees = make_trustees([("Single", key)], group)
    template = {"description": "restart", "name": "restart", "questions": [YES_NO]}
    election_raw = make_election(strictjson.dumps_compact(template), uuid, group, trustees)
    parts = chunks(count)
    t0 = time.perf_counter()
    creds: list[VoterCredential] = []
    with ProcessPoolExecutor(JOBS) as pool:
        for some in pool.map(_credentials, [uuid] * len(parts), *zip(*parts, strict=True)):
            creds.extend(some)
    if len({c.public for c in creds}) != count:  # as generate_credentials ensures in one call
        raise SystemExit("two voters got the same public credential: make the election again")
    t_creds = time.perf_counter() - t0
    print(f"  {count} credentials: {t_creds:.1f} s on {JOBS} cores", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    ballots: list[bytes] = []
    items = [(i, c.private) for i, c in enumerate(creds)]
    with ProcessPoolExecutor(JOBS, initializer=_init_ballots, initargs=(election_raw,)) as pool:
        work = [items[s : s + n] for s, n in parts]
        for k, out in enumerate(pool.map(_ballots, work), 1):
            ballots.extend(out)
            if k % max(1, len(work) // 10) == 0 or k == len(work):
                print(
                    f"  {len(ballots)} ballots, {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    t_ballots = time.perf_counter() - t0
    setup = {
        "election": election_raw.decode(),
        "trustees": trustees.decode(),
        "credentials": public_credentials_json(creds).decode(),
    }
    timings = {"credentials": t_creds, "ballots": t_ballots, "cores": JOBS}
    return Made(setup, ballots, timings)


def election_with_ballots(count: int) -> Made:
    """The election of ``count`` voters and their ballots, made once (kept in .cache/bench/)."""
    path = ROOT / ".cache" / "bench" / f"restart-{count}.jsonl.gz"
    if path.exists():
        with gzip.open(path, "rb") as f:
            header = json.loads(f.readline())
            ballots = [line.rstrip(b"\n") for line in f]
        if len(ballots) == count:
            return Made(header["setup"], ballots, header["made"])
        print(f"{path}: {len(ballots)} ballots, not {count}: made again", file=sys.stderr)
    print(f"making an election with {count} voters and ballots (once)...", file=sys.stderr)
    made = make(count)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wb", compresslevel=1) as f:
        f.write(json.dumps({"setup": made.setup, "made": made.timings}).encode() + b"\n")
        for b in made.ballots:
            assert b"\n" not in b
            f.write(b + b"\n")
    tmp.replace(path)
    return made


# -- one database --------------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    ballots: int
    write: float  # writing the board with the library
    verify: float  # the first full verification (and saving its checkpoint)
    restarts: list[float] = field(default_factory=list)
    checkpoint_first: int = 0  # bytes of the checkpoint (base + deltas) after the first one
    checkpoint: int = 0  # after the last stop of the server
    deltas: int = 0
    peak_mib: list[float] = field(default_factory=list)


def checkpoint_size(url: str, uuid: str) -> tuple[int, int]:
    """Bytes of the stored verifier checkpoint of ``uuid`` (its base and every delta) and the
    number of deltas."""
    board = open_board(url)
    try:
        private = private_of(board)
        base = private.get(CHECKPOINT_KIND, uuid) or b""
        deltas = private.items(DELTA_KIND, f"{uuid}/")
        return len(base) + sum(len(d) for _, d in deltas), len(deltas)
    finally:
        board.close()


def write_board(url: str, made: Made) -> tuple[str, float]:
    """The election's board at ``url``: its Setup, then every ballot. Returns its uuid and the
    seconds it took."""
    raws = tuple(made.setup[k].encode() for k in ("election", "trustees", "credentials"))
    uuid = parse_election(raws[0]).uuid
    timestamp = int(time.time())
    _, setup_data = setup_archive(raws, timestamp)
    t0 = time.perf_counter()
    board = open_board(url)
    try:
        board.create(uuid, timestamp)
        head = board.append(uuid, Head(), [Item("Setup", (*raws, setup_data))])
        for start in range(0, len(made.ballots), BATCH):
            batch = made.ballots[start : start + BATCH]
            head = board.append(uuid, head, [Item("Ballot", (raw,)) for raw in batch])
    finally:
        board.close()
    return uuid, time.perf_counter() - t0


def first_verification(url: str, uuid: str, key: SigningKey) -> float:
    """The whole board verified once on every core, and the verifier's checkpoint saved (as
    a server starting without one does). Returns the seconds it took."""
    board = open_board(url)
    try:
        with ProcessPoolExecutor(JOBS) as pool:
            t0 = time.perf_counter()
            state = ElectionState(uuid, board, key, private_of(board), executor=pool)
            elapsed = time.perf_counter() - t0
        if state.resumed or not state.verifier.report.valid:
            raise SystemExit(f"the first verification of {uuid} did not verify the whole board")
    finally:
        board.close()
    return elapsed


def status(url: str, uuid: str) -> dict[str, Any]:
    r = httpx.get(f"{url}/api/elections/{uuid}", timeout=600)
    if r.status_code != 200:
        raise SystemExit(f"GET /api/elections/{uuid}: {r.status_code} {r.text[:300]}")
    answer: dict[str, Any] = r.json()
    return answer


def measure(name: str, url: str, workdir: Path, made: Made, starts: int) -> Result:
    n = len(made.ballots)
    uuid, write = write_board(url, made)
    print(f"{name}: board written in {write:.1f} s", file=sys.stderr, flush=True)
    key = SigningKey.generate(SystemRandom())
    key_file = workdir / "server.key"  # where ingest.Server's plebiscite serve reads it
    key_file.touch(mode=0o600)
    key_file.write_text(key.to_base64() + "\n")
    verify = first_verification(url, uuid, key)
    print(
        f"{name}: whole board verified in {verify:.1f} s on {JOBS} cores",
        file=sys.stderr,
        flush=True,
    )
    result = Result(name, n, write, verify)
    result.checkpoint_first, _ = checkpoint_size(url, uuid)
    server = Server(url, workdir)
    log = workdir / "server.log"
    for k in range(starts):
        logged = log.stat().st_size if log.exists() else 0
        try:
            elapsed = server.start()
            s = status(server.url, uuid)
            result.peak_mib.append(server.peak_mib())
        finally:
            server.stop()
        text = log.read_bytes()[logged:].decode(errors="replace")
        if s["ballots"] != n or not s["valid"]:
            raise SystemExit(f"{name}: after start {k + 1}, the election reports {s}")
        if NOT_RESUMED in text:
            raise SystemExit(f"{name}: start {k + 1} did not use the checkpoint: {text[-1000:]}")
        result.restarts.append(elapsed)
        print(
            f"{name}: start {k + 1}: /healthz after {elapsed:.2f} s, {s['ballots']} ballots, valid",
            file=sys.stderr,
            flush=True,
        )
    result.checkpoint, result.deltas = checkpoint_size(url, uuid)
    return result


@contextmanager
def scratch(name: str, pg: PgTestServer | None) -> Iterator[tuple[str, Path]]:
    """A fresh database (a SQLite file or a new PostgreSQL database) and a working directory."""
    with tempfile.TemporaryDirectory(prefix="restart-", dir=ROOT / ".cache") as tmp:
        if name == "sqlite":
            yield str(Path(tmp) / "board.db"), Path(tmp)
        else:
            assert pg is not None
            with pg.fresh_database() as dsn:
                yield dsn, Path(tmp)


# -- the whole benchmark -----------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ballots", type=int, default=100_000, help="voters and ballots")
    ap.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    ap.add_argument("--starts", type=int, default=3, help="server starts measured per database")
    args = ap.parse_args()
    names = [d for d in args.databases.split(",") if d]
    if not names or not set(names) <= {"sqlite", "postgres"}:
        raise SystemExit("--databases: sqlite, postgres or both")
    if args.ballots < 1 or args.starts < 1:
        raise SystemExit("--ballots, --starts: at least 1")

    made = election_with_ballots(args.ballots)
    pg = None
    if "postgres" in names:
        from board.pg import PgTestServer, PgTestServerError  # tests/ is on the path (common)

        try:
            pg = PgTestServer.start(dedicated=True)
        except PgTestServerError as exc:
            print(f"PostgreSQL skipped (./dev test installs it): {exc}", file=sys.stderr)
            names.remove("postgres")
    results: list[Result] = []
    try:
        for name in names:
            with scratch(name, pg) as (url, tmp):
                results.append(measure(name, url, tmp, made, args.starts))
    finally:
        if pg is not None:
            pg.stop()

    t = made.timings
    print()
    print(
        f"{args.ballots} voters, one ballot each, BELENIOS-2048, one yes/no question, one "
        f"trustee; made once in {t['credentials']:.0f} s (credentials) + {t['ballots']:.0f} s "
        f"(ballots) on {t['cores']:.0f} cores"
    )
    header = (
        f"{'database':<9} {'ballots':>8} {'board write s':>13} {'first full verification s':>25} "
        f"{'restart to /healthz s (min/median/max)':>38} {'checkpoint bytes':>16} "
        f"{'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        spread = (
            f"{min(r.restarts):.2f} / {statistics.median(r.restarts):.2f} / {max(r.restarts):.2f}"
        )
        print(
            f"{r.database:<9} {r.ballots:>8} {r.write:>13.1f} "
            f"{f'{r.verify:.1f} ({JOBS} cores)':>25} {spread:>38} "
            f"{r.checkpoint:>16,} {max(r.peak_mib):>8.0f}"
        )
    print(
        f"restart: from starting `plebiscite serve` to /healthz answering 200, {args.starts} "
        "starts, SIGTERM between them; each reported every ballot, valid, from the checkpoint "
        "(never verifying the whole board)"
    )
    for r in results:
        print(
            f"checkpoint ({r.database}): base and {r.deltas} delta(s) after the last stop; "
            f"{r.checkpoint_first:,} bytes when first made; peak MiB: the largest VmHWM of "
            f"the {len(r.peak_mib)} server processes ({', '.join(f'{m:.0f}' for m in r.peak_mib)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
