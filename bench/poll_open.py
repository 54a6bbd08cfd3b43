#!/usr/bin/env python3
"""Benchmark: opening a large mail poll, then its letters into a local SMTP server.

``plebiscite serve`` (SQLite in a temporary directory, or ``--database postgresql://...``)
with an SMTP outbox to aiosmtpd in this process; ``POST /api/polls`` with ``--voters N``
(1,000,000 by default) e-mail addresses, delivery ``mail``, shards of ``--shard-size`` (the
server's default, 100,000): the server makes every credential (in worker processes, a chunk
at a time) and stores every letter sealed before it answers. Reported: the request's wall
time, the server's CPU time and its worker processes' (from ``/proc``), the peak resident
memory of the server and of its largest worker (``VmHWM``), the progress lines the server
logged; then the letters per second into the SMTP server over ``--send-seconds`` (default
60) with the rate limit raised to ``--rate``, and the projection for the whole poll.

    ./dev bench poll_open [--voters N] [--shard-size S] [--send-seconds T] [--database URL]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from common import plebiscite_command  # puts tests/ on the path, for mailserver
from mailserver import SmtpServer

TOKEN = "bench-poll-open"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (MiB) of a process, and its CPU seconds (user + system, its own)."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out["cpu"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def children(pid: int) -> list[int]:
    """The descendants of a process, whichever of its threads started them."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            text = (task / "children").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for c in text.split():
            out += [int(c), *children(int(c))]
    return out


_PROGRESS = re.compile(r"credentials and letters|opening planned|boards made and read")


def rss_at(timeline: list[tuple[float, float]], line: str) -> float:
    """The server's resident memory (MiB) sampled nearest the time of a log line."""
    stamp = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + float("0." + line[20:23])
    if not timeline:
        return 0.0
    return min(timeline, key=lambda sample: abs(sample[0] - stamp))[1]


class Watch(threading.Thread):
    """Samples the server and its children every 0.2 s: the peaks and the last CPU times."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = {"server": 0.0, "worker": 0.0}
        self.cpu: dict[int, float] = {}
        self.timeline: list[tuple[float, float]] = []  # (time.time(), the server's VmRSS)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for p in [self.pid, *children(self.pid)]:
                s = status(p)
                if not s:
                    continue
                which = "server" if p == self.pid else "worker"
                self.peak[which] = max(self.peak[which], s.get("VmHWM", 0.0))
                if p == self.pid:
                    self.timeline.append((time.time(), s.get("VmRSS", 0.0)))
                self.cpu[p] = s.get("cpu", 0.0)
            time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--voters", type=int, default=1_000_000)
    ap.add_argument("--shard-size", type=int, default=100_000)
    ap.add_argument("--send-seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=float, default=1_000_000.0, help="the server's --mail-rate")
    ap.add_argument("--database", help="postgresql://... (default: a new SQLite file)")
    args = ap.parse_args()
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    smtp = SmtpServer()
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = Path(d) / "server.log"
        database = args.database or str(Path(d) / "board.db")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    *plebiscite_command(),
                    "serve",
                    "--database",
                    database,
                    "--key-file",
                    str(Path(d) / "server.key"),
                    "--port",
                    str(port),
                    "--rate-limits",
                    "off",
                    "--smtp-url",
                    smtp.url,
                    "--public-url",
                    "https://vote.example.org",
                    "--mail-rate",
                    str(args.rate),
                    "--poll-shard-size",
                    str(args.shard_size),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
            )
        watch = Watch(proc.pid)
        try:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"the server stopped: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            idle = status(proc.pid)
            watch.start()
            closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
            body = {
                "question": "Adopt the plan?",
                "answers": ["Yes", "No"],
                "closing": closing,
                "voters": {
                    "emails": [f"voter{i}@example.org" for i in range(args.voters)],
                    "delivery": "mail",
                },
            }
            cpu0 = idle.get("cpu", 0.0)
            t0 = time.monotonic()
            r = httpx.post(
                f"{url}/api/polls",
                json=body,
                headers={"authorization": f"Bearer {TOKEN}"},
                timeout=24 * 3600,
            )
            t1 = time.monotonic()
            r.raise_for_status()
            created = r.json()
            shards = len(created["poll"]["shards"])
            time.sleep(0.5)
            server_cpu = watch.cpu.get(proc.pid, 0.0) - cpu0
            workers_cpu = sum(c for p, c in watch.cpu.items() if p != proc.pid)
            print(
                f"opening a poll of {args.voters:,} voters in {shards} shard(s), every credential "
                f"made and every letter stored: {t1 - t0:.1f} s wall; CPU {server_cpu:.1f} s "
                f"in the server, {workers_cpu:.1f} s in its worker processes"
            )
            print(
                f"peak memory: server {watch.peak['server']:.0f} MiB (idle "
                f"{idle.get('VmRSS', 0):.0f}), largest worker {watch.peak['worker']:.0f} MiB"
            )
            progress = [line for line in log.read_text().splitlines() if _PROGRESS.search(line)]
            print(f"progress lines logged: {len(progress)}, each with the server's memory then:")
            for line in progress:
                print(f"  {rss_at(watch.timeline, line):6.0f} MiB  {line}")
            s0, w0 = smtp.box.count(), time.monotonic()
            time.sleep(args.send_seconds)
            s1, w1 = smtp.box.count(), time.monotonic()
            rate = (s1 - s0) / (w1 - w0)
            print(
                f"letters into aiosmtpd: {s1:,} by {w1 - t1:.0f} s after the answer; "
                f"{rate:.1f} a second over the last {w1 - w0:.0f} s"
            )
            if rate > 0:
                hours = args.voters / rate / 3600
                print(f"the whole poll's letters at this rate: {hours:.1f} h")
            print(f"server memory at the end: {status(proc.pid).get('VmRSS', 0):.0f} MiB")
        finally:
            watch.stop.set()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
            smtp.stop()
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
