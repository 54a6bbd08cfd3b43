"""Voter commands: make a ballot, print its smart ballot tracker, check it is on the board."""

from __future__ import annotations

import argparse
import os
import sys

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING
from plebiscite.cli.common import CommandError, cache_base, find_archive, load_board
from plebiscite.crypto.credentials import parse_credential
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import SystemRandom
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_event

if TYPE_CHECKING:
    from typing import Any

__all__ = ["register"]


def _credential(value: str) -> str:
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            value = f.read().strip()
    return parse_credential(value.split()[-1] if value.split() else value)


def _setup_marker(event_hash: str) -> str | None:
    base = cache_base()
    return None if base is None else os.path.join(base, "setups", event_hash)


def _setup_checked(event_hash: str) -> bool:
    """Whether this machine already checked the setup of this Setup event (whose hash commits
    to the election, the trustees and the credentials). Kept beside the verification
    checkpoints (``PLEBISCITE_CACHE``)."""
    marker = _setup_marker(event_hash)
    return marker is not None and os.path.isfile(marker)


def _remember_setup(event_hash: str) -> None:
    marker = _setup_marker(event_hash)
    if marker is None:
        return
    try:
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "wb"):
            pass
    except OSError:
        pass  # a cache that cannot be written only costs time


def _cmd_ballot(args: argparse.Namespace) -> int:
    # a voter needs the election and its setup (checked), not the ballots of the others
    from plebiscite.protocol.messages import parse_election, parse_trustees
    from plebiscite.protocol.setup import check_trustees, read_setup

    path = args.archive if args.archive and os.path.isfile(args.archive) else None
    path = path or str(find_archive(args.archive, args.dir))
    try:
        choices = strictjson.loads(args.choices, max_size=1 << 20, where="--choices")
    except PlebisciteError as e:
        raise CommandError(f"--choices is not JSON: {e}", status=2) from None
    if not (
        isinstance(choices, list)
        and all(
            isinstance(c, list) and all(type(x) is int or _int_lists(x) for x in c) for c in choices
        )
    ):
        raise CommandError(
            "--choices must be a list of lists of integers (a Lists question: of lists)",
            status=2,
        )
    credential = _credential(args.credential)
    try:
        with open(path, "rb") as f:
            setup = read_setup(f)
        election = parse_election(setup.election)
        if not _setup_checked(setup.event_hash):
            check_trustees(election, parse_trustees(setup.trustees, election.group))
            _remember_setup(setup.event_hash)
    except PlebisciteError as e:
        raise CommandError(f"{path}: the election setup does not verify: {e}") from None
    try:
        raw = make_ballot(election, credential, choices, SystemRandom())
    except ValueError as e:
        raise CommandError(str(e), status=2) from None
    public = strictjson.loads(raw, max_size=len(raw), where="ballot")["credential"].encode()
    listed = setup.credentials
    if b'"' + public + b'"' not in listed and b'"' + public + b"," not in listed:
        raise CommandError("this credential is not on the election's list of public credentials")
    sys.stdout.write(raw.decode() + "\n")
    return 0


def _cmd_tracker(args: argparse.Namespace) -> int:
    if args.ballot:
        with open(args.ballot, "rb") as f:
            data = f.read()
    else:
        data = sys.stdin.buffer.read()
    print(h_json(data.strip()))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    board = load_board(path, require_valid=False)
    found_height = None
    credential = None
    pending: dict[str, bytes] = {}
    with path.open("rb") as f:
        for m in iter_members(f):
            if m.kind == "data":
                pending[m.hash] = m.content
            elif m.kind == "event":
                e = parse_event(m.content, m.hash, "event")
                if e.type == "Ballot" and e.payload in pending:
                    raw = pending[e.payload]
                    if h_json(raw) == args.tracker:
                        found_height = e.height
                        value = strictjson.loads(raw, max_size=len(raw), where="ballot")
                        credential = value.get("credential") if isinstance(value, dict) else None
                        credential = credential if isinstance(credential, str) else None
                pending.clear()
    if found_height is None:
        print(f"tracker {args.tracker} is NOT on the board")
        return 1
    last = board.last_ballot_of(credential or "")
    counted = last == found_height
    print(
        f"tracker {args.tracker} is on the board (event {found_height})"
        + ("" if counted else "; a later ballot with the same credential replaces it")
    )
    return 0 if counted else 1


def register(sub: Any) -> None:
    b = sub.add_parser(
        "ballot",
        help="make a ballot (voter)",
        description="Encrypt choices into a complete ballot for the election of an archive and "
        "print it as JSON. CHOICES has belenios-tool's shape, e.g. [[1,0],[0,1,0]] (with blank "
        "allowed, a leading 0/1 for blank).",
    )
    b.add_argument("--archive", help="the election archive (default: the one .bel in --dir)")
    b.add_argument("--dir", help="directory holding the archive (default: current)")
    b.add_argument(
        "--credential", required=True, help="the secret credential, or a file holding it"
    )
    b.add_argument("--choices", required=True, help="the choices, as JSON")
    b.set_defaults(func=_cmd_ballot)

    v = sub.add_parser("voter", help="voter tools: tracker, check", description="Tools for voters.")
    vs = v.add_subparsers(
        dest="voter_command", metavar="COMMAND", required=True, help="the command"
    )
    t = vs.add_parser(
        "tracker",
        help="print the smart ballot tracker of a ballot",
        description="Print the smart ballot tracker (hash) of a ballot.",
    )
    t.add_argument("ballot", nargs="?", help="a file holding the ballot (default: stdin)")
    t.set_defaults(func=_cmd_tracker)
    c = vs.add_parser(
        "check",
        help="check that a tracker is on the board and counted",
        description="Exit 0 if the ballot with this tracker is on the board and "
        "is the last one of its credential (so it is counted).",
    )
    c.add_argument("tracker", help="the smart ballot tracker")
    c.add_argument("--archive", help="the election archive (default: the one .bel in --dir)")
    c.add_argument("--dir", help="directory holding the archive (default: current)")
    c.set_defaults(func=_cmd_check)


def _int_lists(v: object) -> bool:
    """Whether ``v`` is a list of integers (the choices of one list of a Lists question)."""
    return isinstance(v, list) and all(type(x) is int for x in v)
