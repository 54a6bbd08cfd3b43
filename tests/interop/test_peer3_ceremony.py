"""Mixed Belenios 3.x threshold ceremonies: trustees 1 and 3 run belenios-tool 3.0, trustee 2
runs plebiscite, and the server's steps (2, 4, 6) are run by either tool; the threshold
parameters are then checked by plebiscite, and every trustee's decryption key, the ones in
belenios-tool's .dkey files included, is recovered by plebiscite against its verification
key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import peer3  # noqa: E402
from plebiscite.crypto.groups import ED25519  # noqa: E402
from plebiscite.protocol import ceremony  # noqa: E402
from plebiscite.protocol.messages import parse_trustees  # noqa: E402

pytestmark = pytest.mark.interop
PLEBISCITE = Path(sys.executable).with_name("plebiscite")
K, N = 2, 3


def _peer(args: list[str], d: Path, stdin: str | None = None) -> str:
    proc = peer3._run(
        ["setup", "generate-trustee-key-threshold", "--group", "Ed25519", *args], d, stdin
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    return proc.stdout


def _ours(args: list[str], d: Path, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [str(PLEBISCITE), "trustee-threshold", "--group", "Ed25519", *args],
        cwd=d,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    return proc.stdout


@pytest.fixture(scope="module")
def tool() -> str:
    path = peer3.belenios3_tool()
    if path is None:
        pytest.skip("belenios-tool 3.0 is not installed (./dev test installs it)")
    return path


@pytest.mark.parametrize("server", ["plebiscite", "belenios-tool"])
def test_mixed_ceremony(tool, tmp_path, server):
    d = tmp_path
    run_server = _ours if server == "plebiscite" else _peer
    who = {1: _peer, 2: _ours, 3: _peer}
    ids = []
    for i in range(1, N + 1):  # step 1
        before = {p.name for p in d.glob("*.cert")}
        who[i](["--threshold-context", f"{i}/{K}/{N}", "--step", "1"], d)
        (new,) = {p.name for p in d.glob("*.cert")} - before
        ids.append(new.removesuffix(".cert"))
    (d / "certs.jsons").write_text("".join((d / f"{k}.cert").read_text() for k in ids))
    certs = ["--certs", "certs.jsons"]
    run_server([*certs, "--step", "2"], d)
    polys = [
        who[i](
            ["--threshold-context", f"{i}/{K}/{N}", *certs, "--key", f"{k}.key", "--step", "3"],
            d,
        )
        for i, k in enumerate(ids, start=1)
    ]
    (d / "polynomials.jsons").write_text(
        "".join(p if p.endswith("\n") else p + "\n" for p in polys)
    )
    run_server([*certs, "--polynomials", "polynomials.jsons", "--step", "4"], d)
    voutputs = [
        who[i]([*certs, "--key", f"{k}.key", "--step", "5"], d, (d / f"{k}.vinput").read_text())
        for i, k in enumerate(ids, start=1)
    ]
    text = "".join(v if v.endswith("\n") else v + "\n" for v in voutputs)
    params = run_server([*certs, "--polynomials", "polynomials.jsons", "--step", "6"], d, text)
    value = json.loads(params)
    assert "signatures" in value and all("signature" in vk for vk in value["verification_keys"])
    (item,) = parse_trustees(json.dumps([["Pedersen", value]]).encode(), ED25519)
    # every trustee's decryption key, from its seed and its .dkey, matches its public key
    for k, vk in zip(ids, item.verification_keys, strict=True):
        seed = (d / f"{k}.key").read_text()
        dkey = (d / f"{k}.dkey").read_text()
        ceremony.threshold_decryption_key(ED25519, seed, dkey, verification_key=vk.public_key)
