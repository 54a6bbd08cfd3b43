"""Shared by the benchmarks: the belenios-tool archives they run on, timing helpers."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from peer import run_scenario  # noqa: E402
from peer3 import belenios3_tool  # noqa: E402
from peer3 import run_scenario as run_scenario3  # noqa: E402
from plebiscite.protocol.setup import SetupData, read_setup  # noqa: E402

#: The groups of the ballot and tally benchmarks, each against the belenios-tool of its record.
GROUPS = ("BELENIOS-2048", "Ed25519")

T = TypeVar("T")


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


@dataclass(frozen=True)
class Took:
    """Wall and CPU seconds (user and system). On a loaded machine the wall time stretches
    with the other work; the CPU time much less."""

    wall: float = 0.0
    cpu: float = 0.0

    def __add__(self, other: Took) -> Took:
        return Took(self.wall + other.wall, self.cpu + other.cpu)

    def __truediv__(self, n: float) -> Took:
        return Took(self.wall / n, self.cpu / n)


def total(took: Iterable[Took]) -> Took:
    return sum(took, Took())


def ratios(peer: Took, ours: Took) -> str:
    """The peer's time over plebiscite's, wall and CPU (above 1: plebiscite is faster)."""
    return f"{peer.wall / ours.wall:6.2f} {peer.cpu / ours.cpu:6.2f}"


def run(cmd: list[str], *, stdin: bytes = b"", cwd: Path | None = None) -> tuple[Took, bytes]:
    """Run a command, fail loudly if it fails; return its times (its CPU: the children's
    resource usage before and after, the commands run one at a time) and its stdout.
    belenios-tool reads /dev/urandom (as tests/peer3.py runs it); plebiscite ignores the
    variable."""
    env = {**os.environ, "BELENIOS_USE_URANDOM": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, env=env)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode()[-500:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Took(elapsed, cpu), p.stdout


def timed(fn: Callable[[], T]) -> tuple[Took, T]:
    """Call ``fn`` in this process; its times and its value."""
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return Took(time.perf_counter() - t0, time.process_time() - c0), value


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


@dataclass(frozen=True)
class BenchElection:
    """A group's benchmark election and the belenios-tool it is compared with: BELENIOS-2048
    made by belenios-tool 2.0 (three single trustees), Ed25519 made by belenios-tool 3.0 (one
    single trustee); both a yes/no and a one-of-three question, fully tallied."""

    group: str
    archive: Path
    peer: str  # the peer's name, "belenios-tool 2.0" or "belenios-tool 3.0"
    tool: str  # its executable
    choice_option: str  # generate-ballot's option naming the choices file (2.0 and 3.0 differ)

    @property
    def directory(self) -> Path:
        """Where the secrets are: private_creds.txt, the trustees' *.privkey."""
        return self.archive.parent

    def credentials(self) -> list[str]:
        lines = (self.directory / "private_creds.txt").read_text().splitlines()
        return [line.split()[-1] for line in lines]

    def setup(self) -> SetupData:
        """The exact election, trustees and credentials of the archive's Setup."""
        with self.archive.open("rb") as f:
            return read_setup(f)

    def private_keys(self) -> list[Path]:
        """The single trustees' private keys in the order of the trustees (belenios-tool's
        ``--trustee-id`` 1, 2, ...): matched to the public keys of the setup."""
        from plebiscite.crypto.context import Context
        from plebiscite.crypto.groups import group_by_name
        from plebiscite.protocol.messages import Single, parse_trustees

        group = group_by_name(self.group)
        trustees = parse_trustees(self.setup().trustees, group)
        ctx = Context(group)
        keys = self.directory.glob("*.privkey")
        by_public = {ctx.gpow(int(json.loads(k.read_text()))): k for k in keys}
        return [by_public[t.key.public_key] for t in trustees if isinstance(t, Single)]


def bench_elections(group: str | None, voters: int) -> list[BenchElection]:
    """The benchmark election of ``group`` (None: of every group of :data:`GROUPS`), each
    generated once into .cache/bench/ by its peer."""
    out = []
    for g in GROUPS if group is None else (group,):
        if g == "BELENIOS-2048":
            archive = next(bench_election(voters).glob("*.bel"))
            out.append(BenchElection(g, archive, "belenios-tool 2.0", "belenios-tool", "--ballot"))
        else:
            tool = belenios3_tool()
            if tool is None:
                raise SystemExit("belenios-tool 3.0 is not installed: run scripts/belenios3-setup")
            archive = bench_election3(voters)
            out.append(BenchElection(g, archive, "belenios-tool 3.0", tool, "--choice"))
    return out


def group_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--group", choices=GROUPS, default=None, help="only this group (default: both)"
    )


def load() -> str:
    """The load average (1, 5 and 15 minutes): the timings of a shared machine are disturbed."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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


def on_cluster_and_here(
    client: Any,
    here: Callable[[], object],
    cluster: Callable[[], object],
    rounds: int,
    report: Callable[[int, float, float, dict[str, float]], None],
    reset: Callable[[], object] = lambda: None,
) -> list[tuple[float, float]]:
    """``here`` (in this process) and ``cluster`` (on ``client``'s workers) run ``rounds``
    times in turn, every other round in the reverse order (a steady drift of the machine's
    speed weighs on both alike): each round's wall times of the two, reported with the CPU
    of this process (the client, with a LocalCluster's scheduler) and of the workers during
    ``cluster``; the list of (here, cluster) times. ``reset`` runs, untimed, before each."""
    cpu: dict[str, float] = {}

    def one() -> float:
        reset()
        t = time.perf_counter()
        here()
        return time.perf_counter() - t

    def two() -> float:
        reset()
        before = (time.process_time(), sum(client.run(time.process_time).values()))
        t = time.perf_counter()
        cluster()
        took = time.perf_counter() - t
        cpu["client"] = time.process_time() - before[0]
        cpu["workers"] = sum(client.run(time.process_time).values()) - before[1]
        return took

    out = []
    for r in range(rounds):
        if r % 2 == 0:
            a = one()
            b = two()
        else:
            b = two()
            a = one()
        report(r, a, b, dict(cpu))
        out.append((a, b))
    return out
