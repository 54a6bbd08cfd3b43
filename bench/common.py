"""Shared by the benchmarks: the belenios-tool archives they run on, timing helpers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peer import run_scenario  # noqa: E402


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
