"""``plebiscite``: the command-line entry point, a thin layer over the library.

Each command lives in a module of this package with a ``register(subparsers)`` function.
Exit status: 0 when the command succeeded (for ``verify``: the archive is valid), 1 when the
input is invalid, 2 for a usage error or an unreadable input, 3 for an internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from plebiscite import __version__
from plebiscite.cli import admin, credentials, demo, threshold, trustee, verify, voter
from plebiscite.cli.common import CommandError
from plebiscite.errors import PlebisciteError

__all__ = ["build_parser", "main"]

COMMANDS = (verify, voter, credentials, trustee, admin, threshold, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plebiscite",
        description="Verifiable polls and referendums (Belenios 2.0).",
    )
    parser.add_argument("--version", action="version", version=f"plebiscite {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc: int = args.func(args)
    except CommandError as e:
        print(f"plebiscite {args.command}: {e}", file=sys.stderr)
        return e.status
    except PlebisciteError as e:
        print(f"plebiscite {args.command}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"plebiscite {args.command}: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a bug: say so in one line, never a traceback
        print(
            f"plebiscite: internal error ({type(e).__name__}: {e}); please report it",
            file=sys.stderr,
        )
        return 3
    return rc


if __name__ == "__main__":
    sys.exit(main())
