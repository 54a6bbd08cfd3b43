"""Trustee commands: key generation, shuffle, partial decryption."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from plebiscite import strictjson
from plebiscite.cli.common import CommandError, find_archive, load_board
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.hashing import sha256_hex
from plebiscite.crypto.rand import SystemRandom
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.election_setup import make_trustee_key
from plebiscite.protocol.messages import Pedersen, Single
from plebiscite.protocol.tally import owned_json, partial_decryption_json, shuffle_json

__all__ = ["register"]


def _cmd_keygen(args: argparse.Namespace) -> int:
    group = group_by_name(args.group)
    x, public = make_trustee_key(group, SystemRandom())
    key_id = sha256_hex(public)[:8].upper()
    out = Path(args.dir)
    priv = out / f"{key_id}.privkey"
    pub = out / f"{key_id}.pubkey"
    priv.write_text(json.dumps(str(x)) + "\n")
    priv.chmod(0o400)
    pub.write_text(public.decode() + "\n")
    print(
        f"keypair {key_id} has been generated: public key in {pub}, private key in {priv}",
        file=sys.stderr,
    )
    return 0


def _private_key(path: str) -> int:
    try:
        value = strictjson.loads(Path(path).read_bytes(), max_size=1 << 16, where=path)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return int(value)
    except (PlebisciteError, ValueError):
        pass
    raise CommandError(f"{path}: not a private key file", status=2)


def _emit(args: argparse.Namespace, data: bytes, owner: int, what: str) -> int:
    """Print ``data`` and its owned wrapper (two lines), or with ``--out FILE`` write ``data``
    alone to FILE, a new file (never over an existing one): what the server's API takes."""
    if args.out is None:
        sys.stdout.write(data.decode() + "\n")
        sys.stdout.write(owned_json(owner, sha256_hex(data)).decode() + "\n")
        return 0
    out = Path(args.out)
    try:
        with out.open("xb") as f:
            f.write(data + b"\n")
    except FileExistsError:
        raise CommandError(
            f"{out} exists: it is kept (remove it, or choose another --out, to make a new {what})",
            status=2,
        ) from None
    print(f"{what} of trustee {owner} written to {out}", file=sys.stderr)
    return 0


def _cmd_decrypt(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    board = load_board(path)
    if board.election is None or board.ctx is None or board.tally is None:
        raise CommandError("there is no encrypted tally to decrypt yet")
    if board.election.has_nh and not board.shuffled_by:
        raise CommandError("the non-homomorphic questions must be shuffled first")
    owners = board.owners
    if args.privkey:
        x = _private_key(args.privkey) % board.ctx.q
    elif args.key and args.decryption_key:
        from plebiscite.protocol.ceremony import threshold_decryption_key

        x = threshold_decryption_key(
            board.election.group,
            Path(args.key).read_text().strip(),
            Path(args.decryption_key).read_text(),
        )
    else:
        raise CommandError("give --privkey, or --key and --decryption-key", status=2)
    X = board.ctx.gpow(x)
    if args.trustee_id is None:
        matching = [o for o in owners if o.key.public_key == X]
        if not matching:
            raise CommandError("this private key is not the key of any trustee of the election")
        owner = matching[0]
    else:
        if not 1 <= args.trustee_id <= len(owners):
            raise CommandError(f"--trustee-id must be between 1 and {len(owners)}", status=2)
        owner = owners[args.trustee_id - 1]
        if owner.key.public_key != X:
            raise CommandError(f"this private key is not the key of trustee {args.trustee_id}")
    item = board.trustees[owner.item]
    assert isinstance(item, Single | Pedersen)
    pd = partial_decryption_json(
        board.ctx,
        board.election.fingerprint,
        x,
        board.tally,
        SystemRandom(),
        board.election.questions,
    )
    return _emit(args, pd, owner.index, "partial decryption")


def _cmd_shuffle(args: argparse.Namespace) -> int:
    path = find_archive(args.archive, args.dir)
    board = load_board(path)
    if board.election is None or board.ctx is None or board.tally is None:
        raise CommandError("there is no encrypted tally to shuffle yet")
    if not board.election.has_nh:
        raise CommandError("the election has no non-homomorphic question to shuffle")
    if board.report.status not in ("tallied", "shuffling"):
        raise CommandError(f"shuffling is over ({board.report.status})")
    if args.trustee_id in board.shuffled_by:
        raise CommandError(f"trustee {args.trustee_id} has already shuffled")
    sh = shuffle_json(board.election, board.ctx, board.tally, SystemRandom())
    return _emit(args, sh, args.trustee_id, "shuffle")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "trustee",
        help="trustee: key generation, shuffle, partial decryption",
        description="Commands of a trustee.",
    )
    s = p.add_subparsers(
        dest="trustee_command", metavar="COMMAND", required=True, help="the command"
    )
    k = s.add_parser(
        "keygen",
        help="generate a (single) trustee key pair",
        description="Write ID.pubkey (send it to the administrator) and ID.privkey "
        "(keep it safe: it decrypts the tally).",
    )
    k.add_argument(
        "--group",
        default="Ed25519",
        help="group name: Ed25519 (the default), BELENIOS-2048 or RFC-3526-2048",
    )
    k.add_argument("--dir", default=".", help="where to write the files (default: current)")
    k.set_defaults(func=_cmd_keygen)
    for name, func, what in (
        ("decrypt", _cmd_decrypt, "compute a partial decryption of the encrypted tally"),
        ("shuffle", _cmd_shuffle, "shuffle the non-homomorphic ciphertexts of the tally"),
    ):
        c = s.add_parser(
            name,
            help=what,
            description=f"Verify the archive, {what} and print it (two lines: the "
            "data and the owned wrapper, for 'plebiscite admin add-event').",
        )
        c.add_argument("--archive", help="the election archive (default: the one .bel in --dir)")
        c.add_argument("--dir", help="directory holding the archive (default: current)")
        c.add_argument(
            "--trustee-id",
            type=int,
            required=name == "shuffle",
            help="this trustee's number in the trustees structure (from 1)"
            + ("; found from the key when omitted" if name == "decrypt" else ""),
        )
        c.add_argument(
            "--out",
            metavar="FILE",
            help=f"write the {'partial decryption' if name == 'decrypt' else 'shuffle'} alone to "
            "FILE, a new file (what the server's API takes), instead of printing the two lines",
        )
        if name == "decrypt":
            c.add_argument("--privkey", help="the private key file (a single trustee)")
            c.add_argument("--key", help="the threshold trustee's seed (.key file)")
            c.add_argument(
                "--decryption-key",
                help="the threshold trustee's encrypted decryption key (.dkey file)",
            )
        c.set_defaults(func=func)
