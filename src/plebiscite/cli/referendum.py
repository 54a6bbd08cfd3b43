"""``plebiscite referendum verify``: a referendum's outcome recomputed from its public record
board and its regions' archives."""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from plebiscite.cli.common import CommandError
from plebiscite.crypto.signing import VerifyKey
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.record import (
    ArchiveFacts,
    Finding,
    RecordBoard,
    check_outcome,
    read_record,
)
from plebiscite.protocol.referendum import Counts, Outcome, format_fraction
from plebiscite.protocol.report import Report
from plebiscite.protocol.verifier import Verifier

__all__ = ["add_cluster_options", "download", "register", "verify_files"]


def add_cluster_options(v: Any) -> None:
    """``--cluster`` and ``--cluster-timeout``, as ``plebiscite verify``'s."""
    v.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="verify the archives' ballots on a Dask cluster, an archive for every 8 of its "
        "worker threads at once, each by a client process of its own (one after the other on "
        "a smaller cluster): "
        "local:N starts N worker processes here, tcp://HOST:PORT uses a running scheduler "
        "(its workers must see the archives at the same absolute paths)",
    )
    v.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to try to reach the scheduler of --cluster (default: 10)",
    )


def _read_board(path: Path, key: str | None) -> tuple[RecordBoard | None, list[Finding]]:
    try:
        with path.open("rb") as f:
            board = read_record(iter_members(f))
    except PlebisciteError as e:
        return None, [Finding("record", e.message, e.where)]
    if key is not None:
        expected = VerifyKey.from_base64(key, where="--key")
        if board.key != expected:
            return board, [
                Finding(
                    "record",
                    f"signed by key {board.key.to_base64()}, not by the key given ({key})",
                )
            ]
    return board, []


def _facts(path: Path, executor: ProcessPoolExecutor | None) -> ArchiveFacts:
    v = Verifier(lambda: path.open("rb"), executor=executor, name=str(path))
    return _facts_from(path, v, v.run())


def _facts_from(path: Path, v: Verifier, report: Report) -> ArchiveFacts:
    first = next((f for f in report.findings if f.severity == "error"), None)
    election = v.election
    return ArchiveFacts(
        archive=str(path),
        uuid=report.uuid,
        fingerprint=None if election is None else election.fingerprint,
        valid=report.valid,
        problem=None if first is None else first.describe(),
        result=report.result,
        roll=v.roll_weight,
        voted=v.voted_weight,
        election=election,
        trustees=v.raw_trustees,
    )


def _facts_of(path: str) -> ArchiveFacts:
    """One archive verified in a worker process (its ballots there, in order)."""
    return _facts(Path(path), None)


#: the worker threads each archive gets, about, when a cluster verifies several at once
ARCHIVE_THREADS = 8


def _verify_on_cluster(
    paths: list[Path], address: str, timeout: float, at_once: int | None = None
) -> list[ArchiveFacts]:
    """Every archive verified on the Dask cluster at ``address`` (:mod:`plebiscite.compute.
    cluster`), ``at_once`` of them at a time (None: one for every :data:`ARCHIVE_THREADS`
    worker threads, at least one), each one's ballots on every worker: on a thousand cores,
    a poll's shards verified about a hundred at once rather than one after the other, each
    of them too small to keep a thousand cores busy. Several at once are each verified by a
    process of its own here, a client of the same scheduler (the clients' work, a few tenths
    of a second a shard, on every core of this machine, not on one). The facts in the order
    of ``paths``."""
    import multiprocessing

    from plebiscite.compute.cluster import connect, dashboard

    with connect(address, timeout=timeout) as client:
        print(f"dask dashboard: {dashboard(client)}", file=sys.stderr, flush=True)
        if at_once is None:
            threads = sum(client.nthreads().values())  # type: ignore[no-untyped-call]
            at_once = threads // ARCHIVE_THREADS
        at_once = max(1, min(at_once, len(paths)))
        if at_once == 1:
            return [_facts_on(p, client) for p in paths]
        scheduler = str(client.scheduler_info()["address"])
        spawn = multiprocessing.get_context("spawn")  # no fork of a process with a client
        with ProcessPoolExecutor(at_once, mp_context=spawn) as pool:
            at = functools.partial(_facts_at, address=scheduler, timeout=timeout)
            return list(pool.map(at, [str(p) for p in paths]))


def _facts_on(path: Path, client: Any) -> ArchiveFacts:
    """One archive verified on the cluster of ``client``."""
    from plebiscite.compute.cluster import cluster_verifier, run_on_cluster

    v = cluster_verifier(path, client, name=str(path))
    return _facts_from(path, v, run_on_cluster(v))


def _facts_at(path: str, *, address: str, timeout: float) -> ArchiveFacts:
    """One archive verified in a process of its own, a client of the scheduler at
    ``address``."""
    from plebiscite.compute.cluster import connect

    with connect(address, timeout=timeout) as client:
        return _facts_on(Path(path), client)


def _verify_all(paths: list[Path], jobs: int) -> list[ArchiveFacts]:
    """Every archive verified: with several archives and ``jobs`` > 1, the archives in
    parallel (one worker process each, at most ``jobs``); one archive's ballots on ``jobs``
    processes otherwise."""
    if jobs <= 1:
        return [_facts(p, None) for p in paths]
    if len(paths) == 1:
        with ProcessPoolExecutor(max_workers=jobs) as executor:
            return [_facts(paths[0], executor)]
    with ProcessPoolExecutor(max_workers=min(jobs, len(paths))) as executor:
        return list(executor.map(_facts_of, [str(p) for p in paths]))


def _download(url: str, directory: Path) -> tuple[list[Path], str]:
    """The record board and every region's archive of the referendum at ``url``
    (``https://host/api/referendums/RID``), downloaded into ``directory`` as an observer
    does; returns the files (the record first) and the server's signing key."""
    base, sep, rid = url.rstrip("/").partition("/api/referendums/")
    if not sep or not rid or "/" in rid:
        raise CommandError(f"{url}: expected the referendum's address, URL/api/referendums/RID", 2)
    return download(base, rid, directory, url)


def download(base: str, rid: str, directory: Path, url: str) -> tuple[list[Path], str]:
    """The record board and every region's archive of referendum (or poll) ``rid`` on the
    server at ``base``, downloaded into ``directory``; ``url``: what errors name."""
    from plebiscite.client import Observer, PartyError

    observer = Observer(base)
    try:
        key = observer.server_key()
        record = observer.download_record(rid, directory)
        archives = [
            observer.download_archive(str(r["election"]), directory)
            for r in observer.status(rid)["regions"]
            if r.get("archive")
        ]
    except PartyError as e:
        raise CommandError(f"{url}: {e}", 2) from None
    finally:
        observer.disconnect()
    return [record, *archives], key


def _cmd_verify(args: argparse.Namespace) -> int:
    if args.record.startswith(("http://", "https://")):
        if args.archives:
            raise CommandError("give the referendum's address alone: its archives come from it", 2)
        with tempfile.TemporaryDirectory(prefix="plebiscite-referendum-") as d:
            paths, key = _download(args.record, Path(d))
            return verify_files(args, paths, args.key or key)
    if not args.archives:
        raise CommandError("give every region's archive after the record", 2)
    return verify_files(args, [Path(args.record), *(Path(a) for a in args.archives)], args.key)


def verify_files(
    args: argparse.Namespace, paths: list[Path], key: str | None, command: str = "referendum"
) -> int:
    """Verify the record board ``paths[0]`` and the archives ``paths[1:]`` (``args.json``,
    ``args.jobs``); the exit status."""
    for p in paths:
        if not p.is_file():
            print(f"plebiscite {command} verify: {p}: no such file", file=sys.stderr)
            return 2
    board, findings = _read_board(paths[0], key)
    facts: list[ArchiveFacts] = []
    outcome: Outcome | None = None
    cluster = getattr(args, "cluster", None)
    if cluster and args.jobs:
        print(f"plebiscite {command} verify: give --jobs or --cluster, not both", file=sys.stderr)
        return 2
    if board is not None and not findings:
        if cluster:
            from plebiscite.compute.cluster import ClusterError

            try:
                facts = _verify_on_cluster(paths[1:], cluster, args.cluster_timeout)
            except ClusterError as e:
                print(f"plebiscite {command} verify: {e}", file=sys.stderr)
                return 2
        else:
            facts = _verify_all(paths[1:], args.jobs or os.cpu_count() or 1)
        outcome, more = check_outcome(board, facts)
        findings += more
    valid = not findings
    if args.json:
        json.dump(_json(str(paths[0]), board, facts, outcome, findings), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print(str(paths[0]), board, facts, outcome, findings)
    return 0 if valid else 1


def _json(
    record: str,
    board: RecordBoard | None,
    facts: list[ArchiveFacts],
    outcome: Outcome | None,
    findings: list[Finding],
) -> dict[str, Any]:
    return {
        "record": record,
        "referendum": None if board is None else board.record.id,
        "fingerprint": None if board is None else board.record.fingerprint,
        "key": None if board is None else board.key.to_base64(),
        "height": None if board is None else board.height,
        "archives": [
            {
                "archive": a.archive,
                "election": a.uuid,
                "fingerprint": a.fingerprint,
                "valid": a.valid,
                "result": a.result,
                "roll": a.roll,
                "voted": a.voted,
            }
            for a in facts
        ],
        "outcome": None if outcome is None else json.loads(outcome.to_json()),
        "published": None if board is None else board.outcome,
        "findings": [{"check": f.check, "message": f.message, "where": f.where} for f in findings],
        "valid": not findings,
    }


def _print(
    record: str,
    board: RecordBoard | None,
    facts: list[ArchiveFacts],
    outcome: Outcome | None,
    findings: list[Finding],
) -> None:
    out = sys.stdout
    out.write(f"record:     {record}\n")
    if board is not None:
        r = board.record
        what = "poll:      " if r.is_poll else "referendum:"
        out.write(f"{what} {r.id} ({r.title!r}, record {r.fingerprint})\n")
        out.write(f"signed by:  {board.key.to_base64()} ({len(board.checkpoints)} checkpoints)\n")
        rule = r.rule
        if rule is not None:
            out.write(f"rule:       {rule.describe(r.questions)}\n")
        else:
            out.write("rule:       none: the outcome is the counts, with no verdict\n")
    for a in facts:
        out.write(f"archive:    {a.archive}: election {a.uuid}, ")
        out.write(f"{'valid' if a.valid else 'INVALID'}, result {json.dumps(a.result)}\n")
    if outcome is not None:
        what = "shard" if board is not None and board.record.is_poll else "region"
        for o in outcome.regions:
            said = "" if o.verdict is None else f"{o.verdict.value}: "
            out.write(f"{what + ':':<11} {o.region.name!r}: {said}{o.reason}\n")
        if outcome.pooled is not None:
            out.write(f"pooled:     {outcome.pooled_verdict}: ")
            out.write(f"{outcome.pooled.yes} yes of {outcome.pooled.valid} valid votes\n")
        if board is not None and outcome.pooled_counts is not None:
            out.write(f"pooled:     {_counts_text(board, outcome.pooled_counts)}\n")
        if outcome.verdict is not None:
            out.write(f"verdict:    {outcome.verdict.value}\n")
    if board is not None and board.outcome is not None:
        out.write(f"published:  {board.outcome.get('verdict')}\n")
    for f in findings:
        out.write(f"ERROR: {f.describe()}\n")
    out.write(
        "VALID: the published outcome is the one recomputed\n" if not findings else "INVALID\n"
    )


def _counts_text(board: RecordBoard, c: Counts) -> str:
    """Each answer's count and share (exact, and as a percentage), question by question."""
    parts = [f"{c.voted} of {c.roll} on the roll voted"]
    for i, (q, col, shares) in enumerate(
        zip(board.record.questions, c.result, c.shares, strict=False)
    ):
        if shares is None:
            parts.append(f"question {i}: {json.dumps(col)}")
            continue
        answers = col[len(col) - len(shares) :]
        said = ", ".join(
            f"{name!r} {n}" + ("" if f is None else f" ({format_fraction(f)})")
            for name, n, f in zip(q.answers, answers, shares, strict=False)
        )
        parts.append(f"question {i}: {said}")
    return "; ".join(parts)


def register(sub: Any) -> None:
    ref = sub.add_parser(
        "referendum",
        help="a referendum's public record and outcome",
        description="Commands about a referendum's record board.",
    )
    rsub = ref.add_subparsers(dest="referendum_command", metavar="COMMAND", required=True)
    v = rsub.add_parser(
        "verify",
        help="recompute a referendum's outcome from its record board and its regions' archives",
        description="Check the record board (its hash chain, the order of its events, every "
        "signed checkpoint), that each archive is the election of one of its regions (uuid and "
        "fingerprint), every archive in full, then recompute every region's result and the "
        "outcome under the record's rule and compare them with what the record published. "
        "Exit status 0 if and only if all agree.",
    )
    v.add_argument(
        "record",
        help="the record board, RID.record.bel (GET /api/referendums/RID/record), or the "
        "referendum's address on a server, URL/api/referendums/RID: the record and every "
        "region's archive are then downloaded from it",
    )
    v.add_argument("archives", nargs="*", help="every region's election archive, UUID.bel")
    v.add_argument(
        "--key",
        metavar="PUBLIC_KEY",
        help="the server's signing key (Base64) the record board must be signed with (with "
        "a server's address: by default the key the server publishes, /api/server-key)",
    )
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes verifying ballots (default: all cores)",
    )
    add_cluster_options(v)
    v.set_defaults(func=_cmd_verify)
