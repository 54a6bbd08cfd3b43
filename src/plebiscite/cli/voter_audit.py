"""``plebiscite voter-audit``: check an audited ballot (Benaloh's challenge) on the voter's own
machine, independently of the browser that made it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from plebiscite import strictjson
from plebiscite.protocol.audit import check_audit
from plebiscite.protocol.messages import parse_election

__all__ = ["register"]


MAX_BUNDLE = 1 << 24  # the election (at most a few MB), the ballot and the audit data


def _bundle(path: str) -> tuple[bytes, bytes, Any]:
    """The booth's audit file as saved (``{"election": TEXT, "ballot": TEXT, "audit": {...}}``):
    the election's and the ballot's exact texts and the audit data."""
    from plebiscite.cli.common import CommandError
    from plebiscite.errors import EncodingError
    from plebiscite.protocol.messages import obj

    raw = Path(path).read_bytes()
    try:
        v = obj(
            strictjson.loads(raw, max_size=MAX_BUNDLE, where=path),
            path,
            ("election", "ballot", "audit"),
        )
        for key in ("election", "ballot"):
            if not isinstance(v[key], str):
                raise EncodingError(
                    "expected the exact JSON text, as a string", where=f"{path}.{key}"
                )
    except EncodingError as e:
        raise CommandError(
            f"{e} (expected the audit file the booth saves: election, ballot and audit data)",
            status=2,
        ) from None
    return v["election"].encode(), v["ballot"].encode(), v["audit"]


def _cmd_audit(args: argparse.Namespace) -> int:
    from plebiscite.cli.common import CommandError

    parts = (args.election, args.ballot, args.audit)
    if args.bundle is not None:
        if any(x is not None for x in parts):
            raise CommandError(
                "give the booth's audit file, or --election, --ballot and --audit: not both",
                status=2,
            )
        election_raw, ballot, audit = _bundle(args.bundle)
        election = parse_election(election_raw.strip(), where=f"{args.bundle}.election")
    else:
        if any(x is None for x in parts):
            raise CommandError(
                "give the booth's audit file (AUDIT-FILE), or all of --election, --ballot and "
                "--audit",
                status=2,
            )
        election = parse_election(Path(args.election).read_bytes().strip(), where=args.election)
        ballot = Path(args.ballot).read_bytes()
        audit = strictjson.loads(Path(args.audit).read_bytes(), max_size=1 << 22, where=args.audit)
        if isinstance(audit, dict) and "audit" in audit and "answers" not in audit:
            audit = audit["audit"]  # the booth's download given as --audit
    report = check_audit(election, ballot, audit)
    if args.json:
        out: dict[str, Any] = {
            "ok": report.ok,
            "tracker": report.tracker,
            "ciphertexts": report.ciphertexts,
            "problems": [p.to_json() for p in report.problems],
        }
        print(json.dumps(out, indent=1))
    elif report.ok:
        print(
            f"audit OK: ballot {report.tracker} encrypts the audit's choices "
            f"({report.ciphertexts} ciphertexts recomputed) and its proofs verify"
        )
    else:
        print(f"audit FAILED for ballot {report.tracker}:")
        for p in report.problems:
            print(f"  {p.message}")
    return 0 if report.ok else 1


def register(sub: Any) -> None:
    a = sub.add_parser(
        "voter-audit",
        help="check an audited ballot (Benaloh's challenge)",
        description="Re-encrypt the choices of an audited ballot with the randomness the booth "
        "revealed and compare with the ballot's ciphertexts; also check the ballot's tracker, "
        "election, proofs and signature. Exit status 0 if and only if everything matches. The "
        "audited ballot must not be cast.",
    )
    a.add_argument(
        "bundle",
        nargs="?",
        metavar="AUDIT-FILE",
        help="the audit file the booth saves (audit-TRACKER.json: the election, the ballot "
        "and the audit data together)",
    )
    a.add_argument("--election", help="or: the election (its exact JSON text)")
    a.add_argument("--ballot", help="and the audited ballot (its exact JSON text)")
    a.add_argument("--audit", help="and the audit data the booth revealed (JSON)")
    a.add_argument("--json", action="store_true", help="print the report as JSON")
    a.set_defaults(func=_cmd_audit)
