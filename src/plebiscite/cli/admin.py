"""Administrator commands: trustees structure, election, archive, events, tally, result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from plebiscite import strictjson
from plebiscite.cli.common import (
    CommandError,
    append_events,
    find_archive,
    load_board,
    now,
    read_stdin_lines,
)
from plebiscite.crypto.group import Group
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.hashing import h_json
from plebiscite.protocol.archive import ArchiveState, ArchiveWriter, header_bytes, iter_members
from plebiscite.protocol.election_setup import make_election, make_trustees
from plebiscite.protocol.messages import EVENT_TYPES, WITH_PAYLOAD, parse_election
from plebiscite.protocol.tally import (
    encrypted_tally_of_board,
    result_json,
)

__all__ = ["register"]


def _cmd_make_trustees(args: argparse.Namespace) -> int:
    d = Path(args.dir)
    group = group_by_name(args.group)
    items: list[tuple[str, bytes]] = []
    keys = d / "public_keys.jsons"
    if keys.exists():
        items += [
            ("Single", line.encode()) for line in keys.read_text().splitlines() if line.strip()
        ]
    threshold = d / "threshold.json"
    if threshold.exists():
        items.append(("Pedersen", threshold.read_bytes().strip()))
    if not items:
        raise CommandError(f"{d}: neither public_keys.jsons nor threshold.json", status=2)
    (d / "trustees.json").write_bytes(make_trustees(items, group) + b"\n")
    return 0


def _cmd_make_election(args: argparse.Namespace) -> int:
    d = Path(args.dir)
    group = group_by_name(args.group)
    raw = make_election(
        Path(args.template).read_bytes(),
        args.uuid,
        group,
        (d / "trustees.json").read_bytes().strip(),
    )
    (d / "election.json").write_bytes(raw + b"\n")
    return 0


def _archive_credentials(raw: bytes, group: Group) -> bytes:
    """The public credential list as the archive holds it: sorted by value (as elements of
    ``group``: numbers in a finite field, points in Ed25519), logins dropped, weights kept (for
    every voter) when any voter has one."""
    items = strictjson.loads(raw, max_size=1 << 31, where="public_creds.json")
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise CommandError("public_creds.json must be a JSON list of strings")
    parsed = []
    for i, s in enumerate(items):
        parts = s.split(",")
        credential = group.decode(parts[0], where=f"public_creds.json[{i}]")
        parsed.append((credential, parts[1] if len(parts) > 1 and parts[1] else None))
    weighted = any(w is not None for _, w in parsed)
    parsed.sort(key=lambda p: p[0])
    return strictjson.dumps_compact([f"{c},{w or 1}" if weighted else str(c) for c, w in parsed])


def _cmd_init(args: argparse.Namespace) -> int:
    d = Path(args.dir)
    election = (d / "election.json").read_bytes().strip()
    trustees = (d / "trustees.json").read_bytes().strip()
    parsed = parse_election(election)
    creds = _archive_credentials((d / "public_creds.json").read_bytes(), parsed.group)
    uuid = parsed.uuid
    path = d / f"{uuid}.bel"
    if path.exists():
        raise CommandError(f"{path} already exists")
    ts = now()
    tmp = path.with_suffix(".bel.tmp")
    with tmp.open("wb") as f:
        f.write(header_bytes(ts))
        w = ArchiveWriter(f, ArchiveState(ts))
        refs = {
            "election": w.data(election),
            "trustees": w.data(trustees),
            "credentials": w.data(creds),
        }
        w.event("Setup", w.data(strictjson.dumps_compact(refs)))
    board = load_board(tmp, require_valid=False)
    if not board.report.valid:
        tmp.unlink()
        first = next(f for f in board.report.findings if f.severity == "error")
        raise CommandError(f"the setup does not verify: {first.describe()}")
    tmp.rename(path)
    print(path)
    print(f"The fingerprint of public credentials is {h_json(creds)}", file=sys.stderr)
    return 0


def _cmd_add_event(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    if args.type not in EVENT_TYPES or args.type == "Setup":
        raise CommandError(f"--type must be one of {', '.join(EVENT_TYPES[1:])}", status=2)
    lines = read_stdin_lines()
    if (args.type in WITH_PAYLOAD) != bool(lines):
        raise CommandError(
            f"event {args.type} "
            f"{'needs a payload on stdin' if lines == [] else 'takes no payload'}",
            status=2,
        )
    append_events(path, [(args.type, lines)])
    return 0


def _cmd_tally(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    board = load_board(path)
    if board.report.status != "closed":
        raise CommandError(
            f"the tally is computed once voting is closed (archive is {board.report.status})"
        )
    with path.open("rb") as f:
        tally = encrypted_tally_of_board(iter_members(f))
    # the verifier's own reading of the board checks what was computed
    board.check_encrypted_tally(tally.tally, tally.num_tallied, tally.total_weight)
    et, sized = tally.json()
    sys.stdout.write(et.decode() + "\n")
    sys.stdout.write(sized.decode() + "\n")
    return 0


def _cmd_result(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    board = load_board(path)
    if board.election is None or board.report.status not in ("decrypting", "shuffled", "tallied"):
        raise CommandError(f"no partial decryptions to combine (archive is {board.report.status})")
    result = board.decrypt_result()
    sys.stdout.write(result_json(board.election, result).decode() + "\n")
    return 0


def _cmd_close(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    append_events(path, [("EndBallots", [])])
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "admin",
        help="administrator: set up, run and tally an election",
        description="Commands of the election administrator.",
    )
    s = p.add_subparsers(dest="admin_command", metavar="COMMAND", required=True, help="the command")

    def cmd(name: str, func: Any, help_: str, description: str) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = s.add_parser(name, help=help_, description=description)
        c.set_defaults(func=func)
        return c

    c = cmd(
        "make-trustees",
        _cmd_make_trustees,
        "make trustees.json",
        "Read public_keys.jsons (Single trustee keys, one per line) and threshold.json (a "
        "Pedersen ceremony's result) from --dir and write trustees.json.",
    )
    c.add_argument("--dir", default=".", help="working directory (default: current)")
    c.add_argument(
        "--group",
        default="Ed25519",
        help="group name: Ed25519 (the default), BELENIOS-2048 or RFC-3526-2048",
    )
    c = cmd(
        "make-election",
        _cmd_make_election,
        "make election.json from a questions template",
        "Write election.json from a template {description, name, questions, "
        "administrator?, credential_authority?} and trustees.json.",
    )
    c.add_argument("--dir", default=".", help="working directory (default: current)")
    c.add_argument("--uuid", required=True, help="the election uuid")
    c.add_argument(
        "--group",
        default="Ed25519",
        help="group name: Ed25519 (the default), BELENIOS-2048 or RFC-3526-2048",
    )
    c.add_argument("--template", required=True, help="the questions template (JSON)")
    c = cmd(
        "init-archive",
        _cmd_init,
        "start the archive UUID.bel",
        "Create UUID.bel from election.json, trustees.json and public_creds.json, with the "
        "Setup event; print its path.",
    )
    c.add_argument("--dir", default=".", help="working directory (default: current)")
    for name, func, help_, desc in (
        (
            "add-event",
            _cmd_add_event,
            "append an event (its data read from stdin)",
            "Append an event: each line of stdin is a data member, the last one the event's "
            "payload. Nothing is written unless the resulting archive verifies.",
        ),
        ("close", _cmd_close, "close voting (EndBallots)", "Append the EndBallots event."),
        (
            "tally",
            _cmd_tally,
            "compute the encrypted tally (two lines, for add-event)",
            "Verify the closed archive and print the encrypted tally recomputed from its last "
            "ballots, then the sized tally referring to it.",
        ),
        (
            "result",
            _cmd_result,
            "combine the partial decryptions into the result",
            "Verify the archive and print the result decrypted from its valid partial decryptions.",
        ),
    ):
        c = cmd(name, func, help_, desc)
        c.add_argument("--archive", help="the election archive (default: the one .bel in --dir)")
        c.add_argument("--dir", help="directory holding the archive (default: current)")
        if name == "add-event":
            c.add_argument("--type", required=True, help="event type, e.g. Ballot, EndBallots")
