"""Shared by the benchmarks: the belenios-tool archives they run on, timing helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peer import run_scenario  # noqa: E402
from peer3 import run_scenario as run_scenario3  # noqa: E402


def bench_election(voters: int) -> Path:
    """The directory of a ``voters``-ballot election run by belenios-tool (yes/no and one of
    three, three single trustees, fully tallied), generated once into .cache/bench/."""
    d = ROOT / ".cache" / "bench" / f"bench-{voters}"
    if d.exists() and sorted(d.glob("*.bel")):
        return d
    if d.exists():
        shutil.rmtree(d)
    print(f"generating a {voters}-ballot election with belenios-tool (once)...", file=sys.stderr)
    run_scenario("bench", d, voters=voters)
    return d


def plebiscite_command() -> list[str]:
    exe = Path(sys.executable).parent / "plebiscite"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "plebiscite.cli.main"]


def run(cmd: list[str], *, stdin: bytes = b"", cwd: Path | None = None) -> tuple[float, bytes]:
    """Run a command, fail loudly if it fails; return (seconds, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[-500:]}")
    return elapsed, p.stdout


def bench_election3(voters: int) -> Path:
    """The archive of a ``voters``-ballot Ed25519 election run by belenios-tool 3.0
    (tests/peer3.py's "bench" scenario: yes/no and one of three, one single trustee, fully
    tallied), generated once into .cache/bench/."""
    d = ROOT / ".cache" / "bench" / f"peer3-bench-{voters}"
    found = sorted(d.glob("*.bel")) if d.exists() else []
    if found:
        return found[0]
    if d.exists():
        shutil.rmtree(d)
    print(
        f"generating a {voters}-ballot Ed25519 election with belenios-tool 3.0 (once, a few "
        "minutes)...",
        file=sys.stderr,
    )
    return run_scenario3("bench", d, voters=voters, jobs=os.cpu_count() or 1).archive


def archive_only(archive: Path) -> Path:
    """A directory holding only ``archive`` (belenios-tool verifies the archive of a
    directory), next to it."""
    d = archive.parent / "verify-only"
    d.mkdir(exist_ok=True)
    if not (d / archive.name).exists():
        shutil.copy(archive, d / archive.name)
    return d


@dataclass(frozen=True)
class Measured:
    """One run of a command: wall and CPU seconds (user and system, its waited-for child
    processes included), exit status, peak RSS of its largest process (KiB), end of stderr."""

    seconds: float
    cpu: float
    returncode: int
    peak_kib: int
    stderr: str


def run_measured(cmd: list[str]) -> Measured:
    """Run ``cmd`` (stdout discarded) and measure it with wait4's resource usage."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
    return Measured(elapsed, ru.ru_utime + ru.ru_stime, p.returncode, ru.ru_maxrss, tail)


def best_of(runs: list[Measured]) -> Measured:
    """The fastest run (wall time); with the machine shared, the least disturbed one."""
    return min(runs, key=lambda m: m.seconds)
