"""The trustee's cryptography in the browser (static/js/trustee/) against the Python side.

- AES-CCM built from WebCrypto's AES-CTR and AES-CBC equals ``cryptography``'s AESCCM (the one
  crypto/channel.py uses) for every message length class, and rejects altered messages;
- known answer: from the same seed, the certificate, the polynomial (with its channel
  messages), the voutput and the partial decryption made in the browser are byte for byte
  those of protocol/ceremony.py and protocol/tally.py, for both groups (and the partial
  decryption of a tally with a Lists question, nested as the board's, in Ed25519);
- what the browser receives from Python (channel messages, a .dkey) it opens, and what it
  refuses (a share that does not match its dealer's commitments, another trustee's key, a
  wrong verification key) it refuses with the reason;
- a ceremony made in the browser with its own randomness passes the server's steps 4 and 6.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from gmpy2 import mpz

from plebiscite.crypto import channel
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import BELENIOS_2048, ED25519, RFC_3526_2048, Group
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol import ceremony
from plebiscite.protocol.questions import QuestionH, QuestionL
from plebiscite.protocol.tally import encrypted_tally_json, partial_decryption_json

pytestmark = pytest.mark.browser

GROUPS = [BELENIOS_2048, RFC_3526_2048]
VECTORS = Path(__file__).resolve().parents[1] / "vectors"

_PRELUDE = """async (args) => {
  const core = await import("/static/js/trustee/core.js");
  const ccm = await import("/static/js/trustee/ccm.js");
  const channel = await import("/static/js/trustee/channel.js");
  const ceremony = await import("/static/js/trustee/ceremony.js");
  const groups = await import("/static/js/belenios/groups.js");
  const proofs = await import("/static/js/belenios/proofs.js");
  const random = await import("/static/js/belenios/random.js");
"""


@pytest.fixture
def tjs(page: Any, static_site: str) -> Any:
    """``tjs(body, *args)``: an async function body run on the static site, with the trustee
    modules imported (``core``, ``ccm``, ``channel``, ``ceremony``, ``groups``, ...)."""

    def run(body: str, *args: Any) -> Any:
        return page.evaluate(_PRELUDE + body + "\n}", list(args))

    return run


# -- AES-CCM --------------------------------------------------------------------------------------

#: message lengths: empty, within a block, block boundaries, and each size of the length field
LENGTHS = [0, 1, 15, 16, 17, 31, 32, 33, 100, 255, 256, 4097, 65535, 65536, 70001]

CCM_ENCRYPT = """
  const out = [];
  for (const [key, nonce, msg] of args[0]) {
    const c = await ccm.ccmEncrypt(ccm.fromHex(key), ccm.fromHex(nonce), ccm.fromHex(msg));
    out.push(ccm.toHex(c));
  }
  return out;
"""

CCM_DECRYPT = """
  const out = [];
  for (const [key, nonce, data] of args[0]) {
    try {
      const m = await ccm.ccmDecrypt(ccm.fromHex(key), ccm.fromHex(nonce), ccm.fromHex(data));
      out.push(ccm.toHex(m));
    } catch (e) {
      out.push(`error ${e.code}: ${e.message}`);
    }
  }
  return out;
"""


def _ccm_cases() -> list[tuple[bytes, bytes, bytes]]:
    cases = []
    for n in LENGTHS:
        L = channel._length_bytes(n)
        cases.append((os.urandom(32), os.urandom(15 - L), os.urandom(n)))
    # other nonce and key lengths than the channel's: CCM in general
    for nonce_len, key_len in ((7, 16), (10, 16), (11, 32), (12, 16), (13, 32)):
        cases.append((os.urandom(key_len), os.urandom(nonce_len), os.urandom(300)))
    return cases


def test_ccm_equals_pythons_aesccm(tjs):
    cases = _ccm_cases()
    expected = [AESCCM(k, tag_length=8).encrypt(nonce, m, None).hex() for k, nonce, m in cases]
    got = tjs(CCM_ENCRYPT, [[k.hex(), nonce.hex(), m.hex()] for k, nonce, m in cases])
    assert got == expected
    # and the browser opens what Python sealed
    opened = tjs(
        CCM_DECRYPT, [[k.hex(), n.hex(), c] for (k, n, _), c in zip(cases, expected, strict=True)]
    )
    assert opened == [m.hex() for _, _, m in cases]


def test_ccm_refuses_altered_messages(tjs):
    key, nonce, msg = os.urandom(32), os.urandom(13), b"the share of trustee 2"
    data = bytearray(AESCCM(key, tag_length=8).encrypt(nonce, msg, None))
    altered = []
    for i in (0, len(msg) - 1, len(msg), len(data) - 1):  # ciphertext and tag bytes
        d = bytearray(data)
        d[i] ^= 1
        altered.append(bytes(d))
    wrong_key = bytes(32)
    cases = [[key.hex(), nonce.hex(), d.hex()] for d in altered]
    cases.append([wrong_key.hex(), nonce.hex(), data.hex()])
    cases.append([key.hex(), os.urandom(13).hex(), data.hex()])
    cases.append([key.hex(), nonce.hex(), data[:7].hex()])
    got = tjs(CCM_DECRYPT, cases)
    assert all(g.startswith("error tag:") for g in got[:-1]), got
    assert got[-1].startswith("error undefined: AES-CCM: shorter than the tag")


# -- channels -------------------------------------------------------------------------------------


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_channel_messages_equal_pythons(tjs, group: Group):
    ctx = Context(group)
    seeds = ["Anne234567891234567abc", "Bobxyz234567891234567B"]
    sender, recipient = (channel.derive_keys(ctx, s) for s in seeds)
    messages = ["", "{}", '{"secret":"123"}', "é" * 40, "x" * 70000]
    expected = []
    for i, m in enumerate(messages):
        expected.append(
            channel.send(ctx, sender.sk, recipient.ek, m, DeterministicRandom(f"chan {i}"))
        )
    got = tjs(
        """
        const g = groups.groupByName(args[0]);
        const ctx = new proofs.Context(g);
        const sender = await channel.deriveKeys(ctx, args[1]);
        const recipient = await channel.deriveKeys(ctx, args[2]);
        const sent = [];
        const received = [];
        for (const [i, m] of args[3].entries()) {
          const rng = new random.DeterministicRandom(`chan ${i}`);
          sent.push(await channel.send(ctx, sender.sk, recipient.ek, m, rng));
          received.push(await channel.receive(ctx, recipient, sender.vk, args[4][i]));
        }
        let refused = null;
        try {
          await channel.receive(ctx, sender, sender.vk, args[4][1]);
        } catch (e) {
          refused = e.message;
        }
        return { sent, received, refused };
        """,
        group.name,
        *seeds,
        messages,
        expected,
    )
    assert got["sent"] == expected
    assert got["received"] == messages
    # the wrong decryption key: the tag does not verify
    assert "authentication failed" in got["refused"]
    # and Python opens what the browser sent
    for m, text in zip(messages, got["sent"], strict=True):
        assert channel.receive(ctx, recipient, sender.vk, text) == m


# -- the ceremony ---------------------------------------------------------------------------------

STEP1 = """
  const out = [];
  for (const s of args[1]) out.push(await core.generateKey(args[0], { seed: s }));
  return out;
"""


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_certificates_equal_pythons(tjs, group: Group):
    seeds = ["cert-1", "cert-2", "cert-3"]
    got = tjs(STEP1, group.name, seeds)
    for s, js_cert in zip(seeds, got, strict=True):
        secret = ceremony.make_certificate(group, DeterministicRandom(s))
        assert js_cert == {
            "id": secret.id,
            "cert": secret.cert,
            "keyFile": secret.seed + "\n",
            "keyFileName": f"{secret.id}.key",
        }
    # the key id of a key file is its certificate's
    ids = tjs(
        """const out = [];
        for (const k of args[1]) out.push(await core.keyId(args[0], k));
        return out;""",
        group.name,
        [c["keyFile"] for c in got],
    )
    assert ids == [c["id"] for c in got]


def _trustees(group: Group, n: int, tag: str) -> tuple[list[ceremony.TrusteeSecret], str]:
    secrets = [
        ceremony.make_certificate(group, DeterministicRandom(f"{tag} {z}")) for z in range(n)
    ]
    return secrets, "".join(s.cert + "\n" for s in secrets)


POLY = """
  const out = [];
  for (const [key, seed] of args[3]) {
    out.push(await core.polynomial(args[0], args[1], key, args[2], { seed }));
  }
  return out;
"""

VOUT = """
  const out = [];
  for (const [key, vinput, seed] of args[2]) {
    out.push(await core.voutput(args[0], args[1], key, vinput, { seed }));
  }
  return out;
"""


@pytest.mark.parametrize(
    ("group", "n", "threshold"),
    [(BELENIOS_2048, 3, 2), (BELENIOS_2048, 4, 1), (BELENIOS_2048, 2, 2), (RFC_3526_2048, 3, 2)],
    ids=["BELENIOS-2048-2of3", "BELENIOS-2048-1of4", "BELENIOS-2048-2of2", "RFC-3526-2048-2of3"],
)
def test_polynomials_voutputs_and_decryption_keys_equal_pythons(
    tjs, group: Group, n: int, threshold: int
):
    secrets, certs = _trustees(group, n, f"kat {n} {threshold}")
    keys = [s.seed + "\n" for s in secrets]

    # step 3: each trustee's polynomial, channel messages included
    polys = [
        ceremony.make_polynomial(group, certs, s.seed, threshold, DeterministicRandom(f"poly {z}"))
        for z, s in enumerate(secrets)
    ]
    got = tjs(POLY, group.name, certs, threshold, [[k, f"poly {z}"] for z, k in enumerate(keys)])
    assert got == polys

    # step 5: each trustee's voutput from its vinput
    vinputs = ceremony.make_vinputs(group, certs, "".join(p + "\n" for p in polys))
    voutputs = [
        ceremony.make_voutput(group, certs, s.seed, v, DeterministicRandom(f"vout {z}"))
        for z, (s, (_, v)) in enumerate(zip(secrets, vinputs, strict=True))
    ]
    got = tjs(
        VOUT,
        group.name,
        certs,
        [
            [k, v + "\n", f"vout {z}"]
            for z, (k, (_, v)) in enumerate(zip(keys, vinputs, strict=True))
        ],
    )
    assert got == voutputs

    # step 6 (the server's), then each trustee's decryption key from its .dkey
    out = ceremony.make_threshold_parameters(
        group, certs, "".join(p + "\n" for p in polys), "".join(v + "\n" for v in voutputs)
    )
    params = json.loads(out.parameters)
    vks = [v["public_key"] for v in params["verification_keys"]]
    dkeys = [d for _, d in out.dkeys]
    got = tjs(
        """const out = [];
        for (const [key, dkey, vk] of args[1]) {
          out.push(String(await core.decryptionKey(args[0], key, dkey, vk)));
        }
        return out;""",
        group.name,
        [[k, d + "\n", vk] for k, d, vk in zip(keys, dkeys, vks, strict=True)],
    )
    assert got == [
        str(ceremony.threshold_decryption_key(group, s.seed, d))
        for s, d in zip(secrets, dkeys, strict=True)
    ]


def test_the_browser_refuses_what_python_refuses(tjs):
    group = BELENIOS_2048
    secrets, certs = _trustees(group, 3, "refuse")
    keys = [s.seed + "\n" for s in secrets]
    polys = [
        json.loads(ceremony.make_polynomial(group, certs, s.seed, 2, DeterministicRandom(f"p {z}")))
        for z, s in enumerate(secrets)
    ]
    # trustee 2 sends trustee 3 a share that is not its polynomial's value at 3
    ctx = Context(group)
    k2 = channel.derive_keys(ctx, secrets[1].seed)
    ek3 = channel.derive_keys(ctx, secrets[2].seed).ek
    polys[1]["secrets"][2] = channel.send(
        ctx, k2.sk, ek3, '{"secret":"12345"}', DeterministicRandom("cheat")
    )
    lines = "".join(json.dumps(p, separators=(",", ":")) + "\n" for p in polys)
    vinputs = [v for _, v in ceremony.make_vinputs(group, certs, lines)]
    with pytest.raises(ceremony.ConsistencyError):
        ceremony.make_voutput(group, certs, secrets[2].seed, vinputs[2], DeterministicRandom("x"))

    got = tjs(
        """
        const errors = [];
        const tryIt = async (f) => {
          try {
            await f();
            errors.push(null);
          } catch (e) {
            errors.push(e.message);
          }
        };
        const [g, certs, keys, vinputs, vk] = args;
        // the cheated trustee 3 names trustee 2
        await tryIt(() => core.voutput(g, certs, keys[2], vinputs[2], { seed: "x" }));
        // trustee 1 is not cheated
        await tryIt(() => core.voutput(g, certs, keys[0], vinputs[0], { seed: "x" }));
        // trustee 1's vinput opened with trustee 2's key
        await tryIt(() => core.voutput(g, certs, keys[1], vinputs[0], { seed: "x" }));
        // a key file of no trustee of these certificates
        await tryIt(() => core.polynomial(g, certs, "zzzzzzzzzzzzzzzzzzzzzz\\n", 2, { seed: "x" }));
        // a threshold larger than the number of trustees
        await tryIt(() => core.polynomial(g, certs, keys[0], 4, { seed: "x" }));
        // not a seed
        await tryIt(() => core.polynomial(g, certs, "not a key file", 2, { seed: "x" }));
        // an altered certificate
        await tryIt(() => core.checkCertificates(groups.groupByName(g), args[4]));
        return errors;
        """,
        group.name,
        certs,
        keys,
        vinputs,
        _altered_certs(group, certs),
    )
    cheated, fine, other_key, nobody, threshold, not_seed, altered = got
    assert cheated is not None and f"trustee 2 (certificate {secrets[1].id})" in cheated
    assert "does not match the dealer's coefficient commitments" in cheated
    assert fine is None
    assert other_key is not None and "authentication failed" in other_key
    assert nobody == "the certificate of this seed is not among the certificates"
    assert threshold is not None and "between 1 and the number of trustees (3)" in threshold
    assert not_seed == "key file: a seed is 22 characters of the Base58 alphabet"
    assert (
        altered
        == f"trustee 2 (certificate {secrets[1].id}), certificate: signature does not verify"
    )


def _altered_certs(group: Group, certs: str) -> str:
    """``certs`` with the signature of the second certificate changed."""
    lines = certs.splitlines()
    cert = json.loads(lines[1])
    r = int(cert["signature"]["response"])
    cert["signature"]["response"] = str((r + 1) % group.q)
    lines[1] = json.dumps(cert, separators=(",", ":"))
    return "".join(line + "\n" for line in lines)


def test_a_wrong_verification_key_is_refused(tjs):
    group = BELENIOS_2048
    secrets, certs = _trustees(group, 2, "vk")
    polys = "".join(
        ceremony.make_polynomial(group, certs, s.seed, 2, DeterministicRandom(f"p{z}")) + "\n"
        for z, s in enumerate(secrets)
    )
    vins = ceremony.make_vinputs(group, certs, polys)
    vouts = "".join(
        ceremony.make_voutput(group, certs, s.seed, v, DeterministicRandom(f"v{z}")) + "\n"
        for z, (s, (_, v)) in enumerate(zip(secrets, vins, strict=True))
    )
    out = ceremony.make_threshold_parameters(group, certs, polys, vouts)
    other_vk = json.loads(out.parameters)["verification_keys"][1]["public_key"]
    got = tjs(
        """try {
          await core.decryptionKey(args[0], args[1], args[2], args[3]);
          return null;
        } catch (e) {
          return e.message;
        }""",
        group.name,
        secrets[0].seed,
        out.dkeys[0][1],
        other_vk,
    )
    assert got == "decryption key: the decryption key does not match the verification key"


def test_a_ceremony_made_in_the_browser_passes_the_servers_steps(tjs):
    """Three trustees in the browser with the browser's own randomness; the server's steps 4
    and 6 (Python) accept every message, and the decryption keys open."""
    group = BELENIOS_2048
    got = tjs(
        """
        const g = args[0];
        const trustees = [];
        for (let i = 0; i < 3; i++) trustees.push(await core.generateKey(g));
        const certs = trustees.map((t) => t.cert + "\\n").join("");
        const polys = [];
        for (const t of trustees) polys.push(await core.polynomial(g, certs, t.keyFile, 2));
        return { certs, keys: trustees.map((t) => t.keyFile), polys };
        """,
        group.name,
    )
    certs = got["certs"]
    polys = "".join(p + "\n" for p in got["polys"])
    vinputs = [v for _, v in ceremony.make_vinputs(group, certs, polys)]
    vouts = tjs(
        """const out = [];
        for (const [k, v] of args[2]) out.push(await core.voutput(args[0], args[1], k, v));
        return out;""",
        group.name,
        certs,
        [[k, v] for k, v in zip(got["keys"], vinputs, strict=True)],
    )
    out = ceremony.make_threshold_parameters(group, certs, polys, "".join(v + "\n" for v in vouts))
    assert json.loads(out.parameters)["threshold"] == 2
    for key, (_, dkey) in zip(got["keys"], out.dkeys, strict=True):
        ceremony.threshold_decryption_key(group, key, dkey)


# -- partial decryption ---------------------------------------------------------------------------


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_partial_decryptions_equal_pythons(tjs, group: Group):
    rng = DeterministicRandom("tally")
    ctx = Context(group)
    x = rng.below(group.q)
    y = ctx.gpow(rng.below(group.q))
    tally = []
    for size in (3, 1, 4):
        col = []
        for m in range(size):
            r = rng.below(group.q)
            col.append((ctx.gpow(r), ctx.pow(y, r) * ctx.gpow(m) % group.p))
        tally.append(col)
    fingerprint = "Gv2Q0r8oW+uW8HfL3mB5hz7Yy0b1Ea1qlFIYxoCJ6dQ"
    answer = {
        "election": "uuid",
        "fingerprint": fingerprint,
        "encrypted_tally": [[{"alpha": str(a), "beta": str(b)} for a, b in col] for col in tally],
    }
    seeds = ["pd 1", "pd 2"]
    got = tjs(
        """const out = [];
        for (const s of args[3]) {
          out.push(await core.decryptTally(args[0], BigInt(args[1]), args[2], { seed: s }));
        }
        return out;""",
        group.name,
        str(x),
        answer,
        seeds,
    )
    assert got == [
        partial_decryption_json(ctx, fingerprint, mpz(x), tally, DeterministicRandom(s)).decode()
        for s in seeds
    ]
    # a tally element outside the group is refused
    answer["encrypted_tally"][0][0]["alpha"] = str(group.p - 1)
    bad = tjs(
        """try {
          await core.decryptTally(args[0], 1n, args[1]);
          return null;
        } catch (e) {
          return e.message;
        }""",
        group.name,
        answer,
    )
    assert bad == "encrypted tally[0][0].alpha: not an element of the order-q subgroup"


def test_partial_decryptions_of_a_lists_tally_equal_pythons(tjs):
    """A tally in the Ed25519 group with a Lists question (one list of ciphertexts per list)
    between two plain ones: the browser's partial decryption has the tally's shape and is
    Python's byte for byte for the same randomness."""
    rng = DeterministicRandom("lists tally")
    ctx = Context(ED25519)
    x = rng.below(ED25519.q)
    y = ctx.gpow(rng.below(ED25519.q))
    questions = (
        QuestionH("Approve?", ("Yes", "No"), 1, 1, True),
        QuestionL("Council", (("Greens", "Ada", "Ben"), ("Blues", "Cy", "Di", "Ed"))),
        QuestionH("One of two", ("A", "B"), 1, 1, False),
    )
    tally = []
    for q in questions:
        col = []
        for m in range(q.size):
            r = rng.below(ED25519.q)
            col.append((ctx.gpow(r), ctx.mul(ctx.pow(y, r), ctx.gpow(m % 2))))
        tally.append(col)
    fingerprint = "Gv2Q0r8oW+uW8HfL3mB5hz7Yy0b1Ea1qlFIYxoCJ6dQ"
    answer = {
        "election": "uuid",
        "fingerprint": fingerprint,
        "encrypted_tally": json.loads(encrypted_tally_json(tally, questions)),
    }
    assert [len(row) for row in answer["encrypted_tally"][1]] == [3, 4]
    got = tjs(
        "return core.decryptTally(args[0], BigInt(args[1]), args[2], { seed: 'pd lists' });",
        ED25519.name,
        str(x),
        answer,
    )
    want = partial_decryption_json(
        ctx, fingerprint, x, tally, DeterministicRandom("pd lists"), questions
    ).decode()
    assert got == want
    assert [len(row) for row in json.loads(got)["decryption_factors"][1]] == [3, 4]
    # a Lists row that is not a list of ciphertexts is refused, naming it
    answer["encrypted_tally"][1][1] = [answer["encrypted_tally"][1][1][0]]
    bad = tjs(
        """try {
          await core.decryptTally(args[0], 1n, args[1]);
          return null;
        } catch (e) {
          return e.message;
        }""",
        ED25519.name,
        answer,
    )
    assert bad == "encrypted tally[1][1]: 1 items, expected 2 to 65536"


def test_the_lists_partial_decryption_vectors_are_made_again(tjs):
    """tests/vectors/kat/lists-partial-decryptions.json (the Lists tally of belenios-tool
    3.0's lists vector, its trustee's key): the trustee page's partial decryption of each seed
    is the vector's, byte for byte."""
    v = json.loads((VECTORS / "kat" / "lists-partial-decryptions.json").read_text())
    answer = {"fingerprint": v["fingerprint"], "encrypted_tally": v["encrypted_tally"]}
    got = tjs(
        """const out = [];
        for (const s of args[3]) {
          out.push(await core.decryptTally(args[0], BigInt(args[1]), args[2], { seed: s }));
        }
        return out;""",
        v["group"],
        v["private_key"],
        answer,
        [c["seed"] for c in v["cases"]],
    )
    assert got == [c["partial_decryption"] for c in v["cases"]]
