"""A referendum in the Ed25519 group through every party against a real ``plebiscite serve``:
the server's threshold ceremony is a Belenios 3.x one (certificates with their context, signed
commitments and keys), the credentials are of the 3.x form, and each region's archive passes
plebiscite's verifier and belenios-tool 3.0's ``election verify``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from cli_run import cli
from plebiscite.cli.demo_server import demo_record, play_referendum
from plebiscite.client import Administrator, Observer, Trustee, Voter, connect
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.verifier import verify_archive

from .conftest import TOKEN

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))
import peer3  # noqa: E402

YES, NO = [1, 0, 0], [0, 1, 0]  # the first demo question (blank allowed)
A, B = [1, 0, 0], [0, 1, 0]


def test_an_ed25519_referendum_makes_belenios_3_records(served, tmp_path):
    rng = DeterministicRandom("client ed25519 referendum")
    http = connect(served.url)
    admin = Administrator(http, TOKEN)
    observer = Observer(served.url)
    names = ["North", "South"]
    roll = {"North": ["n1", "n2"], "South": ["s1", "s2", "s3"]}
    created = admin.create(demo_record("ed-ref", names), roll, group="Ed25519")
    rid = created["id"]
    assert observer.status(rid)["group"] == "Ed25519"
    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for t in trustees:
        t.send_certificate()
        message = json.loads(json.loads(t.secret.cert)["message"])
        assert message["context"]["index"] == t.index
    for t in trustees:
        t.send_polynomial()
    for t in trustees:
        cer = t.send_voutput()
    assert cer["phase"] == "done"
    opened = admin.open(rid)
    private = {
        reg["name"]: {c["login"]: c["credential"] for c in reg["credentials"]}
        for reg in opened["regions"]
    }
    assert all(len(c.replace("-", "")) == 22 for p in private.values() for c in p.values())
    voters = [Voter(http, rid, n, cred, rng) for n in names for cred in private[n].values()]
    for k, v in enumerate(voters):
        v.vote([YES if k % 2 == 0 else NO, A if k % 3 else B])
    voters[0].vote([NO, B])  # a revote
    admin.close(rid)
    for name in names:
        for t in trustees[:2]:
            t.decrypt(name)
    final = observer.status(rid)
    assert final["phase"] == "done" and final["outcome"] is not None

    tool = peer3.belenios3_tool()
    for name in names:
        uuid = observer.region_uuid(rid, name)
        d = tmp_path / name
        d.mkdir()
        path = observer.download_archive(uuid, d)
        data = path.read_bytes()
        report = verify_archive(lambda data=data: io.BytesIO(data))
        assert report.valid, [f.describe() for f in report.findings]
        assert report.record == "3.x"
        assert "threshold certificates with a context and signatures" in report.record_features
        if tool is None:
            pytest.skip("belenios-tool 3.0 is not installed (./dev test installs it)")
        proc = peer3.belenios3_verify(d)
        assert proc.returncode == 0 and "all checks passed" in proc.stderr, proc.stderr[-1500:]
    observer.disconnect()
    http.close()


def test_referendum_verify_by_the_servers_address(served):
    """``plebiscite referendum verify URL/api/referendums/RID`` downloads the record board and
    every region's archive as an observer does, checks the board is signed by the key the
    server publishes, and recomputes the outcome."""
    http = connect(served.url)
    final = play_referendum(
        http, TOKEN, voters=3, regions=2, rng=DeterministicRandom("by address"), log=lambda _: None
    )
    http.close()
    url = f"{served.url}/api/referendums/{final['id']}"
    rc, out = cli(["referendum", "verify", url, "--jobs", "1", "--json"])
    assert rc == 0, out
    report = json.loads(out)
    assert report["valid"] and report["outcome"] == final["outcome"] == report["published"]
    assert len(report["archives"]) == 2
    # another key required than the server's: refused
    other = SigningKey.from_seed(b"\x09" * 32).public().to_base64()
    rc, out = cli(["referendum", "verify", url, "--jobs", "1", "--key", other])
    assert rc == 1 and "not by the key given" in out
    rc, out = cli(["referendum", "verify", f"{served.url}/api/referendums/nothing-here"])
    assert rc == 2 and "no referendum" in out
