"""``plebiscite verify``: check an election archive."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from plebiscite.cli.progress import Progress
from plebiscite.protocol.report import Report
from plebiscite.protocol.verifier import MapStepError, Verifier

__all__ = ["register"]


def _cmd_verify(args: argparse.Namespace) -> int:
    url = _is_url(args.archive)
    path = Path(args.archive)
    if not url and not path.is_file():
        print(f"plebiscite verify: {path}: no such file", file=sys.stderr)
        return 2
    if url and args.since:
        print("plebiscite verify: --since needs a local archive", file=sys.stderr)
        return 2
    if url:  # as for a path: an address that cannot be read gives no verdict
        from plebiscite.compute.cluster import open_archive

        try:
            with open_archive(args.archive) as f:
                f.read(1)
        except Exception as e:  # fsspec's and aiohttp's errors alike: no verdict
            print(f"plebiscite verify: {args.archive}: cannot be read ({e})", file=sys.stderr)
            return 2
    progress = (
        Progress(sys.stderr, "verifying ballots")
        if (sys.stderr.isatty() and not args.json)
        else None
    )
    if args.cluster:
        if args.jobs:
            print("plebiscite verify: give --jobs or --cluster, not both", file=sys.stderr)
            return 2
        try:
            report = _verify_on_cluster(
                args.archive if url else path, args.cluster, args.cluster_timeout, progress
            )
        except Exception as e:
            from plebiscite.compute.cluster import ClusterError

            if not isinstance(e, ClusterError):
                raise
            print(f"plebiscite verify: {e}", file=sys.stderr)
            return 2
        finally:
            if progress:
                progress.close()
        return _finish(report, args)
    jobs = args.jobs or os.cpu_count() or 1
    executor = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else None
    try:
        report = _local_verifier(args.archive if url else path, executor, jobs, progress).run()
    except MapStepError as e:
        print(f"plebiscite verify: {e} (no verdict)", file=sys.stderr)
        return 2
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
        if progress:
            progress.close()
    return _finish(report, args)


def _local_verifier(
    archive: Path | str, executor: ProcessPoolExecutor | None, jobs: int, progress: Progress | None
) -> Verifier:
    """The pipeline of ``--cluster`` on this machine: the archive indexed, each chunk of
    ballots read from its byte ranges and verified by a worker process (here with one job),
    the reduce partitioned by credential in this process
    (:class:`~plebiscite.protocol.reduce.PoolRunner`), the partitions' records beyond a bound
    in sorted runs on local disk (:func:`~plebiscite.compute.spill.disk_partition`)."""
    import functools

    from plebiscite.compute.cluster import map_ballots_at, roll_range_at, scan_range_at
    from plebiscite.compute.spill import disk_partition
    from plebiscite.protocol.reduce import PoolRunner

    location = archive if isinstance(archive, str) else str(archive.resolve())
    return Verifier(
        _opener(archive) if isinstance(archive, str) else (lambda: archive.open("rb")),
        executor=executor,
        workers=jobs if executor is not None else 1,
        map_ballots=functools.partial(map_ballots_at, location),
        scan=functools.partial(scan_range_at, location),
        roll=functools.partial(roll_range_at, location),
        partitions=PoolRunner(executor, jobs),
        new_partition=disk_partition,
        name=str(archive),
        progress=progress.advance if progress else None,
    )


def _is_url(location: str) -> bool:
    """Whether ARCHIVE is a URL (read through fsspec: :func:`plebiscite.compute.cluster.is_url`)
    rather than a path; a path that exists is a path."""
    import re

    return re.match(r"[a-z][a-z0-9+.-]*://", location, re.IGNORECASE) is not None and not (
        Path(location).exists()
    )


def _opener(url: str) -> Callable[[], BinaryIO]:
    def open_url() -> BinaryIO:
        from plebiscite.compute.cluster import open_archive

        return open_archive(url)

    return open_url


def _verify_on_cluster(
    path: Path | str, address: str, timeout: float, progress: Progress | None
) -> Report:
    """The ballots verified on a Dask cluster (:mod:`plebiscite.compute.cluster`), the rest
    here; the dashboard's address on stderr."""
    from plebiscite.compute.cluster import connect, dashboard, verify_on_cluster

    with connect(address, timeout=timeout) as client:
        print(f"dask dashboard: {dashboard(client)}", file=sys.stderr, flush=True)
        return verify_on_cluster(
            path, client, name=str(path), progress=progress.advance if progress else None
        )


def _finish(report: Report, args: argparse.Namespace) -> int:
    if args.since:
        _check_since(report, Path(args.since))
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return 0 if report.valid else 1


def _check_since(report: Report, earlier: Path) -> None:
    from plebiscite.errors import ConsistencyError, EncodingError, PlebisciteError
    from plebiscite.protocol.report import Finding
    from plebiscite.protocol.since import compare_event_chains

    report.since = str(earlier)
    try:
        with earlier.open("rb") as old, Path(report.archive).open("rb") as new:
            compare_event_chains(old, new)
    except OSError as e:
        err: PlebisciteError = EncodingError(f"cannot read {earlier}: {e.strerror or e}")
        report.findings.append(Finding("since", err.code, err.message))
    except (ConsistencyError, PlebisciteError) as e:
        report.findings.append(Finding("since", e.code, e.message, e.where))


def _print_report(r: Report) -> None:
    out = sys.stdout
    out.write(f"archive:   {r.archive}\n")
    if r.uuid:
        out.write(f"election:  {r.name} ({r.uuid}, group {r.group})\n")
    if r.record:
        features = f" ({', '.join(r.record_features)})" if r.record_features else ""
        out.write(f"record:    Belenios {r.record}{features}\n")
    out.write(f"events:    {r.events}, ballots cast: {r.ballots}, voters: {r.voters}\n")
    if r.since:
        out.write(f"extends:   {r.since}\n")
    if r.status in ("setup", "open"):
        out.write(f"status:    open, {r.ballots} ballots so far\n")
    else:
        out.write(f"status:    {r.status}")
        if r.tallied is not None:
            out.write(f", {r.tallied} ballots tallied, total weight {r.total_weight}")
        out.write("\n")
    if r.result is not None:
        for q, res in zip(r.questions, r.result, strict=False):
            out.write(f"question:  {q['question']}\n")
            if q.get("type") == "Lists":
                for row, counts in zip(q["answers"], res, strict=False):
                    out.write(f"    {counts[0]:>10}  {row[0]} (list)\n")
                    for label, count in zip(row[1:], counts[1:], strict=False):
                        out.write(f"    {count:>10}    {label}\n")
            elif q["homomorphic"]:
                labels: list[Any] = (["(blank)"] if q.get("blank") else []) + q["answers"]
                for label, count in zip(labels, res, strict=False):
                    out.write(f"    {count:>10}  {label}\n")
            else:
                out.write(f"    {len(res)} ballots (raw, shuffled): {json.dumps(res)[:200]}\n")
    for f in r.findings:
        out.write(f"{f.severity.upper()}: {f.describe()}\n")
    if r.truncated_findings:
        out.write(f"... and {r.truncated_findings} more findings\n")
    out.write("VALID\n" if r.valid else "INVALID\n")


def register(sub: Any) -> None:
    v = sub.add_parser(
        "verify",
        help="verify a Belenios election archive (.bel: 2.0 and 3.x records)",
        description="Check every ballot, proof, the tally, the partial decryptions and the "
        "result of an election archive. Exit status 0 if and only if it is valid.",
    )
    v.add_argument(
        "archive",
        help="the election archive, UUID.bel: a path, or a URL read through fsspec (https://, "
        "an object store's scheme with its fsspec package; each worker of --cluster reads its "
        "own byte ranges)",
    )
    v.add_argument(
        "--since",
        metavar="EARLIER_ARCHIVE",
        help="also check that the archive extends this earlier copy of it",
    )
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="processes verifying ballots (default: all cores)",
    )
    v.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="verify the ballots on a Dask cluster: local:N starts N worker processes here, "
        "tcp://HOST:PORT uses a running scheduler (its workers must see ARCHIVE at the same "
        "absolute path); the rest of the verification runs in this process",
    )
    v.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to try to reach the scheduler of --cluster (default: 10)",
    )
    v.set_defaults(func=_cmd_verify)
