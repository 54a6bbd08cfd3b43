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

from common import (
    BenchElection,
    Took,
    bench_elections,
    group_option,
    load,
    plebiscite_command,
    ratios,
    run,
    total,
)
from peer3 import read_result
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive

Times = dict[str, Took]


def closed_copy(archive: Path, target: Path) -> Path:
    """The archive up to EndBallots: the state the tally starts from."""
    a = Archive.load(archive)
    end = next(i for i, e in a.events() if e["type"] == "EndBallots")
    a.entries = a.entries[: end + 1]
    return a.write(target / archive.name)


Step = tuple[str, list[str], list[str], str]


def steps(keys: list[Path]) -> list[Step]:
    """The tally's steps: name, belenios-tool's command, plebiscite's, the event appended."""
    decrypt = ["trustee", "decrypt", "--privkey"]
    return [
        (
            "encrypted tally",
            ["election", "compute-encrypted-tally"],
            ["admin", "tally"],
            "EncryptedTally",
        ),
        *(
            (
                f"partial decryption {i}",
                ["election", "decrypt", "--privkey", str(key), f"--trustee-id={i}"],
                [*decrypt, str(key)],
                "PartialDecryption",
            )
            for i, key in enumerate(keys, start=1)
        ),
        ("result", ["election", "compute-result"], ["admin", "result"], "Result"),
    ]


def tally(e: BenchElection, t: Path) -> tuple[Times, Times, object]:
    """The peer's and plebiscite's times of each step, and the result."""
    (t / "peer").mkdir()
    (t / "ours").mkdir()
    os.environ["PLEBISCITE_CACHE"] = str(t / "cache")  # start with no checkpoint
    peer_archive = closed_copy(e.archive, t / "peer")
    ours_archive = closed_copy(e.archive, t / "ours")
    add_peer = [e.tool, "archive", "add-event", "--dir", str(t / "peer"), "--type"]
    ours_cmd = plebiscite_command()
    add_ours = [*ours_cmd, "admin", "add-event", "--dir", str(t / "ours"), "--type"]
    peer: Times = {}
    ours: Times = {}
    # step by step in turn, so that a change of the machine's load strikes both alike
    for name, peer_args, ours_args, event in steps(e.private_keys()):
        s, out = run([e.tool, *peer_args, "--dir", str(t / "peer")])
        peer[name] = s + run([*add_peer, event], stdin=out)[0]
        s, out = run([*ours_cmd, *ours_args, "--dir", str(t / "ours")])
        ours[name] = s + run([*add_ours, event], stdin=out)[0]
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
    print("peer: " + ", ".join(f"{e.peer} in {e.group}" for e in elections))
    print(f"{'':37} {'peer s':>15} {'plebiscite s':>15} {'peer/this':>13}")
    print(
        f"{'group':14} {'step':22} {'wall':>7} {'CPU':>7} {'wall':>7} {'CPU':>7} "
        f"{'wall':>6} {'CPU':>6}"
    )
    for e in elections:
        peer, ours, result = results[e.group]
        rows = [*((step, peer[step], ours[step]) for step in peer)]
        rows.append(("whole tally", total(peer.values()), total(ours.values())))
        for step, p, o in rows:
            print(
                f"{e.group:14} {step:22} {p.wall:7.2f} {p.cpu:7.2f} {o.wall:7.2f} {o.cpu:7.2f} "
                f"{ratios(p, o)}"
            )
        print(f"{e.group:14} result {json.dumps(result)}: plebiscite's verified, the peer's equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
