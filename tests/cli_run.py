"""Run the plebiscite command line in-process (fast: no interpreter start, tables shared)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from plebiscite.cli.main import main


def cli(args: Sequence[str], *, stdin: bytes = b"", cwd: Path | None = None) -> tuple[int, str]:
    out = io.StringIO()
    err = io.StringIO()
    old_stdin, old_cwd = sys.stdin, os.getcwd()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(list(args))
    finally:
        sys.stdin = old_stdin
        os.chdir(old_cwd)
    return rc, out.getvalue() + err.getvalue()


def ok(args: Sequence[str], *, stdin: bytes = b"", cwd: Path | None = None) -> str:
    rc, out = cli(args, stdin=stdin, cwd=cwd)
    assert rc == 0, f"plebiscite {' '.join(args)} -> {rc}: {out}"
    return out
