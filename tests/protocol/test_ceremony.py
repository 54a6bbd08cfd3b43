"""The threshold key ceremony (sections 3.1.1 and 4.6): channels, every step, the checks that
stop it naming the trustee at fault (SECURITY-CASES 12), the command line, and live
interoperability with belenios-tool (``-m interop``)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gmpy2 import mpz

from plebiscite.cli.main import main
from plebiscite.crypto.channel import (
    check_seed,
    decrypt,
    derive_keys,
    dumps,
    encrypt,
    generate_seed,
    receive,
    send,
    sign,
    signed_json,
)
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import BELENIOS_2048, RFC_3526_2048
from plebiscite.crypto.hashing import h_json, sha256_hex
from plebiscite.crypto.proofs import prove_decryption, prove_pok
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.threshold import lagrange
from plebiscite.errors import ConsistencyError, EncodingError, MembershipError, ProofError
from plebiscite.protocol.ceremony import (
    check_certificates,
    make_certificate,
    make_polynomial,
    make_threshold_parameters,
    make_vinputs,
    make_voutput,
    threshold_decryption_key,
)
from plebiscite.protocol.messages import Pedersen, parse_trustees
from plebiscite.protocol.verifier import verify_archive

G = BELENIOS_2048
CTX = Context(G)

# A .dkey written by belenios-tool 2.0 (step 6) and the seed of its trustee: decrypting it
# checks the key derivation, the AES-CCM parameters, the signature and the recipient. The
# decryption key inside is not reduced modulo q (belenios-tool writes it so).
BELENIOS_SEED = "4ovDFNdtSTbYfidbvf4bAf"
BELENIOS_DECRYPTION_KEY = mpz(
    "208732296309453850056457927781893419412537757723533012130029146870841875302454"
)
BELENIOS_DKEY = (
    '{"alpha":"112783742291237789551788269660323887699244458376566143107420742105908203418783'
    "7232041681159426915442204272999348672373151075590721479945159461308451797188141854134377"
    "3806319231634890963971724209608435731753334913559196118119049578921262018799780425289843"
    "4422127245814617419203888254003159363427418820435751966010735074012370608217518081730587"
    "6175440373189229718328474039294935786147633968171526597674488568385711544218978076231232"
    "2557434649036965181655520215339627824695933014103079978426733314623467501563110194364335"
    "9847134569036050823553791253083108758289622888053141811718092712650170351996980206780466"
    '03348070198","beta":"7766860693374017175335771334861673317040539019709215359470316652551'
    "8842850989630829402596928701749252653192648964104642366319707268942723324579892159655010"
    "0644499332901675266134432504503268229748370145484390131452388857357105787960076083914081"
    "5525163485662943680469899736088967980039557557565317009813763289912257442730290850046497"
    "0498391222089036376790299593879557200287458402097163643357700259500330217211974222735913"
    "4281666803988753824903813148879097651845779980144246617643394509577829524076022669735828"
    "7537442204851366049547325206772727773062014286647280002551692919455496362212524630559523"
    '10064711974706348146","data":"1a91f96da81b438bc2531cfa6fe87472218ca341948ecf510eb0e0369a'
    "9aa4b0f0f66aa3d64df5e642a0b31b54a7674f7ec4dfb327f6546a5cb95ddaafd23d91ec66456cb040ecb399"
    "5bf5612ff0dbed47d40d167231e4931a2f18a1f61d65cb0125544483c07e8fc33dd71a747c97888cc64eb84b"
    "00892b009aec1efcf1eff770db2bd4a1d93852e2c2de2bcee4a69729e6e62de8e128421c8b319479a976adf0"
    "ff92b510e39c0d389a99e5e5907e81570b15bd0b11d3ebb72443b9c868fbb8f6375fe5706cffe83741b9e259"
    "7dbbd02c2cf37c1292addb97b61577b57370da59f3aa23f4c8e879a57419fbfa8dc54a56a595c98657d28ed8"
    "fd710d96dd88baca6a01163cd95ab3d62c68039eff2ce8c2ed1be7b4eb5fef501af34d2e5dc03277ce150cb5"
    "0d9fdfe6a91573ea18fd001c5cde65999d69ce965c7bd2b272e8ace08be67ef22a9880a64796f3795d54691a"
    "39fbbdee89625de91b128e4960893d8bf71fa9167b160780689834659d853420649fa69394f097d85ee91d5d"
    "1ec4acf87dbba20303ebfa7822b5f9c90ecf3d952c9c5730e905b38003562d65e6cc1a28e07fa1d262c1e8cb"
    "f1346599fdc024c3124e4a2f353bd695a49b6f6dd120f306c7907638d6a37840cf035e6454052e9bba787069"
    "e0fb043aace9b376625848611bd889075870b69b69f7ccd54f8b90addb9c0141498ab2f95153ea0f85367e76"
    "0818b83c145607dfc31ecf2d8c2f1b5bed3c93e1a856fa10196ab54c0d0bcbb779562fca5e3ee7e33d364ff9"
    "273b17728b0574b79cc81065012c8e14b849f4e5ac7bdd2a6812557bf86986247e9098d26db3ae6e5c7bc3d4"
    "1da82dcacecaed6735dff09a1f9a866ed0deb86fc2397cb2785afbe8629411ffbd39231cc16d28e3df790b5b"
    "2188f04fae91170e48fb845a8101df4c423df4c0192816daa033d9e78e2d294762896167fbc13c5b328210dd"
    "d094e5bdf9cf95caf7ab6d88ccb3bde46327d03270186b25f53c54d3beda0520bc8ec83a395ba736888d4cc2"
    "636aea33aa89b1fcbb47728d3de6cb42947f40d47a20f4a996ecf3602be925a3017fbda29d4f1f5c4218e9cf"
    "11c8b0f31371ec7705032b143d825ec7a89e6acd7fe78ccc6cb9666fa9d78c908f3308139fde582523ebf23d"
    "4537203368351cff1e9f6a59280be1c80922ee2db850f90adba5fc2515806e3a8169071b15a5a8a7723cdbed"
    "698cc54ce1c92b5ffe37a67dae8eac44a1155dae8be93684c2d15b8b2fb06a8af588df0b0890c9ad24fd1208"
    "6c7194e2014f17d6f6d40afbb6c102009d807c4095806cdcaf18c4711bc3bda0000c3e50aa93e90b03f74439"
    'acd4ac3f60210a38cb3247d61343d50bc7f587ccc5adcb3abfa80d9791"}'
)


def rng(label: str) -> DeterministicRandom:
    return DeterministicRandom(f"test_ceremony {label}")


# -- channels (4.6.1 to 4.6.3) ------------------------------------------------------------------


def test_seed_generation_and_check():
    seed = generate_seed(rng("seed"))
    assert len(seed) == 22
    assert check_seed(seed + "\n") == seed
    assert generate_seed(rng("seed")) == seed
    for bad in ("", seed[:-1], seed + "1", "0" + seed[1:], "I" + seed[1:], "l" + seed[1:]):
        with pytest.raises(EncodingError):
            check_seed(bad)


def test_belenios_dkey_known_answer():
    """A message belenios-tool sent on a channel opens with the derived keys and AES-CCM."""
    x = threshold_decryption_key(G, BELENIOS_SEED + "\n", BELENIOS_DKEY + "\n")
    assert x == BELENIOS_DECRYPTION_KEY % G.q
    other = generate_seed(rng("other"))
    with pytest.raises(ProofError, match="authentication failed"):
        threshold_decryption_key(G, other, BELENIOS_DKEY)
    tampered = BELENIOS_DKEY.replace('"data":"', '"data":"00', 1)
    with pytest.raises(ProofError):
        threshold_decryption_key(G, BELENIOS_SEED, tampered)
    with pytest.raises(ConsistencyError, match="verification key"):
        threshold_decryption_key(G, BELENIOS_SEED, BELENIOS_DKEY, verification_key=G.g)


@pytest.mark.parametrize("group", [BELENIOS_2048, RFC_3526_2048], ids=lambda g: g.name)
@pytest.mark.parametrize("size", [0, 5, 70_000])
def test_channel_round_trip(group, size):
    """Messages over 64 KiB use a 12-byte nonce (CCM length field of 3 bytes)."""
    ctx = Context(group)
    r = rng(f"channel {group.name} {size}")
    a = derive_keys(ctx, generate_seed(r))
    b = derive_keys(ctx, generate_seed(r))
    message = ("é" + "x" * size)[:size]
    text = send(ctx, a.sk, b.ek, message, r)
    assert set(json.loads(text)) == {"alpha", "beta", "data"}
    assert receive(ctx, b, a.vk, text) == message
    with pytest.raises(ProofError, match="signature"):
        receive(ctx, b, b.vk, text)  # not signed by b
    with pytest.raises(ProofError, match="authentication failed"):
        receive(ctx, a, a.vk, text)  # not encrypted for a
    assert decrypt(ctx, b.dk, encrypt(ctx, b.ek, message, r)) == message


def test_channel_checks_the_recipient():
    r = rng("recipient")
    a, b, c = (derive_keys(CTX, generate_seed(r)) for _ in range(3))
    # a signs a message addressed to c, but the server delivers it (re-encrypted) to b
    channel = dumps({"recipient": str(c.ek), "message": "share"})
    signed = dumps(signed_json(sign(CTX, a.sk, channel, r)))
    with pytest.raises(ConsistencyError, match="another recipient"):
        receive(CTX, b, a.vk, encrypt(CTX, b.ek, signed, r))


def test_encrypted_message_is_read_strictly():
    r = rng("strict")
    a = derive_keys(CTX, generate_seed(r))
    o = json.loads(encrypt(CTX, a.ek, "m", r))
    for bad in (
        {**o, "extra": "1"},
        {"alpha": o["alpha"], "beta": o["beta"]},
        {**o, "data": o["data"].upper()},
        {**o, "data": o["data"][:-1]},
        {**o, "alpha": "0"},
        {**o, "beta": str(G.p + 1)},
    ):
        with pytest.raises((EncodingError, MembershipError, ProofError)) as info:
            decrypt(CTX, a.dk, json.dumps(bad))
        assert not isinstance(info.value, ProofError) or "authentication" not in str(info.value)
    with pytest.raises(EncodingError, match="duplicate"):
        decrypt(CTX, a.dk, '{"alpha":"1","alpha":"1","beta":"1","data":""}')


# -- the ceremony, in memory ----------------------------------------------------------------------


@dataclass
class Run:
    seeds: list[str]
    ids: list[str]
    certs: str
    polynomials: str
    vinputs: list[str]
    voutputs: str
    parameters: str
    dkeys: list[tuple[str, str]]


def lines(values: Sequence[str]) -> str:
    return "".join(v + "\n" for v in values)


def ceremony(label: str, n: int = 3, threshold: int = 2, group=G) -> Run:
    r = rng(label)
    secrets = [make_certificate(group, r) for _ in range(n)]
    certs = lines([s.cert for s in secrets])
    assert len(check_certificates(group, certs)) == n
    polynomials = lines([make_polynomial(group, certs, s.seed, threshold, r) for s in secrets])
    vinputs = make_vinputs(group, certs, polynomials)
    assert [i for i, _ in vinputs] == [s.id for s in secrets]
    voutputs = lines(
        [make_voutput(group, certs, s.seed, v, r) for s, (_, v) in zip(secrets, vinputs)]
    )
    out = make_threshold_parameters(group, certs, polynomials, voutputs)
    return Run(
        seeds=[s.seed for s in secrets],
        ids=[s.id for s in secrets],
        certs=certs,
        polynomials=polynomials,
        vinputs=[v for _, v in vinputs],
        voutputs=voutputs,
        parameters=out.parameters,
        dkeys=list(out.dkeys),
    )


@pytest.fixture(scope="module")
def run() -> Run:
    return ceremony("2-of-3")


def test_round_trip_2_of_3(run):
    (item,) = parse_trustees(json.dumps([["Pedersen", json.loads(run.parameters)]]).encode(), G)
    assert isinstance(item, Pedersen)
    assert item.threshold == 2 and len(item.certs) == len(item.verification_keys) == 3
    assert list(json.loads(run.parameters)) == [
        "threshold",
        "certs",
        "coefexps",
        "verification_keys",
    ]
    assert [i for i, _ in run.dkeys] == run.ids
    keys = [
        threshold_decryption_key(G, seed, dkey, verification_key=vk.public_key)
        for seed, (_, dkey), vk in zip(run.seeds, run.dkeys, item.verification_keys)
    ]
    # the sub-key is the product of the constant commitments, and any 2 of the 3 decryption
    # keys recover its discrete logarithm
    y = mpz(1)
    for ce in item.coefexps:
        y = y * mpz(json.loads(ce.message)["coefexps"][0]) % G.p
    for subset in ([1, 2], [1, 3], [2, 3]):
        x = sum(lagrange(subset, j, G.q) * keys[j - 1] for j in subset) % G.q
        assert CTX.gpow(x) == y
    # each trustee's vinput carries the same commitments; the steps are reproducible
    assert len({json.dumps(json.loads(v)["coefexps"]) for v in run.vinputs}) == 1
    assert ceremony("2-of-3").parameters == run.parameters


@pytest.mark.parametrize(("n", "threshold"), [(1, 1), (2, 2), (4, 3)])
def test_other_sizes(n, threshold):
    group = RFC_3526_2048 if n == 2 else G
    r = ceremony(f"{threshold}-of-{n}", n, threshold, group)
    assert json.loads(r.parameters)["threshold"] == threshold


def test_threshold_must_be_between_1_and_the_number_of_trustees(run):
    for threshold in (0, 4):
        with pytest.raises(ConsistencyError, match="threshold"):
            make_polynomial(G, run.certs, run.seeds[0], threshold, rng("t"))


def test_seed_must_match_a_certificate(run):
    with pytest.raises(ConsistencyError, match="not among the certificates"):
        make_polynomial(G, run.certs, generate_seed(rng("stranger")), 2, rng("t"))


# -- tampering: each check stops the ceremony and names the trustee (SECURITY-CASES 12) ----------


def edit_line(text: str, index: int, fn: Callable[[Any], Any]) -> str:
    values = text.splitlines()
    values[index] = json.dumps(fn(json.loads(values[index])), separators=(",", ":"))
    return lines(values)


def test_tampered_certificate_is_rejected_naming_the_trustee(run):
    def fn(cert):
        cert["message"] = cert["message"].replace('"encryption"', ' "encryption"')
        return cert

    with pytest.raises(ProofError, match="trustee 2") as info:
        check_certificates(G, edit_line(run.certs, 1, fn))
    assert "signature does not verify" in str(info.value)
    first = run.certs.splitlines()[0]
    with pytest.raises(ConsistencyError, match="trustee 3"):
        check_certificates(G, lines([*run.certs.splitlines()[:2], first]))
    with pytest.raises(EncodingError, match="trustee 2"):
        check_certificates(G, edit_line(run.certs, 1, lambda c: {**c, "extra": 1}))


def test_tampered_commitments_are_rejected_naming_the_dealer(run):
    def fn(poly):
        sig = poly["coefexps"]["signature"]
        sig["response"] = str((int(sig["response"]) + 1) % G.q)
        return poly

    with pytest.raises(ProofError, match="trustee 2"):
        make_vinputs(G, run.certs, edit_line(run.polynomials, 1, fn))
    swapped = run.polynomials.splitlines()
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(ProofError, match="trustee 1"):
        make_vinputs(G, run.certs, lines(swapped))


def test_share_not_matching_the_commitments_stops_the_ceremony(run):
    """SECURITY-CASES 12: dealer 2 sends trustee 3 a share off its committed polynomial,
    correctly signed and encrypted: trustee 3's check at step 5 names trustee 2."""
    keys = [derive_keys(CTX, s) for s in run.seeds]

    def cheat(poly):
        honest = receive(CTX, keys[2], keys[1].vk, poly["secrets"][2])
        share = int(json.loads(honest)["secret"])
        forged = json.dumps({"secret": str((share + 1) % G.q)}, separators=(",", ":"))
        poly["secrets"][2] = send(CTX, keys[1].sk, keys[2].ek, forged, rng("cheat"))
        return poly

    polynomials = edit_line(run.polynomials, 1, cheat)
    vinputs = [v for _, v in make_vinputs(G, run.certs, polynomials)]  # the server cannot tell
    with pytest.raises(ConsistencyError, match="trustee 2") as info:
        make_voutput(G, run.certs, run.seeds[2], vinputs[2], rng("v"))
    assert "does not match the dealer's coefficient commitments" in str(info.value)
    make_voutput(G, run.certs, run.seeds[0], vinputs[0], rng("v"))  # trustee 1 got its share


def test_misrouted_shares_are_rejected_naming_the_dealer(run):
    vinput = json.loads(run.vinputs[2])
    mine = vinput["secrets"]
    other = json.loads(run.vinputs[0])["secrets"]
    # dealer 2's share for trustee 1, delivered to trustee 3: it cannot be decrypted
    vinput["secrets"] = [mine[0], other[1], mine[2]]
    with pytest.raises(ProofError, match="trustee 2") as info:
        make_voutput(G, run.certs, run.seeds[2], json.dumps(vinput), rng("v"))
    assert "authentication failed" in str(info.value)
    # dealer 1's share for trustee 3 presented as dealer 2's: the signature is not dealer 2's
    vinput["secrets"] = [mine[0], mine[0], mine[2]]
    with pytest.raises(ProofError, match="trustee 2") as info:
        make_voutput(G, run.certs, run.seeds[2], json.dumps(vinput), rng("v"))
    assert "signature does not verify" in str(info.value)
    # trustee 1's polynomial in trustee 3's vinput: trustee 3 cannot open it
    vinput = json.loads(run.vinputs[2])
    vinput["polynomial"] = json.loads(run.vinputs[0])["polynomial"]
    with pytest.raises(ProofError, match="trustee 3"):
        make_voutput(G, run.certs, run.seeds[2], json.dumps(vinput), rng("v"))


def test_different_thresholds_are_rejected_naming_the_trustee(run):
    odd = make_polynomial(G, run.certs, run.seeds[2], 3, rng("odd"))
    polynomials = lines([*run.polynomials.splitlines()[:2], odd])
    with pytest.raises(ConsistencyError, match="trustee 3") as info:
        make_vinputs(G, run.certs, polynomials)
    assert "same threshold" in str(info.value)
    with pytest.raises(ConsistencyError, match="2 polynomials for 3"):
        make_vinputs(G, run.certs, lines(run.polynomials.splitlines()[:2]))


def _other_key(vo):
    x = mpz(12345)
    vo["public_key"] = {
        "pok": {k: str(v) for k, v in prove_pok(CTX, x, mpz(678))._asdict().items()},
        "public_key": str(CTX.gpow(x)),
    }
    return vo


def _broken_pok(vo):
    pok = vo["public_key"]["pok"]
    pok["challenge"] = str((int(pok["challenge"]) + 1) % G.q)
    return vo


def _bad_private_key(vo):
    vo["private_key"] = "not an encrypted message"
    return vo


@pytest.mark.parametrize(
    ("fn", "error", "reason"),
    [
        (_other_key, ConsistencyError, "does not match the trustees' coefficient commitments"),
        (_broken_pok, ProofError, "proof of knowledge does not verify"),
        (_bad_private_key, EncodingError, "invalid JSON"),
    ],
    ids=["key", "pok", "private_key"],
)
def test_tampered_voutput_is_rejected_naming_the_trustee(run, fn, error, reason):
    with pytest.raises(error, match="trustee 2") as info:
        make_threshold_parameters(G, run.certs, run.polynomials, edit_line(run.voutputs, 1, fn))
    assert reason in str(info.value)


def test_voutputs_in_the_wrong_order_are_rejected(run):
    vs = run.voutputs.splitlines()
    with pytest.raises(ConsistencyError, match="trustee 1"):
        make_threshold_parameters(G, run.certs, run.polynomials, lines([vs[1], vs[0], vs[2]]))
    with pytest.raises(ConsistencyError, match="2 voutputs for 3"):
        make_threshold_parameters(G, run.certs, run.polynomials, lines(vs[:2]))


# -- the command line --------------------------------------------------------------------------


def cli(capsys, monkeypatch, directory: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.chdir(directory)
    rc = main(["trustee-threshold", "--group", G.name, *args])
    out, err = capsys.readouterr()
    return rc, out, err


def plebiscite_ceremony(capsys, monkeypatch, d: Path) -> list[str]:
    """Every step with the plebiscite command line, as demo-threshold.sh does; return the
    trustees' ids in order."""
    ids = []
    for _ in range(3):
        before = set(d.glob("*.cert"))
        assert cli(capsys, monkeypatch, d, "--step", "1")[0] == 0
        (new,) = set(d.glob("*.cert")) - before
        ids.append(new.stem)
    (d / "certs.jsons").write_text("".join((d / f"{i}.cert").read_text() for i in ids))
    c = ("--certs", "certs.jsons")
    assert cli(capsys, monkeypatch, d, *c, "--step", "2")[0] == 0
    polys = ""
    for i in ids:
        rc, out, _ = cli(
            capsys, monkeypatch, d, *c, "--key", f"{i}.key", "--step", "3", "--threshold", "2"
        )
        assert rc == 0
        polys += out
    (d / "polynomials.jsons").write_text(polys)
    assert (
        cli(capsys, monkeypatch, d, *c, "--step", "4", "--polynomials", "polynomials.jsons")[0] == 0
    )
    for i in ids:
        vinput = (d / f"{i}.vinput").read_text()
        rc, out, _ = cli(
            capsys, monkeypatch, d, *c, "--key", f"{i}.key", "--step", "5", stdin=vinput
        )
        assert rc == 0
        (d / f"{i}.voutput").write_text(out)
    voutputs = "".join((d / f"{i}.voutput").read_text() for i in ids)
    rc, out, _ = cli(
        capsys,
        monkeypatch,
        d,
        *c,
        "--step",
        "6",
        "--polynomials",
        "polynomials.jsons",
        stdin=voutputs,
    )
    assert rc == 0
    (d / "threshold.json").write_text(out)
    return ids


def test_cli_ceremony(tmp_path, capsys, monkeypatch):
    ids = plebiscite_ceremony(capsys, monkeypatch, tmp_path)
    for i in ids:
        assert (tmp_path / f"{i}.key").stat().st_mode & 0o777 == 0o400
        assert (tmp_path / f"{i}.dkey").stat().st_mode & 0o777 == 0o400
        assert (tmp_path / f"{i}.cert").stat().st_mode & 0o777 == 0o444
        assert (tmp_path / f"{i}.vinput").stat().st_mode & 0o777 == 0o444
        assert len((tmp_path / f"{i}.key").read_text()) == 23
    params = json.loads((tmp_path / "threshold.json").read_text())
    for j, i in enumerate(ids):
        vk = mpz(params["verification_keys"][j]["public_key"])
        x = threshold_decryption_key(
            G, (tmp_path / f"{i}.key").read_text(), (tmp_path / f"{i}.dkey").read_text()
        )
        assert CTX.gpow(x) == vk


def test_cli_errors(run, tmp_path, capsys, monkeypatch):
    (tmp_path / "certs.jsons").write_text(run.certs)
    rc, _, err = cli(capsys, monkeypatch, tmp_path, "--certs", "certs.jsons", "--step", "3")
    assert rc == 2 and "--key is mandatory" in err
    rc, _, err = cli(capsys, monkeypatch, tmp_path, "--step", "2")
    assert rc == 2 and "--certs is mandatory" in err
    rc, _, err = cli(capsys, monkeypatch, tmp_path, "--certs", "missing", "--step", "2")
    assert rc == 2 and "missing" in err
    bad = edit_line(run.certs, 1, lambda c: {**c, "message": c["message"] + " "})
    (tmp_path / "bad.jsons").write_text(bad)
    rc, _, err = cli(capsys, monkeypatch, tmp_path, "--certs", "bad.jsons", "--step", "2")
    assert rc == 1 and "trustee 2" in err
    with pytest.raises(SystemExit):
        cli(capsys, monkeypatch, tmp_path, "--step", "7")


# -- live interoperability with belenios-tool ----------------------------------------------------


def tool(exe: str, args: Sequence[str], cwd: Path, stdin: str | None = None) -> str:
    proc = subprocess.run(
        [exe, *args],
        cwd=cwd,
        env={**os.environ, "BELENIOS_USE_URANDOM": "1"},
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"belenios-tool {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def ttkeygen(exe: str, d: Path, *args: str, stdin: str | None = None) -> str:
    return tool(
        exe, ["setup", "generate-trustee-key-threshold", "--group", G.name, *args], d, stdin
    )


CERTS = ("--certs", "certs.jsons")
POLYS = ("--polynomials", "polynomials.jsons")


@pytest.mark.interop
def test_interop_plebiscite_ceremony_passes_belenios_checks(
    belenios_tool, tmp_path, capsys, monkeypatch
):
    """(a) plebiscite plays every role; belenios-tool's own steps accept every message and
    compute the same vinputs, threshold parameters and encrypted decryption keys."""
    d = tmp_path
    ids = plebiscite_ceremony(capsys, monkeypatch, d)
    b = d / "belenios"
    b.mkdir()
    for f in ("certs.jsons", "polynomials.jsons"):
        (b / f).write_text((d / f).read_text())
    ttkeygen(belenios_tool, b, *CERTS, "--step", "2")
    ttkeygen(belenios_tool, b, *CERTS, "--step", "4", *POLYS)
    for i in ids:
        assert (b / f"{i}.vinput").read_text() == (d / f"{i}.vinput").read_text()
        # belenios-tool, as trustee i with plebiscite's seed, accepts its vinput
        ttkeygen(
            belenios_tool,
            d,
            *CERTS,
            "--key",
            f"{i}.key",
            "--step",
            "5",
            stdin=(d / f"{i}.vinput").read_text(),
        )
    voutputs = "".join((d / f"{i}.voutput").read_text() for i in ids)
    threshold = ttkeygen(belenios_tool, b, *CERTS, "--step", "6", *POLYS, stdin=voutputs)
    assert threshold == (d / "threshold.json").read_text()
    for i in ids:
        assert (b / f"{i}.dkey").read_text() == (d / f"{i}.dkey").read_text()
    # make-trustees takes the threshold parameters (with a Single server key)
    tool(belenios_tool, ["setup", "generate-trustee-key", "--group", G.name], b)
    (b / "public_keys.jsons").write_text("".join(p.read_text() for p in b.glob("*.pubkey")))
    (b / "threshold.json").write_text(threshold)
    tool(belenios_tool, ["setup", "make-trustees"], b)
    trustees = json.loads((b / "trustees.json").read_text())
    assert [k for k, _ in trustees] == ["Single", "Pedersen"]
    assert trustees[1][1] == json.loads(threshold)
    parse_trustees((b / "trustees.json").read_bytes(), G)


@dataclass
class Mixed:
    directory: Path
    exe: str
    ids: list[str]  # trustees 1 and 3: plebiscite, trustee 2: belenios-tool
    seeds: list[str]
    threshold: str


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Mixed:
    """(b) trustees 1 and 3 are plebiscite, trustee 2 is belenios-tool; the server steps are
    run by both tools, which must agree byte for byte."""
    exe = shutil.which("belenios-tool")
    if exe is None:
        pytest.skip("belenios-tool is not installed (./dev test installs it)")
    d = tmp_path_factory.mktemp("mixed")
    r = rng("mixed")
    p1, p3 = make_certificate(G, r), make_certificate(G, r)
    ttkeygen(exe, d, "--step", "1")
    (b2,) = [p.stem for p in d.glob("*.cert")]
    for s in (p1, p3):
        (d / f"{s.id}.key").write_text(s.seed + "\n")
        (d / f"{s.id}.cert").write_text(s.cert + "\n")
    ids = [p1.id, b2, p3.id]
    seeds = [p1.seed, check_seed((d / f"{b2}.key").read_text()), p3.seed]
    certs = "".join((d / f"{i}.cert").read_text() for i in ids)
    (d / "certs.jsons").write_text(certs)
    # step 2: both servers
    ttkeygen(exe, d, *CERTS, "--step", "2")
    check_certificates(G, certs)
    # step 3: each trustee
    polys = [
        make_polynomial(G, certs, seeds[0], 2, r) + "\n",
        ttkeygen(exe, d, *CERTS, "--key", f"{b2}.key", "--step", "3", "--threshold", "2"),
        make_polynomial(G, certs, seeds[2], 2, r) + "\n",
    ]
    (d / "polynomials.jsons").write_text("".join(polys))
    # step 4: belenios-tool writes the vinputs; plebiscite computes the same
    ttkeygen(exe, d, *CERTS, "--step", "4", *POLYS)
    for i, v in make_vinputs(G, certs, "".join(polys)):
        assert (d / f"{i}.vinput").read_text() == v + "\n"
    # step 5: each trustee
    vouts = [
        make_voutput(G, certs, seeds[0], (d / f"{ids[0]}.vinput").read_text(), r) + "\n",
        ttkeygen(
            exe,
            d,
            *CERTS,
            "--key",
            f"{b2}.key",
            "--step",
            "5",
            stdin=(d / f"{b2}.vinput").read_text(),
        ),
        make_voutput(G, certs, seeds[2], (d / f"{ids[2]}.vinput").read_text(), r) + "\n",
    ]
    # step 6: plebiscite writes threshold.json and the dkeys; belenios-tool agrees
    out = make_threshold_parameters(G, certs, "".join(polys), "".join(vouts))
    for i, dkey in out.dkeys:
        (d / f"{i}.dkey").write_text(dkey + "\n")
    (d / "threshold.json").write_text(out.parameters + "\n")
    b = d / "belenios-step6"
    b.mkdir()
    for f in ("certs.jsons", "polynomials.jsons"):
        (b / f).write_text((d / f).read_text())
    assert ttkeygen(exe, b, *CERTS, "--step", "6", *POLYS, stdin="".join(vouts)) == (
        out.parameters + "\n"
    )
    for i, dkey in out.dkeys:
        assert (b / f"{i}.dkey").read_text() == dkey + "\n"
    return Mixed(d, exe, ids, seeds, out.parameters)


@pytest.mark.interop
def test_interop_mixed_ceremony(mixed):
    """(b) the mixed ceremony succeeded (see the fixture); every trustee's key is usable."""
    params = json.loads(mixed.threshold)
    for j, (i, seed) in enumerate(zip(mixed.ids, mixed.seeds)):
        vk = mpz(params["verification_keys"][j]["public_key"])
        threshold_decryption_key(
            G, seed, (mixed.directory / f"{i}.dkey").read_text(), verification_key=vk
        )


@pytest.mark.interop
def test_interop_decrypts_belenios_channel_messages(mixed):
    """(c) plebiscite opens what belenios-tool (trustee 2) sent on the channels: its own
    polynomial, its shares for every trustee, its encrypted decryption key (written by
    belenios-tool's step 6 as well as by plebiscite's), and a polynomial over 64 KiB."""
    d = mixed.directory
    keys = [derive_keys(CTX, s) for s in mixed.seeds]
    b2 = json.loads((d / "polynomials.jsons").read_text().splitlines()[1])
    coefficients = json.loads(receive(CTX, keys[1], keys[1].vk, b2["polynomial"]))["polynomial"]
    commitments = json.loads(b2["coefexps"]["message"])["coefexps"]
    assert [str(CTX.gpow(mpz(a) % G.q)) for a in coefficients] == commitments
    for j, k in enumerate(keys):
        share = json.loads(receive(CTX, k, keys[1].vk, b2["secrets"][j]))["secret"]
        f = sum(mpz(a) * (j + 1) ** n for n, a in enumerate(coefficients)) % G.q
        assert mpz(share) % G.q == f
    x = threshold_decryption_key(
        G, mixed.seeds[1], (d / "belenios-step6" / f"{mixed.ids[1]}.dkey").read_text()
    )
    assert x == threshold_decryption_key(
        G, mixed.seeds[1], (d / f"{mixed.ids[1]}.dkey").read_text()
    )
    big = json.loads(
        ttkeygen(
            mixed.exe,
            d,
            *CERTS,
            "--key",
            f"{mixed.ids[1]}.key",
            "--step",
            "3",
            "--threshold",
            "1000",
        )
    )
    raw = receive(CTX, keys[1], keys[1].vk, big["polynomial"])
    assert len(raw) > 1 << 16 and len(json.loads(raw)["polynomial"]) == 1000


def _partial_decryption(fingerprint: str, x: mpz, tally: list[list[dict[str, str]]]) -> str:
    r = rng("partial decryption")
    factors, proofs = [], []
    for question in tally:
        fs, ps = [], []
        for ct in question:
            factor, proof = prove_decryption(CTX, fingerprint, x, mpz(ct["alpha"]), r.below(G.q))
            fs.append(str(factor))
            ps.append({"challenge": str(proof.challenge), "response": str(proof.response)})
        factors.append(fs)
        proofs.append(ps)
    return dumps({"decryption_factors": factors, "decryption_proofs": proofs})


@pytest.mark.interop
def test_interop_election_with_the_mixed_threshold_key(mixed, tmp_path):
    """(d) an election under the mixed threshold key (plus the server's Single key): the
    plebiscite trustee 1 decrypts with threshold_decryption_key, belenios-tool's trustee 2
    with its own tool; belenios-tool and the plebiscite verifier both accept the archive."""
    import peer

    exe, d = mixed.exe, tmp_path
    (d / "threshold.json").write_text(mixed.threshold + "\n")
    tool(exe, ["setup", "generate-trustee-key", "--group", G.name], d)
    (server,) = [p.stem for p in d.glob("*.pubkey")]
    (d / "public_keys.jsons").write_text((d / f"{server}.pubkey").read_text())
    tool(exe, ["setup", "make-trustees"], d)
    uuid = tool(exe, ["setup", "generate-token"], d).strip()
    (d / "voters.txt").write_text("voter@example.com\n")
    tool(
        exe,
        [
            "setup",
            "generate-credentials",
            "--uuid",
            uuid,
            "--group",
            G.name,
            "--file",
            "voters.txt",
        ],
        d,
    )
    (priv,) = d.glob("*.privcreds")
    (pub,) = d.glob("*.pubcreds")
    pub.rename(d / "public_creds.json")
    template = {
        "description": "threshold interop",
        "name": "ceremony",
        "questions": [{"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Agree?"}],
        "administrator": "A",
        "credential_authority": "C",
    }
    (d / "template.json").write_text(json.dumps(template))
    tool(
        exe,
        [
            "setup",
            "make-election",
            "--uuid",
            uuid,
            "--group",
            G.name,
            "--template",
            "template.json",
        ],
        d,
    )
    tool(exe, ["archive", "init"], d)
    for f in ("election.json", "trustees.json", "public_creds.json", "threshold.json"):
        (d / f).unlink()
    (d / "cred").write_text(priv.read_text().split()[-1] + "\n")
    (d / "choice.json").write_text("[[1,0]]\n")
    ballot = tool(
        exe, ["election", "generate-ballot", "--privcred", "cred", "--ballot", "choice.json"], d
    )
    tool(exe, ["archive", "add-event", "--type=Ballot"], d, ballot)
    tool(exe, ["archive", "add-event", "--type=EndBallots"], d)
    tally = tool(exe, ["election", "compute-encrypted-tally"], d)
    tool(exe, ["archive", "add-event", "--type=EncryptedTally"], d, tally)

    archive = d / f"{uuid}.bel"
    events, data = peer.archive_events(archive)
    setup = json.loads(data[events[0]["payload"]])
    fingerprint = h_json(data[setup["election"]])
    et = json.loads(data[events[-1]["payload"]])
    encrypted_tally = json.loads(data[et["encrypted_tally"]])
    # trustee ids: the Single key is 1, the Pedersen trustees 2, 3, 4
    vks = json.loads(mixed.threshold)["verification_keys"]
    x1 = threshold_decryption_key(
        G,
        mixed.seeds[0],
        (mixed.directory / f"{mixed.ids[0]}.dkey").read_text(),
        verification_key=mpz(vks[0]["public_key"]),
    )
    pd = _partial_decryption(fingerprint, x1, encrypted_tally)
    owned = dumps({"owner": 2, "payload": sha256_hex(pd.encode())})
    tool(exe, ["archive", "add-event", "--type=PartialDecryption"], d, f"{pd}\n{owned}\n")
    k2 = mixed.directory / mixed.ids[1]
    pd2 = tool(
        exe,
        [
            "election",
            "decrypt-threshold",
            "--key",
            f"{k2}.key",
            "--decryption-key",
            f"{k2}.dkey",
            "--trustee-id",
            "3",
        ],
        d,
    )
    tool(exe, ["archive", "add-event", "--type=PartialDecryption"], d, pd2)
    pd0 = tool(
        exe, ["election", "decrypt", "--privkey", f"{server}.privkey", "--trustee-id", "1"], d
    )
    tool(exe, ["archive", "add-event", "--type=PartialDecryption"], d, pd0)
    result = tool(exe, ["election", "compute-result"], d)
    tool(exe, ["archive", "add-event", "--type=Result"], d, result)
    tool(exe, ["election", "verify"], d)

    report = verify_archive(lambda: archive.open("rb"))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.result == [[1, 0]]
