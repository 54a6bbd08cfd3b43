"""``plebiscite checkpoints compare``: show that saved copies of boards conflict, from the
checkpoints their server signed.

Each FILE is what an observer saved: a record board (``RID.record.bel``, which carries its own
signed checkpoints) or the signed checkpoints of an election board as the server serves them
(``GET /api/elections/UUID/checkpoints``: a JSON list). Two validly signed checkpoints by one key
that no single append-only board can explain (two different heads at one height, two
checkpoints following the same one, a checkpoint that cannot extend the previous one) prove a
split view: each is printed with the evidence (``--json``: both signed checkpoints, verifiable
by anyone). Exit status 1 if the copies conflict, 0 if they are consistent, 2 if a file cannot
be read."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from plebiscite import strictjson
from plebiscite.cli.common import CommandError
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.checkpoints import (
    MAX_CHECKPOINT_BYTES,
    SignedCheckpoint,
    detect_equivocation,
)
from plebiscite.protocol.record import read_record

__all__ = ["register"]

#: the most checkpoints read from one JSON file
MAX_CHECKPOINTS = 1 << 16


def _checkpoints_of(path: Path) -> list[SignedCheckpoint]:
    try:
        with path.open("rb") as f:
            head = f.read(1)
            f.seek(0)
            if head in (b"[", b" ", b"\n"):
                raw = f.read(MAX_CHECKPOINT_BYTES * MAX_CHECKPOINTS + 1)
                items = strictjson.loads(raw, max_size=MAX_CHECKPOINT_BYTES * MAX_CHECKPOINTS)
                if not isinstance(items, list) or len(items) > MAX_CHECKPOINTS:
                    raise CommandError(f"{path}: expected a JSON list of signed checkpoints", 2)
                return [
                    SignedCheckpoint.from_json(strictjson.dumps_compact(c), where=f"{path}[{i}]")
                    for i, c in enumerate(items)
                ]
            return list(read_record(iter_members(f)).checkpoints)
    except OSError as e:
        raise CommandError(f"{path}: cannot read it ({e.strerror})", 2) from None
    except PlebisciteError as e:
        raise CommandError(f"{path}: {e}", 2) from None


def _cmd_compare(args: argparse.Namespace) -> int:
    found: list[SignedCheckpoint] = []
    counts: list[tuple[str, int]] = []
    for name in args.files:
        cs = _checkpoints_of(Path(name))
        found += cs
        counts.append((name, len(cs)))
    conflicts = detect_equivocation(found)
    if args.json:
        report: dict[str, Any] = {
            "files": [{"file": n, "checkpoints": k} for n, k in counts],
            "consistent": not conflicts,
            "equivocations": [json.loads(e.to_json()) for e in conflicts],
        }
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        for n, k in counts:
            sys.stdout.write(f"{n}: {k} signed checkpoints\n")
        for e in conflicts:
            sys.stdout.write(f"CONFLICT ({e.kind}): {e.describe()}\n")
        sys.stdout.write(
            "CONSISTENT: one append-only board explains every checkpoint\n"
            if not conflicts
            else f"SPLIT VIEW: {len(conflicts)} pair(s) of signed checkpoints in conflict\n"
        )
    return 1 if conflicts else 0


def register(sub: Any) -> None:
    c = sub.add_parser(
        "checkpoints",
        help="signed checkpoints of boards",
        description="Commands about the checkpoints servers sign of their boards.",
    )
    csub = c.add_subparsers(dest="checkpoints_command", metavar="COMMAND", required=True)
    cmp = csub.add_parser(
        "compare",
        help="show that saved copies of a board conflict (a split view)",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ") if __doc__ else None,
    )
    cmp.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a record board (RID.record.bel) or an election board's checkpoints (JSON, from "
        "GET /api/elections/UUID/checkpoints)",
    )
    cmp.add_argument("--json", action="store_true", help="print the report as JSON")
    cmp.set_defaults(func=_cmd_compare)
