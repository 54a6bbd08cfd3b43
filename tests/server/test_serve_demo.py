"""``plebiscite serve --demo``: a real server process, a demo referendum open for voting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.simulate import random_choices


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp_path, port):
    env = dict(os.environ, PLEBISCITE_ADMIN_TOKEN="demo-token")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plebiscite.cli.main",
            "serve",
            "--demo",
            "--demo-voters",
            "8",
            "--database",
            str(tmp_path / "board.db"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(base):
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("the server did not start")


def test_serve_demo_opens_a_referendum_ready_for_ballots(tmp_path):
    port = _free_port()
    proc = _start(tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        (ref,) = httpx.get(f"{base}/api/referendums").json()
        assert ref["phase"] == "open"
        status = httpx.get(f"{base}/api/referendums/{ref['id']}").json()
        assert len(status["regions"]) == 4
        region, _login, cred = (
            (tmp_path / "board.db.demo" / ref["id"] / "credentials.txt")
            .read_text()
            .splitlines()[0]
            .split()
        )
        raw = httpx.get(f"{base}/api/referendums/{ref['id']}/regions/{region}/election").content
        election = parse_election(raw)
        rng = DeterministicRandom("demo voter")
        ballot = make_ballot(election, cred, random_choices(election, rng), rng)
        r = httpx.post(f"{base}/api/elections/{election.uuid}/ballots", content=ballot, timeout=30)
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "voter1 has credential" in out
    # the addresses to open: the observer dashboard, the administrator pages, a booth per region
    assert f"{base}/observe/{ref['id']}" in out
    assert f"{base}/admin/" in out
    assert f"{base}/booth/{election.uuid}" in out
    assert "administrator token" not in out  # it came from the environment

    secrets = tmp_path / "board.db.demo" / ref["id"]
    saved = {p.name: p.read_bytes() for p in secrets.iterdir()}

    # a second start on the same database serves the same demo, its ballot and secrets kept
    proc = _start(tmp_path, port)
    try:
        _wait(base)
        (again,) = httpx.get(f"{base}/api/referendums").json()
        assert again["id"] == ref["id"]
        summary = httpx.get(f"{base}/api/elections/{election.uuid}").json()
        assert summary["ballots"] == 1, summary
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "still open: serving it again" in out
    assert {p.name: p.read_bytes() for p in secrets.iterdir()} == saved
