"""``plebiscite``: the command-line entry point, a thin layer over the library.

Each command lives in a module of this package with a ``register(subparsers)`` function.
Exit status: 0 when the command succeeded (for ``verify``: the archive is valid), 1 when the
input is invalid, 2 for a usage error or an unreadable input, 3 for an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from plebiscite import __version__
from plebiscite._records import TYPE_CHECKING
from plebiscite.cli.common import CommandError
from plebiscite.errors import PlebisciteError

if TYPE_CHECKING:
    from typing import Any

__all__ = ["COMMANDS", "build_parser", "main"]

# command name -> module of plebiscite.cli that registers it (imported only when needed, so a
# command starts without loading the code of every other one)
COMMANDS = {
    "verify": "verify",
    "ballot": "voter",
    "voter": "voter",
    "credentials": "credentials",
    "trustee": "trustee",
    "admin": "admin",
    "trustee-threshold": "threshold",
    "demo": "demo",
    "method": "method",
    "serve": "serve",
    "voter-audit": "voter_audit",
    "admin-account": "accounts",
    "referendum": "referendum",
    "poll": "poll",
    "checkpoints": "checkpoints",
    "generate": "generate",
}


def _terminal_width() -> int:
    # what argparse asks shutil for, without importing shutil (and its compression modules)
    # in every command
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _HelpFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("width", _terminal_width() - 2)
        super().__init__(prog, *args, **kwargs)


class _Parser(argparse.ArgumentParser):
    """argparse with a help formatter that starts without importing shutil; the command
    parsers inherit it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


class _Version(argparse.Action):
    """``--version``: the version, and the library of the Ed25519 arithmetic (imported only
    for this)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from plebiscite.crypto.ed25519 import BACKEND

        parser.exit(message=f"plebiscite {__version__} (Ed25519 on {BACKEND})\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (``only``) of the module of one command."""
    parser = _Parser(
        prog="plebiscite",
        description="Verifiable polls and referendums (Belenios 2.0).",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [COMMANDS[only]] if only in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        import_module(f"plebiscite.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        rc: int = args.func(args)
    except CommandError as e:
        print(f"plebiscite {args.command}: {e}", file=sys.stderr)
        return e.status
    except PlebisciteError as e:
        print(f"plebiscite {args.command}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # whatever read the output stopped reading (``| head``): nothing to say, as a tool
        # killed by SIGPIPE; the interpreter must not try to flush the closed pipe again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as e:
        print(f"plebiscite {args.command}: {e.strerror or e}: {e.filename or ''}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as e:  # a text file or the standard input: unreadable input
        print(
            f"plebiscite {args.command}: an input is not UTF-8 text ({e.reason} at byte {e.start})",
            file=sys.stderr,
        )
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
