#!/usr/bin/env python3
"""Benchmark: the whole tally of a 1000-ballot election, plebiscite against belenios-tool, same
archive, same run: the encrypted tally, three partial decryptions and the result, each appended
to the archive, every step as its own command as the parties would run them.

    ./dev bench tally [--voters N]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from common import ROOT, bench_election, plebiscite_command, run

sys.path.insert(0, str(ROOT / "tests"))
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive


def closed_copy(archive: Path, target: Path) -> Path:
    """The archive up to EndBallots: the state the tally starts from."""
    a = Archive.load(archive)
    end = next(i for i, e in a.events() if e["type"] == "EndBallots")
    a.entries = a.entries[: end + 1]
    return a.write(target / archive.name)


def peer_tally(d: Path, keys: list[Path]) -> dict[str, float]:
    bt = "belenios-tool"
    times: dict[str, float] = {}
    s, out = run([bt, "election", "compute-encrypted-tally", "--dir", str(d)])
    s2, _ = run([bt, "archive", "add-event", "--dir", str(d), "--type=EncryptedTally"], stdin=out)
    times["encrypted tally"] = s + s2
    for i, key in enumerate(keys, start=1):
        s, out = run(
            [bt, "election", "decrypt", "--dir", str(d), "--privkey", str(key), f"--trustee-id={i}"]
        )
        s2, _ = run(
            [bt, "archive", "add-event", "--dir", str(d), "--type=PartialDecryption"], stdin=out
        )
        times[f"partial decryption {i}"] = s + s2
    s, out = run([bt, "election", "compute-result", "--dir", str(d)])
    s2, _ = run([bt, "archive", "add-event", "--dir", str(d), "--type=Result"], stdin=out)
    times["result"] = s + s2
    return times


def our_tally(d: Path, keys: list[Path]) -> dict[str, float]:
    p = plebiscite_command()
    times: dict[str, float] = {}
    s, out = run([*p, "admin", "tally", "--dir", str(d)])
    s2, _ = run([*p, "admin", "add-event", "--dir", str(d), "--type", "EncryptedTally"], stdin=out)
    times["encrypted tally"] = s + s2
    for i, key in enumerate(keys, start=1):
        s, out = run([*p, "trustee", "decrypt", "--dir", str(d), "--privkey", str(key)])
        s2, _ = run(
            [*p, "admin", "add-event", "--dir", str(d), "--type", "PartialDecryption"], stdin=out
        )
        times[f"partial decryption {i}"] = s + s2
    s, out = run([*p, "admin", "result", "--dir", str(d)])
    s2, _ = run([*p, "admin", "add-event", "--dir", str(d), "--type", "Result"], stdin=out)
    times["result"] = s + s2
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1000)
    args = ap.parse_args()
    src = bench_election(args.voters)
    archive = next(src.glob("*.bel"))
    # trustee order = trustees.json order = the order of the public keys in the setup
    keys = sorted(src.glob("*.privkey"))
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "peer").mkdir()
        (t / "ours").mkdir()
        os.environ["PLEBISCITE_CACHE"] = str(t / "cache")  # start with no checkpoint
        closed_copy(archive, t / "peer")
        ours_archive = closed_copy(archive, t / "ours")
        peer = peer_tally(t / "peer", _in_trustee_order(t / "peer", keys))
        ours = our_tally(t / "ours", keys)
        report = verify_archive(lambda: ours_archive.open("rb"))
        assert report.valid, [f.describe() for f in report.findings]
    print(f"election: {archive.name}, {args.voters} ballots; result {report.result}")
    print(f"{'step':24} {'belenios-tool':>14} {'plebiscite':>11}")
    for step in peer:
        print(f"{step:24} {peer[step]:12.2f} s {ours[step]:9.2f} s")
    tp, to = sum(peer.values()), sum(ours.values())
    print(f"{'whole tally':24} {tp:12.2f} s {to:9.2f} s   ratio {tp / to:.2f} x faster")
    return 0


def _in_trustee_order(d: Path, keys: list[Path]) -> list[Path]:
    """belenios-tool needs each key with its trustee number: match keys to the trustees."""
    import json

    from plebiscite.crypto.context import Context
    from plebiscite.protocol.messages import Single, parse_trustees

    a = Archive.load(next(d.glob("*.bel")))
    setup = a.data(a.payload_index("Setup"))
    election = json.loads(a.entries[a.index_of_hash(setup["election"])].content)
    from plebiscite.crypto.groups import group_by_name

    group = group_by_name(election["group"])
    trustees = parse_trustees(a.entries[a.index_of_hash(setup["trustees"])].content, group)
    ctx = Context(group)
    by_public = {ctx.gpow(int(json.loads(k.read_text()))): k for k in keys}
    return [by_public[t.key.public_key] for t in trustees if isinstance(t, Single)]


if __name__ == "__main__":
    sys.exit(main())
