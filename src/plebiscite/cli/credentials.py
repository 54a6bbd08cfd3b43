"""Credential authority commands: generate credentials, derive a public credential."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from plebiscite.cli.common import CommandError
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import credential_secret, parse_credential
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import SystemRandom
from plebiscite.errors import EncodingError
from plebiscite.protocol.election_setup import (
    generate_credentials,
    parse_voter_list,
    public_credentials_json,
)
from plebiscite.protocol.jsonvalues import check_uuid
from plebiscite.strictjson import dumps_compact

__all__ = ["register"]


def _uuid(value: str) -> str:
    """The ``--uuid`` option: an election uuid, checked before anything is derived from it."""
    try:
        return check_uuid(value, "--uuid")
    except EncodingError as e:
        raise argparse.ArgumentTypeError(e.message) from None


def _cmd_generate(args: argparse.Namespace) -> int:
    group = group_by_name(args.group)
    if (args.count is None) == (args.file is None):
        raise CommandError("give exactly one of --count and --file", status=2)
    if args.file:
        lines = Path(args.file).read_text().splitlines()
        voters = parse_voter_list("\n".join(lines))
        labels = [line.strip() for line in lines if line.strip()]
    else:
        if args.count < 1:
            raise CommandError("--count must be at least 1", status=2)
        voters = [(str(i), None) for i in range(1, args.count + 1)]
        labels = [str(i) for i in range(1, args.count + 1)]
    creds = generate_credentials(voters, args.uuid, group, SystemRandom(), legacy=args.legacy)
    out = Path(args.dir)
    stem = str(int(time.time()))
    priv = out / f"{stem}.privcreds"
    pub = out / f"{stem}.pubcreds"
    priv.write_text(
        "".join(f"{label} {c.private}\n" for label, c in zip(labels, creds, strict=True))
    )
    priv.chmod(0o400)
    pub.write_text(
        dumps_compact(
            [f"{c.public},{'' if c.weight is None else c.weight},{c.login}" for c in creds]
        ).decode()
    )
    print(f"{len(creds)} private credentials with ids saved to {priv}")
    print(f"{len(creds)} public credentials saved to {pub}")
    print(f"The fingerprint of public credentials is {h_json(public_credentials_json(creds))}")
    return 0


def _cmd_derive(args: argparse.Namespace) -> int:
    group = group_by_name(args.group)
    c = parse_credential(args.credential)
    print(Context(group).gpow(credential_secret(c, args.uuid, group)))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "credentials",
        help="credential authority: generate and derive",
        description="Commands of the credential authority.",
    )
    s = p.add_subparsers(
        dest="credentials_command", metavar="COMMAND", required=True, help="the command"
    )
    g = s.add_parser(
        "generate",
        help="generate one credential per voter",
        description="Write UNIXTIME.privcreds (each voter line and its secret credential: send "
        "each voter theirs) and UNIXTIME.pubcreds (the public credentials for the "
        "administrator), and print the fingerprint the published list must have.",
    )
    g.add_argument("--uuid", required=True, type=_uuid, help="the election uuid")
    g.add_argument(
        "--group",
        default="Ed25519",
        help="group name: Ed25519 (the default), BELENIOS-2048 or RFC-3526-2048",
    )
    g.add_argument(
        "--legacy",
        action="store_true",
        help="credentials of the Belenios 2.0 form (15 characters with a checksum), for an "
        "election whose voters use belenios-tool 2.0; by default the 3.x form (22 characters)",
    )
    g.add_argument("--count", type=int, help="number of anonymous voters")
    g.add_argument("--file", help="voter list: lines 'address[,login[,weight]]'")
    g.add_argument("--dir", default=".", help="where to write the files (default: current)")
    g.set_defaults(func=_cmd_generate)
    d = s.add_parser(
        "derive",
        help="print the public credential of a secret credential",
        description="Print g^secret(c) for credential c in election uuid.",
    )
    d.add_argument("--uuid", required=True, type=_uuid, help="the election uuid")
    d.add_argument(
        "--group",
        default="Ed25519",
        help="group name: Ed25519 (the default), BELENIOS-2048 or RFC-3526-2048",
    )
    d.add_argument("--credential", required=True, help="the secret credential")
    d.set_defaults(func=_cmd_derive)
