#!/usr/bin/env python3
"""Benchmark: the whole tally of a 1000-ballot election, plebiscite against belenios-tool, same
archive, same run, in each group: BELENIOS-2048 against belenios-tool 2.0 (three single
trustees) and Ed25519 against belenios-tool 3.0 (one single trustee). From the archive cut at
EndBallots: the encrypted tally, the partial decryptions and the result, each appended to the
archive, every step as its own command as the parties would run them (with no checkpoint at the
start). plebiscite's archive is verified by plebiscite and its result compared with the peer's.
plebiscite's commands verify the archive before they act on it (the first one every ballot, the
next ones what was appended since); belenios-tool 3.0's do not verify the ballots.
The load average is printed: on a shared machine the timings are disturbed.

    ./dev bench tally [--voters N] [--group BELENIOS-2048|Ed25519]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from common import BenchElection, bench_elections, group_option, load, plebiscite_command, run
from peer3 import read_result
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive

Times = dict[str, float]


def closed_copy(archive: Path, target: Path) -> Path:
    """The archive up to EndBallots: the state the tally starts from."""
    a = Archive.load(archive)
    end = next(i for i, e in a.events() if e["type"] == "EndBallots")
    a.entries = a.entries[: end + 1]
    return a.write(target / archive.name)


def peer_tally(e: BenchElection, d: Path, keys: list[Path]) -> Times:
    def step(args: list[str], event: str) -> float:
        s, out = run([e.tool, *args, "--dir", str(d)])
        s2, _ = run([e.tool, "archive", "add-event", "--dir", str(d), f"--type={event}"], stdin=out)
        return s + s2

    times = {"encrypted tally": step(["election", "compute-encrypted-tally"], "EncryptedTally")}
    for i, key in enumerate(keys, start=1):
        args = ["election", "decrypt", "--privkey", str(key), f"--trustee-id={i}"]
        times[f"partial decryption {i}"] = step(args, "PartialDecryption")
    times["result"] = step(["election", "compute-result"], "Result")
    return times


def our_tally(d: Path, keys: list[Path]) -> Times:
    p = plebiscite_command()

    def step(args: list[str], event: str) -> float:
        s, out = run([*p, *args, "--dir", str(d)])
        s2, _ = run([*p, "admin", "add-event", "--dir", str(d), "--type", event], stdin=out)
        return s + s2

    times = {"encrypted tally": step(["admin", "tally"], "EncryptedTally")}
    for i, key in enumerate(keys, start=1):
        times[f"partial decryption {i}"] = step(
            ["trustee", "decrypt", "--privkey", str(key)], "PartialDecryption"
        )
    times["result"] = step(["admin", "result"], "Result")
    return times


def tally(e: BenchElection, t: Path) -> tuple[Times, Times, object]:
    """The peer's and plebiscite's times of each step, and the result."""
    keys = e.private_keys()
    (t / "peer").mkdir()
    (t / "ours").mkdir()
    os.environ["PLEBISCITE_CACHE"] = str(t / "cache")  # start with no checkpoint
    peer_archive = closed_copy(e.archive, t / "peer")
    ours_archive = closed_copy(e.archive, t / "ours")
    peer = peer_tally(e, t / "peer", keys)
    ours = our_tally(t / "ours", keys)
    report = verify_archive(lambda: ours_archive.open("rb"))
    assert report.valid, [f.describe() for f in report.findings]
    ours_result, peer_result = read_result(ours_archive), read_result(peer_archive)
    assert ours_result == peer_result, (ours_result, peer_result)
    return peer, ours, ours_result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1000)
    group_option(ap)
    args = ap.parse_args()
    elections = bench_elections(args.group, args.voters)
    before = load()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for e in elections:
            (Path(tmp) / e.group).mkdir()
            results[e.group] = tally(e, Path(tmp) / e.group)
    print(
        f"{args.voters}-ballot elections; load average {before} before, {load()} after "
        f"({os.cpu_count()} cores)"
    )
    print(
        f"{'group':14} {'step':22} {'peer':18} {'peer s':>8} {'plebiscite s':>12} {'peer/this':>9}"
    )
    for e in elections:
        peer, ours, result = results[e.group]
        rows = [*((step, peer[step], ours[step]) for step in peer)]
        rows.append(("whole tally", sum(peer.values()), sum(ours.values())))
        for step, p, o in rows:
            print(f"{e.group:14} {step:22} {e.peer:18} {p:8.2f} {o:12.2f} {p / o:9.2f}")
        print(
            f"{e.group:14} result {json.dumps(result)}, verified by plebiscite, equal to the peer's"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
