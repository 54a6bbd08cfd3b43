#!/usr/bin/env python3
"""Benchmark: the credential letters of a referendum created with ``"credential_delivery":
"mail"`` (``plebiscite.service.letters``), sent by ``plebiscite serve`` (SQLite, or
``--database postgresql://...``) into a local SMTP server (aiosmtpd, in this process).

A referendum of ``--letters`` voters (10,000 by default, one region) is created; its creation
makes every credential and stores every letter sealed before it answers. Reported: the
creation's time, then the letters per second from its answer to the last message the SMTP
server accepted (each letter claimed, unsealed, handed over on a connection of its own, its
state written, its body removed: three durable writes), with the rate limit raised to
``--rate`` (default: no practical limit), and the server's resident memory at the end and at
its peak (``VmHWM``). Each letter reaches the SMTP server once (checked).

    ./dev bench mail [--letters 10000] [--rate 1000000] [--database URL]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mailserver import SmtpServer  # noqa: E402
from plebiscite.cli.demo_server import demo_record  # noqa: E402

TOKEN = "bench-mail"


def plebiscite_command() -> list[str]:
    exe = Path(sys.executable).parent / "plebiscite"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "plebiscite.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def memory(pid: int) -> tuple[float, float]:
    """The process's resident memory now and at its peak (MiB)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found.get("VmRSS", float("nan")), found.get("VmHWM", float("nan"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--letters", type=int, default=10_000, help="voters, one letter each")
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
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PLEBISCITE_ADMIN_TOKEN": TOKEN},
            )
        try:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"the server stopped: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            idle, _ = memory(proc.pid)
            rid = f"bench-mail-{os.getpid()}"
            voters = [f"voter{i}@example.org" for i in range(args.letters)]
            t0 = time.monotonic()
            r = httpx.post(
                f"{url}/api/referendums",
                json={
                    "referendum": demo_record(rid, ["North"]),
                    "voters": {"North": voters},
                    "credential_delivery": "mail",
                },
                headers={"authorization": f"Bearer {TOKEN}"},
                timeout=3600,
            )
            r.raise_for_status()
            t1 = time.monotonic()
            print(f"creation with {args.letters} credentials and letters stored: {t1 - t0:.2f} s")
            smtp.wait(args.letters, timeout=24 * 3600)
            t2 = time.monotonic()
            now, peak = memory(proc.pid)
            time.sleep(1.0)
            sent = sorted(m["To"] for m in smtp.box.messages)
            assert sent == sorted(voters), "a letter missing or sent twice"
            print(
                f"{args.letters} letters in {t2 - t1:.2f} s: {args.letters / (t2 - t1):.1f} "
                f"letters/s (--mail-rate {args.rate:g})"
            )
            print(
                f"server memory: {idle:.1f} MiB before, {now:.1f} MiB at the end, "
                f"{peak:.1f} MiB at its peak"
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            smtp.stop()
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
