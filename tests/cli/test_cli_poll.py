"""``plebiscite poll create|status|verify`` against a real ``plebiscite serve`` (a child
process on a free port, SQLite): a poll created in one command, its share link printed, the
credentials written once (never over a file), voted in, closed, its status and its
verification from the server's address alone; usage errors with status 2."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from cli_run import cli
from plebiscite.client import Voter
from plebiscite.crypto.rand import DeterministicRandom
from web.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = LiveServer(tmp_path_factory.mktemp("poll-cli-server"), demo=False)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def admin(monkeypatch, server):
    monkeypatch.setenv("PLEBISCITE_ADMIN_TOKEN", server.token)
    return server


def test_create_vote_close_status_and_verify(admin, tmp_path):
    server = admin
    voters = tmp_path / "voters.txt"
    emails = [f"v{i}@example.org" for i in range(40)]
    voters.write_text("# the staff\n" + "\n".join(emails) + "\n\n")
    out = tmp_path / "secrets.json"
    rc, text = cli(
        [
            "poll", "create", "--server", server.base, "--question", "Adopt the plan?",
            "--answer", "Yes", "--answer", "No", "--voters", str(voters),
            "--shard-size", "20", "--credentials-out", str(out), "--delivery", "organiser",
        ]
    )  # fmt: skip
    assert rc == 0, text
    link = text.splitlines()[0]
    assert link.startswith(f"{server.base}/poll/adopt-the-plan-")
    pid = link.rsplit("/", 1)[1]
    assert "the server can decrypt every ballot" in text and "2 shard(s)" in text
    secrets = json.loads(out.read_text())
    assert out.stat().st_mode & 0o777 == 0o600
    creds = secrets["credentials"]
    assert sorted(c["login"] for c in creds) == sorted(emails)
    # the credentials file is never overwritten
    rc, text = cli(
        [
            "poll", "create", "--server", server.base, "--question", "Again?", "--answer", "A",
            "--answer", "B", "--voter", "x@example.org", "--credentials-out", str(out),
            "--delivery", "organiser",
        ]
    )  # fmt: skip
    assert rc == 2 and "never overwritten" in text

    rng = DeterministicRandom("cli-poll")
    for i, c in enumerate(creds[:5]):
        Voter.of_election(server.base, c["election"], c["credential"], rng).vote(
            [[1, 0]] if i < 3 else [[0, 1]]
        )
    rc, text = cli(["poll", "status", "--server", server.base, pid])
    assert rc == 0, text
    assert "state:      open" in text and "5 of 40" in text and text.count("shard:") == 2
    r = httpx.post(
        f"{server.base}/api/polls/{pid}/close",
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    rc, text = cli(["poll", "status", "--server", server.base, pid, "--json"])
    assert rc == 0 and json.loads(text)["result"]["pooled"]["result"] == [[3, 2]]

    rc, text = cli(["poll", "verify", link, "--jobs", "1"])
    assert rc == 0, text
    assert "VALID" in text and "'Yes' 3 (3/5 (60.00%))" in text
    rc, text = cli(["poll", "verify", f"{server.base}/api/polls/{pid}", "--jobs", "1", "--json"])
    assert rc == 0 and json.loads(text)["outcome"]["pooled_counts"]["shares"] == [["3/5", "2/5"]]
    # every shard's ballots on a Dask worker, the same pooled result
    rc, text = cli(["poll", "verify", link, "--cluster", "local:1"])
    assert rc == 0, text
    assert "VALID" in text and "'Yes' 3 (3/5 (60.00%))" in text and text.count("shard:") == 2


def test_a_poll_with_trustees_waits_for_their_ceremony(admin, tmp_path):
    out = tmp_path / "secrets.json"
    rc, text = cli(
        [
            "poll", "create", "--server", admin.base, "--question", "Q?", "--answer", "A",
            "--answer", "B", "--voter", "a@example.org", "--trustee", "Alice", "--trustee",
            "Bob", "--threshold", "2", "--credentials-out", str(out),
            "--closing", "2099-01-01T00:00:00Z",
        ]
    )  # fmt: skip
    assert rc == 0, text
    assert "ceremony" in text and "2 of the 2 trustees" in text
    assert [t["name"] for t in json.loads(out.read_text())["trustees"]] == ["Alice", "Bob"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--answer", "A"], "at least two answers"),
        (["--answer", "A", "--answer", "B"], "give the voters"),
        (["--answer", "A", "--answer", "B", "--voter", "a@x.org", "--threshold", "1"], "--trustee"),
        (["--answer", "A", "--answer", "B", "--voter", "a@x.org", "--closing", "soon"], "soon"),
    ],
)
def test_usage_errors(admin, args, message):
    rc, text = cli(["poll", "create", "--server", admin.base, "--question", "Q?", *args])
    assert rc == 2 and message in text


def test_refusals_of_the_server_name_the_field(admin, tmp_path):
    rc, text = cli(
        [
            "poll", "create", "--server", admin.base, "--question", "Q?", "--answer", "A",
            "--answer", "B", "--voter", "not-an-address", "--credentials-out",
            str(tmp_path / "s.json"),
        ]
    )  # fmt: skip
    assert rc == 1 and "request.voters.emails[0]" in text
    assert not (tmp_path / "s.json").exists()


def test_verify_needs_the_archives_or_an_address(tmp_path):
    rc, text = cli(["poll", "verify", str(tmp_path / "x.record.bel")])
    assert rc == 2 and "every shard's archive" in text
    rc, text = cli(["poll", "verify", "https://example.org/elsewhere"])
    assert rc == 2 and "URL/poll/ID" in text


def test_a_mail_poll_its_letters_and_a_reissue(admin, tmp_path):
    """The server (with an outbox) mails the credentials by default: no credentials file; the
    letters' delivery followed, one voter's credential reissued before the opening."""
    server = admin
    out = tmp_path / "none.json"
    rc, text = cli(
        [
            "poll", "create", "--server", server.base, "--question", "Mailed?", "--answer", "A",
            "--answer", "B", "--voter", "m1@example.org", "--voter", "m2@example.org",
            "--opening", "2098-01-01T00:00:00Z", "--closing", "2099-01-01T00:00:00Z",
            "--credentials-out", str(out),
        ]
    )  # fmt: skip
    assert rc == 0, text
    assert "by mail" in text and not out.exists()
    pid = text.splitlines()[0].rsplit("/", 1)[1]
    deadline = time.monotonic() + 30
    while True:
        rc, text = cli(["poll", "letters", "--server", server.base, pid, "--json"])
        assert rc == 0, text
        if json.loads(text)["counts"]["sent"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert json.loads(text)["counts"] == {"pending": 0, "sent": 2, "failed": 0, "cancelled": 0}
    rc, text = cli(["poll", "reissue", "--server", server.base, pid, "m2@example.org"])
    assert rc == 0 and "new credential" in text, text
    rc, text = cli(["poll", "letters", "--server", server.base, pid])
    assert rc == 0 and "m2@example.org" in text and "cancelled" in text, text
    rc, text = cli(["poll", "reissue", "--server", server.base, pid, "zz@example.org"])
    assert rc == 1 and "not a voter" in text, text
