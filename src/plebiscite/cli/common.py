"""Helpers shared by the commands: finding the archive, reading it, appending to it."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from plebiscite.errors import PlebisciteError, StateError
from plebiscite.protocol.archive import ArchiveWriter, archive_state
from plebiscite.protocol.verifier import Verifier


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 1 (or ``status``)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def find_archive(archive: str | None, directory: str | None = None) -> Path:
    if archive:
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"{path}: no such file", status=2)
        return path
    d = Path(directory or ".")
    found = sorted(d.glob("*.bel"))
    if len(found) != 1:
        raise CommandError(
            f"{d}: expected exactly one .bel archive, found {len(found)}; use --archive", status=2
        )
    return found[0]


def load_board(path: Path, *, require_valid: bool = True) -> Verifier:
    """Verify the archive and return the verifier, whose state (election, tally, ...) the
    commands then use. Every command that acts on an election checks its board first."""
    verifier = Verifier(lambda: path.open("rb"), name=str(path))
    report = verifier.run()
    if require_valid and not report.valid:
        first = next(f for f in report.findings if f.severity == "error")
        raise CommandError(f"{path} does not verify: {first.describe()}")
    return verifier


def append_events(path: Path, items: Sequence[tuple[str, Sequence[bytes]]]) -> None:
    """Append ``(event type, data members)`` to the archive: the last data member of each is
    the event's payload. The result is written to a temporary copy, verified, then moved into
    place, so the archive is never half-written and never holds anything invalid."""
    tmp = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".append-", suffix=".bel", dir=path.parent)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        with path.open("rb") as f:
            state = archive_state(f)
        with tmp.open("ab") as out_f:
            w = ArchiveWriter(out_f, state)
            for event_type, data in items:
                payload = None
                for content in data:
                    payload = w.data(content)
                w.event(event_type, payload)
            out_f.flush()
            os.fsync(out_f.fileno())
        written = tmp
        report = Verifier(lambda: written.open("rb"), name=str(path)).run()
        if not report.valid:
            first = next(f for f in report.findings if f.severity == "error")
            raise CommandError(f"refused, the archive would not verify: {first.describe()}")
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def read_stdin_lines() -> list[bytes]:
    return [line for line in sys.stdin.buffer.read().splitlines() if line.strip()]


def now() -> int:
    return int(time.time())


def fail(e: PlebisciteError | StateError) -> CommandError:
    return CommandError(str(e))
