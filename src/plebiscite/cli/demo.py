"""``plebiscite demo``: a complete election played by its separate parties."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from plebiscite.cli import demo_server
from plebiscite.cli.common import CommandError
from plebiscite.cli.demo_server import DEMO_QUESTIONS, RANKING
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.rand import DeterministicRandom, RandomSource, SystemRandom
from plebiscite.protocol.simulate import simulate_election

__all__ = ["DEMO_QUESTIONS", "RANKING", "register"]


def _cmd_demo(args: argparse.Namespace) -> int:
    if args.server:
        return demo_server.run(args)
    if args.out is None:
        raise CommandError("--out is required (unless --server)", status=2)
    if args.voters < 1:
        raise CommandError("--voters must be at least 1", status=2)
    if not 1 <= args.threshold <= args.trustees:
        raise CommandError("--threshold must be between 1 and --trustees", status=2)
    questions = [*DEMO_QUESTIONS, RANKING] if args.ranking else DEMO_QUESTIONS
    rng: RandomSource = DeterministicRandom(args.seed) if args.seed else SystemRandom()
    t0 = time.monotonic()
    e = simulate_election(
        template={
            "description": "A demonstration referendum",
            "name": "plebiscite demo",
            "questions": questions,
            "administrator": "demo administrator",
            "credential_authority": "demo credential authority",
        },
        group=group_by_name(args.group),
        voters=args.voters,
        trustees=args.trustees,
        threshold=args.threshold,
        rng=rng,
        timestamp=int(time.time()) if not args.seed else 1_700_000_000,
        revotes=max(1, args.voters // 10) if args.voters > 1 else 0,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"{e.uuid}.bel"
    archive.write_bytes(e.archive)
    parties = out / f"{e.uuid}-messages"
    parties.mkdir(exist_ok=True)
    for name, content in e.files.items():
        (parties / name).write_bytes(content)
    print(
        f"election {e.uuid}: {args.voters} voters, {args.trustees} trustees "
        f"({args.threshold} needed) plus the server's key, {time.monotonic() - t0:.1f} s"
    )
    print(f"result: {e.result}")
    print(archive)
    return 0


def register(sub: Any) -> None:
    d = sub.add_parser(
        "demo",
        help="run a complete election as its separate parties would",
        description="Credential authority, K trustees in a T-of-K ceremony plus the server's "
        "own key, N voters with random choices (a few revote), close, tally, decryption by T "
        "trustees, result; writes OUT/UUID.bel and the messages exchanged.",
    )
    d.add_argument("--voters", type=int, required=True, help="number of voters")
    d.add_argument("--out", help="output directory")
    d.add_argument("--trustees", type=int, default=3, help="threshold trustees (default 3)")
    d.add_argument(
        "--threshold", type=int, default=2, help="trustees needed to decrypt (default 2)"
    )
    d.add_argument(
        "--ranking",
        action="store_true",
        help="add a ranking (non-homomorphic) question, shuffled before decryption",
    )
    d.add_argument(
        "--group",
        default="Ed25519",
        help="the group: Ed25519 (the default), BELENIOS-2048 or RFC-3526-2048",
    )
    d.add_argument("--seed", help="deterministic randomness (for tests; never for real use)")
    demo_server.add_arguments(d)
    d.set_defaults(func=_cmd_demo)
