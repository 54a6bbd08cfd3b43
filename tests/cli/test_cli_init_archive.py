"""``plebiscite admin init-archive`` on an Ed25519 election: the setup of belenios-tool 3.0's
Lists vector (tests/vectors/belenios3/lists.bel), its public credentials given out of order and
with their logins, makes the vector's own Setup (the credentials sorted as the record lists
them) and an archive that verifies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import peer3
from cli_run import cli, ok
from plebiscite.protocol.verifier import verify_archive

VECTOR = Path(__file__).resolve().parents[1] / "vectors" / "belenios3" / "lists.bel"


def _setup(d: Path) -> bytes:
    events, data = peer3.archive_events(VECTOR)
    setup = json.loads(data[next(e for e in events if e["type"] == "Setup")["payload"]])
    (d / "election.json").write_bytes(data[setup["election"]])
    (d / "trustees.json").write_bytes(data[setup["trustees"]])
    return data[setup["credentials"]]


def test_init_archive_reads_ed25519_credentials(tmp_path):
    creds = _setup(tmp_path)
    given = [f"{c},,voter{i}" for i, c in enumerate(reversed(json.loads(creds)))]
    (tmp_path / "public_creds.json").write_text(json.dumps(given))
    path = tmp_path / ok(["admin", "init-archive"], cwd=tmp_path).splitlines()[0]
    events, data = peer3.archive_events(path)
    (setup,) = events
    assert data[json.loads(data[setup["payload"]])["credentials"]] == creds
    report = verify_archive(lambda: io.BytesIO(path.read_bytes()))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.record == "3.x"


def test_init_archive_names_a_credential_outside_the_group(tmp_path):
    creds = json.loads(_setup(tmp_path))
    creds[2] = str(int(creds[2], 16))  # a decimal number: the form of the finite fields
    (tmp_path / "public_creds.json").write_text(json.dumps(creds))
    rc, out = cli(["admin", "init-archive"], cwd=tmp_path)
    assert rc != 0
    assert "public_creds.json[2]" in out and "Ed25519" in out, out
    assert not list(tmp_path.glob("*.bel"))
