"""The Belenios 3.x threshold ceremony (certificates with a context, the dealers' certs_sig
signatures, signed verification keys) and the ceremony's private messages in AES-CCM (3.0)
and AES-GCM (3.3)."""

from __future__ import annotations

import json

import pytest

from plebiscite.crypto.channel import AES_GCM, decrypt, derive_keys, encrypt, generate_seed
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import ED25519
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import ConsistencyError, EncodingError, PlebisciteError, ProofError
from plebiscite.protocol import ceremony
from plebiscite.protocol.messages import parse_trustees

G = ED25519


def _ceremony(rng, n=3, t=2):
    secrets = [ceremony.make_certificate(G, rng, (z, t, n)) for z in range(1, n + 1)]
    certs = "".join(s.cert + "\n" for s in secrets)
    polys = "".join(ceremony.make_polynomial(G, certs, s.seed, t, rng) + "\n" for s in secrets)
    return secrets, certs, polys


def test_a_3x_ceremony_signs_everything_it_publishes():
    rng = DeterministicRandom("ceremony 3")
    secrets, certs, polys = _ceremony(rng)
    assert json.loads(json.loads(secrets[1].cert)["message"])["context"] == {
        "group": "Ed25519",
        "size": 3,
        "threshold": 2,
        "index": 2,
    }
    assert all("signature" in json.loads(line) for line in polys.splitlines())
    vinputs = dict(ceremony.make_vinputs(G, certs, polys))
    assert all("signatures" in json.loads(v) for v in vinputs.values())
    voutputs = "".join(
        ceremony.make_voutput(G, certs, s.seed, vinputs[s.id], rng) + "\n" for s in secrets
    )
    thr = ceremony.make_threshold_parameters(G, certs, polys, voutputs)
    params = json.loads(thr.parameters)
    assert list(params) == ["threshold", "certs", "coefexps", "signatures", "verification_keys"]
    assert all("signature" in vk for vk in params["verification_keys"])
    (item,) = parse_trustees(json.dumps([thr.pedersen_item()]).encode(), G)
    assert item.signatures is not None and len(item.signatures) == 3
    for s in secrets:
        ceremony.threshold_decryption_key(G, s.seed, dict(thr.dkeys)[s.id])


def test_a_dealer_signature_is_checked_when_routing():
    rng = DeterministicRandom("ceremony 3 bad")
    _, certs, polys = _ceremony(rng)
    lines = [json.loads(x) for x in polys.splitlines()]
    lines[0]["signature"], lines[1]["signature"] = lines[1]["signature"], lines[0]["signature"]
    bad = "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)
    with pytest.raises(ProofError):
        ceremony.make_vinputs(G, certs, bad)
    del lines[0]["signature"]
    with pytest.raises(EncodingError, match="signature"):
        ceremony.make_vinputs(G, certs, "".join(json.dumps(x) + "\n" for x in lines))


def test_contexts_must_agree_with_the_ceremony():
    rng = DeterministicRandom("contexts")
    a = ceremony.make_certificate(G, rng, (1, 2, 3))
    b = ceremony.make_certificate(G, rng, (2, 2, 3))
    plain = ceremony.make_certificate(G, rng)
    wrong_index = ceremony.make_certificate(G, rng, (3, 2, 3))
    with pytest.raises(ConsistencyError, match="some certificates have a context"):
        ceremony.check_certificates(G, a.cert + "\n" + plain.cert + "\n")
    with pytest.raises(ConsistencyError, match="index"):
        ceremony.check_certificates(G, a.cert + "\n" + wrong_index.cert + "\n")
    with pytest.raises(ConsistencyError, match="size"):
        ceremony.check_certificates(G, a.cert + "\n" + b.cert + "\n")  # size 3, two trustees
    c = ceremony.make_certificate(G, rng, (3, 2, 3))
    certs = "".join(x.cert + "\n" for x in (a, b, c))
    with pytest.raises(ConsistencyError, match="threshold"):
        ceremony.make_polynomial(G, certs, a.seed, 3, rng)


@pytest.mark.parametrize("algorithm", [None, AES_GCM])
def test_private_messages_in_both_algorithms(algorithm):
    rng = DeterministicRandom(f"channel {algorithm}")
    ctx = Context(G)
    keys = derive_keys(ctx, generate_seed(rng))
    text = encrypt(ctx, keys.ek, "a secret share", rng, algorithm=algorithm)
    o = json.loads(text)
    assert o.get("algorithm") == algorithm
    assert list(o)[-3:] == ["alpha", "beta", "data"]
    assert decrypt(ctx, keys.dk, text) == "a secret share"
    o["data"] = ("0" if o["data"][0] != "0" else "1") + o["data"][1:]
    with pytest.raises(ProofError, match="authentication failed"):
        decrypt(ctx, keys.dk, json.dumps(o))
    o["algorithm"] = "ROT13"
    with pytest.raises(PlebisciteError, match="unknown algorithm"):
        decrypt(ctx, keys.dk, json.dumps(o))
