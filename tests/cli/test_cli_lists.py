"""The command line on belenios-tool 3.0's Lists vector (tests/vectors/belenios3/lists.bel, an
Ed25519 election): ``admin init-archive`` on its setup, its public credentials given out of
order and with their logins, makes the vector's own Setup (the credentials sorted as the record
lists them) and an archive that verifies; ``trustee decrypt`` decrypts its Lists tally in the
record's shape, and the result follows."""

from __future__ import annotations

import io
import json
from pathlib import Path

import peer3
from cli_run import cli, ok
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive

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


def test_trustee_decrypt_decrypts_a_lists_tally(tmp_path):
    meta = json.loads(VECTOR.with_suffix(".json").read_text())
    archive = Archive.load(VECTOR)
    assert [ev["type"] for _, ev in archive.events()][-2:] == ["PartialDecryption", "Result"]
    end = next(i for i, ev in archive.events() if ev["type"] == "EncryptedTally")
    archive.entries = archive.entries[: end + 1]  # back to the encrypted tally
    path = archive.write(tmp_path / VECTOR.name)
    (key,) = meta["trustees"]
    (tmp_path / "trustee.privkey").write_text(json.dumps(key["privkey"]))
    pd = ok(["trustee", "decrypt", "--archive", str(path), "--privkey", "trustee.privkey"],
            cwd=tmp_path)  # fmt: skip
    factors = json.loads(pd.splitlines()[0])["decryption_factors"]
    assert [len(row) for row in factors[0]] == [3, 4]  # the Lists question, list by list
    ok(["admin", "add-event", "--archive", str(path), "--type", "PartialDecryption"],
       stdin=pd.encode())  # fmt: skip
    result = ok(["admin", "result", "--archive", str(path)])
    ok(["admin", "add-event", "--archive", str(path), "--type", "Result"], stdin=result.encode())
    report = verify_archive(lambda: io.BytesIO(path.read_bytes()))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.result == meta["result"]
