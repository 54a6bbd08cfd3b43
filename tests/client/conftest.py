"""A real ``plebiscite serve`` for the client tests: a child process on a free loopback port,
a SQLite board in a temporary directory, an outbox directory for the voters' login codes and
an administrator account; one server for each test module."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.test_robustness import _free_port, _plebiscite

TOKEN = "client-test-admin-token"
ACCOUNT, PASSWORD = "alice", "correct horse battery"


@dataclass
class Served:
    url: str
    outbox: Path
    proc: subprocess.Popen[bytes]
    log: Path


def _start(directory: Path) -> Served:
    for _ in range(3):  # another process may take the free port first
        url = f"http://127.0.0.1:{_free_port()}"
        log = directory / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    *_plebiscite(),
                    "serve",
                    "--database",
                    str(directory / "board.db"),
                    "--port",
                    url.rsplit(":", 1)[1],
                    "--outbox-dir",
                    str(directory / "outbox"),
                    "--admin-account",
                    ACCOUNT,
                    "--rate-limits",
                    "off",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={
                    **os.environ,
                    "PLEBISCITE_ADMIN_TOKEN": TOKEN,
                    "PLEBISCITE_ADMIN_PASSWORD": PASSWORD,
                },
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return Served(url, directory / "outbox", proc, log)
            except httpx.TransportError:
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    s = _start(tmp_path_factory.mktemp("client-server"))
    try:
        yield s
    finally:
        s.proc.terminate()
        try:
            s.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()
