"""A real ``plebiscite serve`` for the browser tests: a subprocess on a free port, with a
temporary SQLite board, either empty or with the demo referendum open (``--demo``).

Fixtures (import them into a test module: ``from .live import demo_server, empty_server``):

- ``demo_server`` (session): the demo referendum (4 regions, trustees 2 of 3, 8 voters), open.
  ``server.vote(n)`` casts the ballots of ``n`` more demo voters through the API, as voters do.
- ``empty_server`` (session): no referendum; the administrator creates them in the tests.

Each is a :class:`LiveServer`: ``base`` (``http://127.0.0.1:PORT``), ``token`` (the
administrator token), ``get(path)``, ``rid`` (the demo referendum's id) and ``log()`` (what the
server printed).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN_TOKEN = "browser-test-admin-token"
DEMO_VOTERS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(
        self,
        directory: Path,
        *,
        demo: bool,
        args: tuple[str, ...] = (),
        mail: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = ADMIN_TOKEN
        self.database = directory / "board.db"
        self.demo_dir = directory / "demo" if demo else None
        self.voted = 0
        self._log = directory / "server.log"
        more = list(args)
        args = [
            sys.executable,
            "-m",
            "plebiscite.cli.main",
            "serve",
            "--database",
            str(self.database),
            "--port",
            str(self.port),
            *more,
        ]
        if mail and "--smtp-url" not in more and "--outbox-dir" not in more:
            args += ["--outbox-dir", str(directory / "outbox")]  # mail goes to files there
        if demo:
            args += ["--demo", "--demo-voters", str(DEMO_VOTERS), "--demo-dir", str(self.demo_dir)]
        env = dict(os.environ, PLEBISCITE_ADMIN_TOKEN=ADMIN_TOKEN) | (env or {})
        with self._log.open("wb") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        self._wait()
        self.rid: str | None = None
        if demo:
            (ref,) = self.get("/api/referendums")
            self.rid = ref["id"]

    def _wait(self) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"the server did not start:\n{self.log()}")

    def log(self) -> str:
        return self._log.read_text(errors="replace")

    def get(self, path: str) -> Any:
        r = httpx.get(f"{self.base}{path}", timeout=30)
        r.raise_for_status()
        return r.json()

    def credentials(self) -> list[tuple[str, str, str]]:
        """``(region, login, credential)`` of every demo voter."""
        assert self.demo_dir is not None, "not a demo server"
        rid = json.loads((self.demo_dir / "demo.json").read_text())["current"]
        lines = (self.demo_dir / rid / "credentials.txt").read_text().splitlines()
        return [(r, login, c) for r, login, c in (line.split() for line in lines)]

    def vote(self, n: int) -> list[str]:
        """The next ``n`` demo voters cast a ballot (random choices); their trackers."""
        from plebiscite.crypto.rand import SystemRandom
        from plebiscite.protocol.ballot import make_ballot
        from plebiscite.protocol.messages import parse_election
        from plebiscite.protocol.simulate import random_choices

        rng = SystemRandom()
        trackers = []
        todo = self.credentials()[self.voted : self.voted + n]
        assert len(todo) == n, "not that many demo voters left"
        for region, _login, cred in todo:
            raw = httpx.get(
                f"{self.base}/api/referendums/{self.rid}/regions/{region}/election", timeout=30
            ).content
            election = parse_election(raw)
            ballot = make_ballot(election, cred, random_choices(election, rng), rng)
            r = httpx.post(
                f"{self.base}/api/elections/{election.uuid}/ballots", content=ballot, timeout=60
            )
            assert r.status_code == 200, r.text
            trackers.append(r.json()["tracker"])
            self.voted += 1
        return trackers

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("demo-server"), demo=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("empty-server"), demo=False)
    try:
        yield server
    finally:
        server.stop()
