"""The ``plebiscite`` command: exit status, reports, --since, --json, malformed input."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from conftest import peer_vector
from plebiscite.cli.main import build_parser, main
from tamper import Archive

PLEBISCITE = [sys.executable, "-m", "plebiscite.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PLEBISCITE, *args], capture_output=True, text=True, timeout=120)


def test_verify_valid_archive_prints_the_result():
    archive, _ = peer_vector("single")
    p = run("verify", "--jobs", "2", str(archive))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "VALID" in p.stdout
    assert "Do you agree?" in p.stdout
    assert "Traceback" not in p.stderr


def test_verify_open_election():
    archive, meta = peer_vector("open")
    p = run("verify", str(archive))
    assert p.returncode == 0
    assert f"open, {meta['ballots']} ballots so far" in p.stdout


def test_verify_json(capsys):
    archive, meta = peer_vector("threshold")
    assert main(["verify", "--json", "--jobs", "1", str(archive)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert report["uuid"] == meta["uuid"]
    assert report["result"] == meta["result"]


def test_invalid_archive_exit_1_names_event_and_tracker(tmp_path, capsys):
    archive, _ = peer_vector("single")
    a = Archive.load(archive)
    i = a.payload_index("Ballot", 2)
    b = a.data(i)
    b["signature"]["proof"]["response"] = "1"
    a.replace_content(i, json.dumps(b, separators=(",", ":")).encode())
    bad = a.write(tmp_path / "bad.bel")
    assert main(["verify", "--json", "--jobs", "1", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    finding = report["findings"][0]  # the tally then differs too: it counts that ballot
    assert finding["check"] == "ballot"
    assert finding["height"] == 3
    assert finding["tracker"]
    assert finding["event"]


def test_since_accepts_an_extension_and_names_a_removed_event(tmp_path):
    archive, _ = peer_vector("single")
    a = Archive.load(archive)
    evs = a.events()
    # an earlier copy: everything up to the third ballot
    cut = evs[3][0] + 1
    earlier = Archive(a.copy().entries[:cut]).write(tmp_path / "earlier.bel")
    assert run("verify", str(archive), "--since", str(earlier)).returncode == 0
    b = a.copy().remove_event(2).write(tmp_path / "rewritten.bel")
    p = run("verify", str(b), "--since", str(earlier))
    assert p.returncode == 1
    assert "event 2" in p.stdout and "of the earlier copy" in p.stdout


@pytest.mark.parametrize(
    "content",
    [b"", b"not a tar archive at all", b"\0" * 1024, b"BELENIOS" + b"\0" * 600],
    ids=["empty", "garbage", "zeros", "truncated"],
)
def test_malformed_input_is_a_clear_error_never_a_traceback(tmp_path, content):
    f = tmp_path / "x.bel"
    f.write_bytes(content)
    p = run("verify", str(f))
    assert p.returncode == 1
    assert "Traceback" not in p.stderr + p.stdout
    assert "ERROR: [archive]" in p.stdout


def test_truncated_real_archive(tmp_path):
    archive, _ = peer_vector("single")
    data = archive.read_bytes()
    f = tmp_path / "t.bel"
    f.write_bytes(data[: len(data) // 2 + 100])
    p = run("verify", str(f))
    assert p.returncode == 1
    assert "truncated" in p.stdout


def test_missing_file_exit_2(tmp_path):
    p = run("verify", str(tmp_path / "nope.bel"))
    assert p.returncode == 2
    assert "no such file" in p.stderr


def _walk(parser, path):
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            assert all(c.help for c in action._choices_actions), path
            for name, sp in action.choices.items():
                assert sp.description, f"{path} {name}: no description"
                yield from _walk(sp, f"{path} {name}")
        elif action.dest != "help":
            yield path, action


def test_every_command_and_option_has_help():
    """A command or option without help text fails here (the CLI documents itself)."""
    actions = list(_walk(build_parser(), "plebiscite"))
    assert len(actions) > 20
    for path, action in actions:
        assert action.help, f"{path} {action.dest}: no help text"


def test_progress_is_not_printed_when_not_a_terminal():
    archive, _ = peer_vector("single")
    p = run("verify", str(archive))
    assert "\r" not in p.stderr


def test_streams_do_not_matter():
    from plebiscite.protocol.verifier import verify_archive

    data = peer_vector("single")[0].read_bytes()
    assert verify_archive(lambda: io.BytesIO(data)).valid


@pytest.mark.parametrize(
    ("uuid", "reason"),
    [
        ("0bcdefghijkmnop", "'0' at position 1 is not a Base58 character"),
        ("abcdefghijkmnoI", "'I' at position 15"),
        ("abc", "3 characters, expected 14 to 64"),
        ("a" * 65, "65 characters"),
    ],
)
def test_credentials_refuse_a_uuid_the_election_would_refuse(tmp_path, uuid, reason):
    for command in (
        ("credentials", "generate", "--count", "2", "--dir", str(tmp_path)),
        ("credentials", "derive", "--credential", "x"),
    ):
        p = run(*command, "--uuid", uuid)
        assert p.returncode == 2, p.stdout + p.stderr
        assert "--uuid: not an election uuid" in p.stderr
        assert reason in p.stderr
        assert "Traceback" not in p.stderr
    assert list(tmp_path.iterdir()) == []  # no credential file written
