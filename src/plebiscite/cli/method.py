"""``plebiscite method``: count the raw ballots of a non-homomorphic question.

The same commands and options as ``belenios-tool method``, and the same JSON output; the
methods and their conventions are described in :mod:`plebiscite.protocol.methods`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from plebiscite import strictjson
from plebiscite.cli.common import CommandError
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.methods import (
    MjResult,
    SchulzeResult,
    StvResult,
    majority_judgment,
    schulze,
    stv,
    summary,
)

__all__ = ["register"]

MAX_INPUT = 1 << 30  # bytes of JSON ballots


def _bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"invalid value {text!r}, either 'true' or 'false'")
    return text == "true"


def _count(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer >= {minimum}")
        return value

    return parse


def _read_ballots(args: argparse.Namespace) -> Any:
    if args.input:
        try:
            data = Path(args.input).read_bytes()
        except OSError as e:
            raise CommandError(f"{args.input}: {e.strerror or e}", status=2) from None
        where = args.input
    else:
        data = sys.stdin.buffer.read(MAX_INPUT + 1)
        where = "standard input"
    return strictjson.loads(data, max_size=MAX_INPUT, where=where)


def _answers(text: str | None) -> list[str] | None:
    if text is None:
        return None
    try:
        answers = strictjson.loads(text, max_size=MAX_INPUT, where="--answers")
    except PlebisciteError as e:
        raise CommandError(f"--answers: invalid JSON ({e})", status=2) from None
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise CommandError("--answers: expected a JSON list of strings", status=2)
    return answers


def _run(args: argparse.Namespace) -> int:
    answers = _answers(args.answers)  # a usage error shows before the input is read
    ballots = _read_ballots(args)
    result: SchulzeResult | MjResult | StvResult
    try:
        if args.method == "schulze":
            result = schulze(ballots, nchoices=args.nchoices or None, blank_allowed=args.blank)
        elif args.method == "stv":
            result = stv(ballots, nseats=args.nseats)
        else:
            result = majority_judgment(
                ballots,
                nchoices=args.nchoices or None,
                ngrades=args.ngrades,
                blank_allowed=args.blank,
            )
        text = (
            summary(result, answers)
            if args.summary
            else strictjson.dumps_compact(result.to_json()).decode()
        )
    except ValueError as e:  # a parameter: --nchoices not given and no ballots, --answers
        raise CommandError(str(e), status=2) from None
    sys.stdout.write(text + "\n")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--input",
        metavar="FILE",
        help="read the ballots (a JSON list of lists of integers) from FILE, not standard input",
    )
    p.add_argument(
        "--summary",
        action="store_true",
        help="print a readable ranking instead of belenios-tool's JSON",
    )
    p.add_argument(
        "--answers",
        metavar="JSON",
        help='labels of the answers for --summary, a JSON list of strings: \'["Alice", "Bob"]\'',
    )
    p.set_defaults(func=_run)


def _nchoices(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--nchoices",
        type=_count(0),
        default=0,
        metavar="N",
        help="number of choices (answers); 0, the default, takes the length of the ballots",
    )


def _blank(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--blank-allowed",
        dest="blank",
        type=_bool,
        required=True,
        metavar="B",
        help="true or false: is blank allowed? If true, an all-zero ballot is a blank vote",
    )


def register(sub: Any) -> None:
    m = sub.add_parser(
        "method",
        help="count the ballots of a non-homomorphic question: Schulze, STV, majority judgment",
        description="Count the raw ballots of a non-homomorphic question (the question's result "
        "in the archive) with a counting method, printing the same JSON as belenios-tool method "
        "(or, with --summary, a readable ranking).",
    )
    methods = m.add_subparsers(
        dest="method", metavar="METHOD", required=True, help="the counting method"
    )
    s = methods.add_parser(
        "schulze",
        help="Condorcet-Schulze: ranks, 1 best, equal ranks allowed, 0 unranked",
        description="Count ballots ranking the answers (1 is best, equal ranks allowed, 0 is "
        "unranked) with Schulze's method: pairwise counts, strongest paths (winning votes), "
        "ranking.",
    )
    _nchoices(s)
    _blank(s)
    _common(s)
    t = methods.add_parser(
        "stv",
        help="Single Transferable Vote: ranks 1..k without ties, 0 unranked",
        description="Count ballots ranking the answers (1, 2, ... without ties or gaps, 0 is "
        "unranked) with the Single Transferable Vote: Droop quota, fractional surplus "
        "transfers.",
    )
    t.add_argument(
        "--nseats", type=_count(1), required=True, metavar="N", help="number of seats to fill"
    )
    _common(t)
    j = methods.add_parser(
        "majority-judgment",
        help="Majority Judgment: grades, 1 best to G worst",
        description="Count ballots grading every answer (1 is the best grade, G the worst) "
        "with Majority Judgment: answers ranked by their majority values.",
    )
    _nchoices(j)
    j.add_argument("--ngrades", type=_count(1), required=True, metavar="G", help="number of grades")
    _blank(j)
    _common(j)
