"""``plebiscite admin-account``: the server's administrator accounts.

``add NAME`` creates an account (``--replace``: sets a new password and ends the account's
sessions), ``remove NAME`` removes it and ends its sessions, ``list`` names them. They are
kept in the private store of the server's database (``--database``, as for ``serve``); the
password is read from ``PLEBISCITE_ADMIN_PASSWORD`` if set, else asked for twice on the
terminal, else read from the first line of standard input. It is never echoed or printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from plebiscite.cli.common import CommandError

__all__ = ["read_password", "register"]

PASSWORD_ENV = "PLEBISCITE_ADMIN_PASSWORD"  # noqa: S105 (a variable name)


def read_password(name: str) -> str:
    """The password of account ``name``: from the environment, the terminal or stdin."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for administrator {name}: ")
        if getpass.getpass("the same password again: ") != first:
            raise CommandError("the two passwords differ", status=2)
        return first
    line = sys.stdin.readline()
    if not line:
        raise CommandError(
            f"no password: set {PASSWORD_ENV}, type it on a terminal or give it on stdin",
            status=2,
        )
    return line.rstrip("\r\n")


def ensure_account(database: str, name: str) -> bool:
    """Create account ``name`` in ``database`` unless it exists (``serve --admin-account``);
    True if it was created."""
    from plebiscite.board.private import open_private
    from plebiscite.server.accounts import ACCOUNT, add_account

    store = open_private(database)
    try:
        if store.get(ACCOUNT, name) is not None:
            return False
        try:
            return add_account(store, name, read_password(name))
        except ValueError as e:
            raise CommandError(str(e), status=2) from None
    finally:
        store.close()


def _cmd(args: argparse.Namespace) -> int:
    from plebiscite.board.private import open_private
    from plebiscite.server.accounts import add_account, list_accounts, remove_account

    store = open_private(args.database)
    try:
        if args.action == "list":
            for name in list_accounts(store):
                print(name)
            return 0
        if not args.name:
            raise CommandError(f"admin-account {args.action} needs the account's NAME", status=2)
        if args.action == "remove":
            if not remove_account(store, args.name):
                raise CommandError(f"no administrator account {args.name!r}")
            print(f"administrator account {args.name!r} removed", file=sys.stderr)
            return 0
        try:
            password = read_password(args.name)
            created = add_account(store, args.name, password, replace=args.replace)
        except ValueError as e:
            raise CommandError(str(e), status=2) from None
        if not created:
            raise CommandError(
                f"administrator account {args.name!r} exists (--replace sets a new password)"
            )
        print(f"administrator account {args.name!r} ready", file=sys.stderr)
        return 0
    finally:
        store.close()


def register(sub: Any) -> None:
    s = sub.add_parser(
        "admin-account",
        help="manage the server's administrator accounts",
        description="Add, remove or list the administrator accounts of a board server (kept "
        "in its database, password hashed with scrypt). The password comes from "
        f"{PASSWORD_ENV}, the terminal, or the first line of stdin.",
    )
    s.add_argument(
        "action",
        choices=("add", "remove", "list"),
        help="add an account (or with --replace set its password), remove one, or list them",
    )
    s.add_argument("name", nargs="?", help="the account's name")
    s.add_argument(
        "--database",
        default="plebiscite.db",
        help="the server's SQLite file (default: %(default)s) or postgresql://... URL",
    )
    s.add_argument(
        "--replace", action="store_true", help="add: set a new password if the account exists"
    )
    s.set_defaults(func=_cmd)
