"""Helpers shared by the commands: finding the archive, reading it, appending to it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from plebiscite._records import TYPE_CHECKING
from plebiscite.errors import PlebisciteError, StateError
from plebiscite.protocol.archive import ArchiveWriter, archive_state, iter_members

if TYPE_CHECKING:
    from pathlib import Path

    from plebiscite.protocol.verifier import Verifier


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 1 (or ``status``)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def find_archive(archive: str | None, directory: str | None = None) -> Path:
    from pathlib import Path

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


def cache_base() -> str | None:
    """Where this machine keeps what a user's earlier commands checked (``PLEBISCITE_CACHE``,
    ``off`` to disable; by default ``$XDG_CACHE_HOME/plebiscite`` or ``~/.cache/plebiscite``):
    verification checkpoints and checked election setups. A string, so that a command can
    use it without importing pathlib."""
    env = os.environ.get("PLEBISCITE_CACHE")
    if env == "off":
        return None
    home = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return env or os.path.join(home, "plebiscite")


def cache_dir() -> Path | None:
    """Where verification checkpoints are kept (see :func:`cache_base`)."""
    from pathlib import Path

    base = cache_base()
    return None if base is None else Path(base) / "checkpoints"


def _event_hashes(path: Path) -> list[str]:
    with path.open("rb") as f:
        return [m.hash for m in iter_members(f) if m.kind == "event"]


def load_board(path: Path, *, require_valid: bool = True) -> Verifier:
    """Verify the archive and return the verifier, whose state (election, tally, ...) the
    commands then use. Every command that acts on an election checks its board first.

    The user's own earlier verifications are kept as checkpoints (the spec's "record the last
    audited board", section 3.5.1): when the archive extends one, only the events after it are
    verified again. A checkpoint names the hash of its last event, which commits to everything
    before it."""

    from concurrent.futures import ProcessPoolExecutor

    from plebiscite.protocol.verifier import Verifier

    cache = cache_dir()
    try:
        hashes = _event_hashes(path)
    except PlebisciteError:
        hashes = []
    saved = None
    start = 0
    if cache is not None:
        for i in range(len(hashes) - 1, -1, -1):
            candidate = cache / f"{hashes[i]}.json"
            if candidate.is_file():
                saved, start = candidate.read_bytes(), i + 1
                break
    executor = (
        ProcessPoolExecutor(max_workers=os.cpu_count() or 1)
        if len(hashes) - start > 64 and (os.cpu_count() or 1) > 1
        else None
    )
    try:
        verifier = None
        if saved is not None:
            try:
                verifier = Verifier.from_checkpoint(
                    saved, lambda: path.open("rb"), name=str(path), executor=executor
                )
            except (PlebisciteError, KeyError, TypeError, ValueError):
                verifier = None  # an unusable checkpoint: verify from scratch
        if verifier is None:
            verifier = Verifier(lambda: path.open("rb"), name=str(path), executor=executor)
        report = verifier.run()
    finally:
        if executor is not None:
            executor.shutdown()
    if require_valid and not report.valid:
        first = next(f for f in report.findings if f.severity == "error")
        raise CommandError(f"{path} does not verify: {first.describe()}")
    if cache is not None and report.valid and hashes and report.last_event == hashes[-1]:
        target = cache / f"{hashes[-1]}.json"
        if not target.exists():
            try:
                cache.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(".tmp")
                tmp.write_bytes(verifier.checkpoint())
                os.replace(tmp, target)
            except (OSError, PlebisciteError):
                pass  # a cache that cannot be written only costs time
    return verifier


def append_events(path: Path, items: Sequence[tuple[str, Sequence[bytes]]]) -> None:
    """Append ``(event type, data members)`` to the archive: the last data member of each is
    the event's payload. The result is written to a temporary copy, verified, then moved into
    place, so the archive is never half-written and never holds anything invalid."""
    tmp = None
    try:
        import tempfile

        fd, tmp_name = tempfile.mkstemp(prefix=".append-", suffix=".bel", dir=path.parent)
        tmp = path.with_name(os.path.basename(tmp_name))
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
        report = load_board(tmp, require_valid=False).report
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
