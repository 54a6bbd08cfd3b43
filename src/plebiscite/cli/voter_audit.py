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


def _cmd_audit(args: argparse.Namespace) -> int:
    election = parse_election(Path(args.election).read_bytes().strip(), where=args.election)
    ballot = Path(args.ballot).read_bytes()
    audit = strictjson.loads(Path(args.audit).read_bytes(), max_size=1 << 22, where=args.audit)
    if isinstance(audit, dict) and "audit" in audit and "answers" not in audit:
        audit = audit["audit"]  # the booth's download: {"ballot", "audit", ...}
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
    a.add_argument("--election", required=True, help="the election (its exact JSON text)")
    a.add_argument("--ballot", required=True, help="the audited ballot (its exact JSON text)")
    a.add_argument("--audit", required=True, help="the audit data the booth revealed (JSON)")
    a.add_argument("--json", action="store_true", help="print the report as JSON")
    a.set_defaults(func=_cmd_audit)
