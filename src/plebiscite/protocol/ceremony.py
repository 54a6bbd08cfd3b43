"""The "Pedersen" key establishment protocol (sections 3.1.1, 4.6 and 4.7), both sides.

Pure functions over JSON text, in the formats belenios-tool 2.0 reads and writes (its
``setup generate-trustee-key-threshold --step N``), so either tool can play any role:

====  ==========  ========================================================================
step  who         what
====  ==========  ========================================================================
1     trustee     :func:`make_certificate`: a secret seed (the ``.key`` file) and a ``cert``
2     server      :func:`check_certificates`: the certificates Γ (``certs.jsons``)
3     trustee     :func:`make_polynomial`: the trustee's ``polynomial`` (a line of
                  ``polynomials.jsons``)
4     server      :func:`make_vinputs`: one ``vinput`` per trustee (``ID.vinput``)
5     trustee     :func:`make_voutput`: checks its vinput (every share against the dealer's
                  coefficient commitments) and returns its ``voutput``
6     server      :func:`make_threshold_parameters`: checks the voutputs, returns the
                  ``threshold_parameters`` (``threshold.json``, the second element of a
                  ``["Pedersen", ...]`` trustees item) and each trustee's encrypted
                  decryption key (``ID.dkey``)
====  ==========  ========================================================================

Later, :func:`threshold_decryption_key` recovers a trustee's decryption key from its seed and
its ``.dkey`` (or the ``private_key`` of its voutput).

Trustee ``z`` is the ``z``-th certificate of ``certs.jsons`` (from 1), ``ID`` the SHA256 of its
certificate's message in hexadecimal; polynomials and voutputs are listed in the same order.
Every function returns JSON text without the final newline (the files hold one JSON value per
line). Every check that fails raises a :class:`~plebiscite.errors.PlebisciteError` whose
``where`` names the trustee at fault ("trustee 2 (certificate 4d61...)"): a malformed message
(:class:`EncodingError`), a signature or proof of knowledge that does not verify
(:class:`ProofError`), or data that contradicts other data, such as a share that does not
match its dealer's coefficient commitments (:class:`ConsistencyError`).

Formats (compact JSON, fields in this order; numbers in base 10 as JSON strings):

- ``.key``: the seed; ``cert``: ``signed_msg`` of ``{"verification": vk, "encryption": ek}``.
- ``polynomial``: ``{"polynomial": send(sk_z, ek_z, {"polynomial": [a_0, ..., a_t]}),
  "secrets": [send(sk_z, ek_j, {"secret": f_z(j)}) for j = 1..m],
  "coefexps": signed_msg of {"coefexps": [g^a_0, ..., g^a_t]}}``.
- ``vinput``: ``{"polynomial": ..., "secrets": [...], "coefexps": [...]}`` (4.6.5).
- ``voutput``: ``{"private_key": send(sk_j, ek_j, {"decryption_key": S_j}),
  "public_key": {"pok": proof, "public_key": g^S_j}}``.
- ``threshold_parameters``: ``{"threshold": t + 1, "certs": [...], "coefexps": [...],
  "verification_keys": [...]}``; ``.dkey``: the ``private_key`` of the trustee's voutput.

belenios-tool writes the shares ``f_z(j)`` and ``S_j`` without reducing them modulo q; they are
read here as any natural number (reduced modulo q) and written reduced.

Belenios 3.x (section 4.6 of its specification) adds, and this module writes when the
certificates are made with a ``context`` (and requires once they have one):

- in each certificate's message, first, ``"context": {"group", "size", "threshold", "index"}``
  (the ceremony's group, its number of trustees, its threshold and the owner's place from 1);
- in each polynomial, ``signature``: the dealer's signature (a ``proof``, as a signed_msg's) of
  ``certs_sig|`` followed by the compact JSON ``{"certs": [...], "coefexps": [A_0, ...]}``;
  vinputs and the threshold parameters carry them all as ``signatures``;
- in each voutput's ``public_key``, ``signature``: its owner's signature of the key's string.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plebiscite import strictjson
from plebiscite.crypto.channel import (
    AES_GCM,
    ChannelKeys,
    SignedMessage,
    derive_keys,
    dumps,
    generate_seed,
    parse_proof,
    parse_signed,
    proof_json,
    receive,
    send,
    sign,
    signed_json,
    strict_object,
    verify_signed,
)
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.groups import parse_natural
from plebiscite.crypto.proofs import Proof, prove_pok, verify_pok
from plebiscite.crypto.rand import RandomSource
from plebiscite.crypto.threshold import commitment_eval
from plebiscite.errors import ConsistencyError, EncodingError, PlebisciteError, ProofError
from plebiscite.protocol.messages import LIMITS, arr, obj, proof, small_int, string

__all__ = [
    "Certificate",
    "Polynomial",
    "ThresholdOutput",
    "TrusteeSecret",
    "check_certificates",
    "make_certificate",
    "make_polynomial",
    "make_threshold_parameters",
    "make_vinputs",
    "make_voutput",
    "split_jsons",
    "threshold_decryption_key",
]

#: Largest single JSON value read (a vinput or polynomial of 256 trustees fits).
MAX_JSON_BYTES = 1 << 26
#: Extra digits allowed in shares beyond those of q (belenios-tool does not reduce them).
_SHARE_EXTRA_DIGITS = 6
_HEX = re.compile(r"(?:[0-9a-f]{2})+\Z")


# -- reading -------------------------------------------------------------------------------------


def split_jsons(text: str, where: str) -> list[Any]:
    """Parse a ``.jsons`` file: JSON values one after the other (one per line, as written by
    both tools), each read strictly."""
    if len(text) > MAX_JSON_BYTES * LIMITS.trustees:
        raise EncodingError("file too large", where=where)
    if strictjson.depth(text) > strictjson.MAX_DEPTH:  # before any parsing
        raise EncodingError(
            f"arrays and objects nested more than {strictjson.MAX_DEPTH} deep", where=where
        )
    decoder = json.JSONDecoder()
    out: list[Any] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i == n:
            return out
        w = f"{where}, value {len(out) + 1}"
        try:
            _, end = decoder.raw_decode(text, i)
        except (ValueError, RecursionError) as e:
            raise EncodingError(f"invalid JSON: {e}", where=w) from None
        out.append(strictjson.loads(text[i:end], max_size=MAX_JSON_BYTES, where=w))
        if len(out) > LIMITS.trustees:
            raise EncodingError(f"more than {LIMITS.trustees} values", where=where)
        i = end


def _one_json(text: str, where: str) -> Any:
    values = split_jsons(text, where)
    if len(values) != 1:
        raise EncodingError(f"expected one JSON value, found {len(values)}", where=where)
    return values[0]


def _share(group: Group, v: object, where: str) -> int:
    """A secret exponent written by a trustee: any natural number, reduced modulo q."""
    digits = group.scalar_digits + _SHARE_EXTRA_DIGITS
    return parse_natural(v, max_digits=digits, where=where) % group.q


def _encrypted_shape(group: Group, v: object, where: str) -> str:
    """Check that ``v`` is a serialised ``encrypted_msg`` (without decrypting it)."""
    text = string(v, where)
    o = strict_object(
        text, ("alpha", "beta", "data"), where, max_size=MAX_JSON_BYTES, optional=("algorithm",)
    )
    if o.get("algorithm", AES_GCM) != AES_GCM:
        raise EncodingError(f"unknown algorithm {o['algorithm']!r}", where=f"{where}.algorithm")
    group.element(o["alpha"], where=f"{where}.alpha")
    group.element(o["beta"], where=f"{where}.beta")
    data = string(o["data"], f"{where}.data")
    if not _HEX.match(data):
        raise EncodingError("data is not lowercase hexadecimal", where=f"{where}.data")
    return text


# -- certificates (steps 1 and 2) --------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A checked ``cert`` of trustee ``index`` (from 1)."""

    index: int
    id: str  # SHA256 of the message, hexadecimal: the name of the trustee's files
    signed: SignedMessage
    verification: Element
    encryption: Element
    threshold: int | None = None  # the context's threshold (3.x certificates only)

    @property
    def who(self) -> str:
        return f"trustee {self.index} (certificate {self.id})"

    def to_json(self) -> dict[str, Any]:
        return signed_json(self.signed)


@dataclass(frozen=True, repr=False)
class TrusteeSecret:
    """What step 1 makes: the secret seed (the ``.key`` file) and the public certificate."""

    seed: str
    cert: str
    id: str

    def __repr__(self) -> str:
        return f"TrusteeSecret(id={self.id!r})"


def _cert_id(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


def make_certificate(
    group: Group, rng: RandomSource, context: tuple[int, int, int] | None = None
) -> TrusteeSecret:
    """Step 1 (trustee): a fresh seed and the certificate of the keys derived from it. With
    ``context = (index, threshold, size)``, a Belenios 3.x certificate: the trustee's place
    (from 1) in a ceremony of ``size`` trustees with this ``threshold``."""
    ctx = Context(group)
    seed = generate_seed(rng)
    keys = derive_keys(ctx, seed)
    keys_json: dict[str, Any] = {}
    if context is not None:
        index, threshold, size = context
        if not 1 <= threshold <= size or not 1 <= index <= size:
            raise ConsistencyError(
                f"a certificate's context needs 1 <= index, threshold <= size, not {context}"
            )
        keys_json["context"] = {
            "group": group.name,
            "size": size,
            "threshold": threshold,
            "index": index,
        }
    keys_json |= {"verification": str(keys.vk), "encryption": str(keys.ek)}
    message = dumps(keys_json)
    cert = dumps(signed_json(sign(ctx, keys.sk, message, rng)))
    return TrusteeSecret(seed=seed, cert=cert, id=_cert_id(message))


def _certificate(ctx: Context, v: object, index: int) -> Certificate:
    signed = parse_signed(ctx.group, v, f"trustee {index}, certificate")
    cid = _cert_id(signed.message)
    w = f"trustee {index} (certificate {cid})"
    keys = strict_object(
        signed.message,
        ("verification", "encryption"),
        f"{w}, message",
        max_size=8192,
        optional=("context",),
    )
    vk = ctx.group.element(keys["verification"], where=f"{w}, verification key")
    ek = ctx.group.element(keys["encryption"], where=f"{w}, encryption key")
    verify_signed(ctx, vk, signed, f"{w}, certificate")
    threshold = None
    if "context" in keys:
        c = obj(keys["context"], f"{w}, context", ("group", "size", "threshold", "index"))
        if c["group"] != ctx.group.name:
            raise ConsistencyError(
                f"the certificate is for the group {c['group']!r}, not {ctx.group.name}",
                where=f"{w}, context",
            )
        if c["index"] != index or type(c["index"]) is not int:
            raise ConsistencyError(
                f"the certificate's context gives index {c['index']!r}, it is certificate {index}",
                where=f"{w}, context",
            )
        threshold = small_int(c["threshold"], f"{w}, context.threshold", 1)
        small_int(c["size"], f"{w}, context.size", 1)
    return Certificate(index, cid, signed, vk, ek, threshold)


def check_certificates(
    group: Group,
    certs: str,
    *,
    indexes: Sequence[int] | None = None,
    size: int | None = None,
) -> tuple[Certificate, ...]:
    """Step 2 (server; every later step repeats it): parse ``certs.jsons`` and check each
    certificate's signature; keys must be distinct. A server checking the certificates
    received so far gives their trustees' ``indexes`` and the ceremony's ``size``."""
    ctx = Context(group)
    values = split_jsons(certs, "certificates")
    if not values:
        raise EncodingError("no certificate", where="certificates")
    if indexes is not None and len(indexes) != len(values):
        raise ValueError("one index per certificate")
    out: list[Certificate] = []
    seen: set[Element] = set()
    for z, v in enumerate(values, start=1):
        cert = _certificate(ctx, v, z if indexes is None else indexes[z - 1])
        if cert.verification in seen or cert.encryption in seen:
            raise ConsistencyError("a key of this certificate is already used", where=cert.who)
        seen.update((cert.verification, cert.encryption))
        out.append(cert)
    contexts = [c for c in out if c.threshold is not None]
    if contexts and len(contexts) != len(out):
        raise ConsistencyError(
            "some certificates have a context and others not", where="certificates"
        )
    expected = len(out) if size is None else size
    for c in contexts:
        given = json.loads(c.signed.message)["context"]["size"]
        if given != expected or c.threshold != contexts[0].threshold:
            raise ConsistencyError(
                f"the certificate's context (size {given}, threshold {c.threshold}) differs "
                f"from the ceremony's ({expected} trustees, threshold "
                f"{contexts[0].threshold})",
                where=c.who,
            )
    return tuple(out)


def _signed_ceremony(cs: Sequence[Certificate]) -> bool:
    """A Belenios 3.x ceremony: its certificates have a context."""
    return cs[0].threshold is not None


def _certs_sig(cs: Sequence[Certificate], coefexps: Sequence[str]) -> str:
    """What a 3.x dealer signs: ``certs_sig|`` and the certificates with its commitments."""
    body = dumps({"certs": [c.to_json() for c in cs], "coefexps": list(coefexps)})
    return f"certs_sig|{body}"


def _own(ctx: Context, certs: Sequence[Certificate], seed: str) -> tuple[Certificate, ChannelKeys]:
    keys = derive_keys(ctx, seed)
    for cert in certs:
        if cert.verification == keys.vk:
            if cert.encryption != keys.ek:
                raise ConsistencyError(
                    "the encryption key of this certificate is not derived from the seed",
                    where=cert.who,
                )
            return cert, keys
    raise ConsistencyError("the certificate of this seed is not among the certificates")


# -- polynomials (steps 3 and 4) ---------------------------------------------------------------


def _coefexps(ctx: Context, cert: Certificate, v: object, where: str) -> tuple[Element, ...]:
    """A dealer's signed coefficient commitments ``A_0..A_t``."""
    signed = parse_signed(ctx.group, v, where)
    verify_signed(ctx, cert.verification, signed, where)
    o = strict_object(signed.message, ("coefexps",), where, max_size=MAX_JSON_BYTES)
    a = arr(o["coefexps"], f"{where}.coefexps", LIMITS.trustees)
    if not a:
        raise EncodingError("no coefficient commitment", where=f"{where}.coefexps")
    return tuple(ctx.group.element(x, where=f"{where}.coefexps[{k}]") for k, x in enumerate(a))


def make_polynomial(group: Group, certs: str, seed: str, threshold: int, rng: RandomSource) -> str:
    """Step 3 (trustee): a random polynomial of degree ``threshold - 1``, its coefficients sent
    to oneself, its value at ``j`` sent to trustee ``j``, its commitments signed."""
    ctx = Context(group)
    cs = check_certificates(group, certs)
    me, keys = _own(ctx, cs, seed)
    if not 1 <= threshold <= len(cs):
        raise ConsistencyError(
            f"the threshold must be between 1 and the number of trustees ({len(cs)})"
        )
    if me.threshold is not None and me.threshold != threshold:
        raise ConsistencyError(
            f"the certificates' context has the threshold {me.threshold}, not {threshold}"
        )
    q = ctx.q
    coefficients = [rng.below(q) for _ in range(threshold)]

    def f(j: int) -> int:
        r = 0
        for a in reversed(coefficients):
            r = (r * j + a) % q
        return r

    raw = dumps({"polynomial": [str(a) for a in coefficients]})
    commitments = [group.encode(ctx.gpow(a)) for a in coefficients]
    coefexps = dumps({"coefexps": commitments})
    polynomial: dict[str, Any] = {
        "polynomial": send(ctx, keys.sk, me.encryption, raw, rng),
        "secrets": [
            send(ctx, keys.sk, c.encryption, dumps({"secret": str(f(c.index))}), rng) for c in cs
        ],
        "coefexps": signed_json(sign(ctx, keys.sk, coefexps, rng)),
    }
    if _signed_ceremony(cs):
        polynomial["signature"] = proof_json(
            sign(ctx, keys.sk, _certs_sig(cs, commitments), rng).signature
        )
    return dumps(polynomial)


@dataclass(frozen=True)
class Polynomial:
    """A dealer's ``polynomial`` structure, checked as far as the server can."""

    dealer: Certificate
    polynomial: str
    secrets: tuple[str, ...]
    coefexps: dict[str, Any]
    commitments: tuple[Element, ...]
    signature: dict[str, Any] | None = None  # 3.x: the dealer's certs_sig signature


def _check_polynomials(
    ctx: Context, cs: Sequence[Certificate], polynomials: str
) -> tuple[Polynomial, ...]:
    values = split_jsons(polynomials, "polynomials")
    if len(values) != len(cs):
        raise ConsistencyError(
            f"{len(values)} polynomials for {len(cs)} certificates", where="polynomials"
        )
    out: list[Polynomial] = []
    signed = _signed_ceremony(cs)
    for cert, v in zip(cs, values, strict=True):
        w = cert.who
        fields = ("polynomial", "secrets", "coefexps") + (("signature",) if signed else ())
        o = obj(v, f"{w}, polynomial", fields)
        secrets = arr(o["secrets"], f"{w}, secrets", len(cs), len(cs))
        commitments = _coefexps(ctx, cert, o["coefexps"], f"{w}, coefexps")
        if signed:
            _check_certs_sig(ctx, cs, cert, commitments, o["signature"], f"{w}, signature")
        out.append(
            Polynomial(
                dealer=cert,
                polynomial=_encrypted_shape(ctx.group, o["polynomial"], f"{w}, polynomial"),
                secrets=tuple(
                    _encrypted_shape(ctx.group, s, f"{w}, secret for trustee {j}")
                    for j, s in enumerate(secrets, start=1)
                ),
                coefexps=o["coefexps"],
                commitments=commitments,
                signature=o["signature"] if signed else None,
            )
        )
    _same_threshold([p.commitments for p in out], cs)
    return tuple(out)


def _check_certs_sig(
    ctx: Context,
    cs: Sequence[Certificate],
    dealer: Certificate,
    commitments: Sequence[Element],
    v: object,
    where: str,
) -> None:
    """A 3.x dealer's signature of the certificates and its commitments."""
    message = _certs_sig(cs, [ctx.group.encode(A) for A in commitments])
    verify_signed(
        ctx, dealer.verification, SignedMessage(message, parse_proof(ctx.group, v, where)), where
    )


def _same_threshold(commitments: Sequence[Sequence[Element]], cs: Sequence[Certificate]) -> int:
    threshold = len(commitments[0])
    for cert, A in zip(cs, commitments, strict=True):
        if len(A) != threshold:
            raise ConsistencyError(
                f"{len(A)} coefficient commitments where trustee 1 has {threshold}: "
                "every trustee must use the same threshold",
                where=cert.who,
            )
    if threshold > len(cs):
        raise ConsistencyError(
            f"threshold {threshold} is larger than the number of trustees ({len(cs)})",
            where="polynomials",
        )
    return threshold


def make_vinputs(group: Group, certs: str, polynomials: str) -> list[tuple[str, str]]:
    """Step 4 (server): check the polynomials (signed commitments, well-formed messages, one
    threshold) and route them: ``(ID, vinput)`` for each trustee, in certificate order."""
    ctx = Context(group)
    cs = check_certificates(group, certs)
    ps = _check_polynomials(ctx, cs, polynomials)
    coefexps = [p.coefexps for p in ps]
    extra: dict[str, Any] = {}
    if _signed_ceremony(cs):
        extra["signatures"] = [p.signature for p in ps]
    return [
        (
            cert.id,
            dumps(
                {
                    "polynomial": ps[j].polynomial,
                    "secrets": [p.secrets[j] for p in ps],
                    "coefexps": coefexps,
                }
                | extra
            ),
        )
        for j, cert in enumerate(cs)
    ]


# -- voutputs (step 5) ----------------------------------------------------------------------


def make_voutput(group: Group, certs: str, seed: str, vinput: str, rng: RandomSource) -> str:
    """Step 5 (trustee ``j``): check the vinput -- the commitments signed by their dealers,
    one's own polynomial behind one's own commitments, and every share ``s_ij`` against its
    dealer's commitments, ``g^s_ij = prod_k A_ik^(j^k)`` -- then return the voutput: the
    decryption key ``S_j = sum_i s_ij`` sent to oneself and its public key with a proof of
    knowledge."""
    ctx = Context(group)
    q = ctx.q
    cs = check_certificates(group, certs)
    me, keys = _own(ctx, cs, seed)
    j = me.index
    signed = _signed_ceremony(cs)
    fields = ("polynomial", "secrets", "coefexps") + (("signatures",) if signed else ())
    o = obj(_one_json(vinput, "vinput"), "vinput", fields)
    n = len(cs)
    secrets = arr(o["secrets"], "vinput.secrets", n, n)
    commitments = [
        _coefexps(ctx, cert, v, f"{cert.who}, coefexps")
        for cert, v in zip(cs, arr(o["coefexps"], "vinput.coefexps", n, n), strict=True)
    ]
    if signed:
        sigs = arr(o["signatures"], "vinput.signatures", n, n)
        for cert, A, sig in zip(cs, commitments, sigs, strict=True):
            _check_certs_sig(ctx, cs, cert, A, sig, f"{cert.who}, signature")
    threshold = _same_threshold(commitments, cs)

    own = _received(ctx, keys, me, string(o["polynomial"], "vinput.polynomial"), "polynomial")
    coefficients = arr(
        strict_object(own, ("polynomial",), f"{me.who}, polynomial")["polynomial"],
        f"{me.who}, polynomial",
        threshold,
        threshold,
    )
    for k, (a, A) in enumerate(zip(coefficients, commitments[j - 1], strict=True)):
        if ctx.gpow(_share(group, a, f"{me.who}, polynomial[{k}]")) != A:
            raise ConsistencyError(
                "this trustee's polynomial does not match its published coefficient commitments",
                where=me.who,
            )

    total = 0
    for dealer, A, text in zip(cs, commitments, secrets, strict=True):
        w = f"{dealer.who}, secret for trustee {j}"
        message = _received(ctx, keys, dealer, string(text, w), f"secret for trustee {j}")
        s = _share(group, strict_object(message, ("secret",), w)["secret"], f"{w}.secret")
        if ctx.gpow(s) != commitment_eval(group, A, j):
            raise ConsistencyError(
                f"the share sent to trustee {j} does not match the dealer's coefficient "
                "commitments",
                where=dealer.who,
            )
        total = (total + s) % q
    pok = prove_pok(ctx, total, rng.below(q))
    private = send(ctx, keys.sk, keys.ek, dumps({"decryption_key": str(total)}), rng)
    public = _tpk_json(ctx.gpow(total), pok)
    if signed:
        public["signature"] = proof_json(sign(ctx, keys.sk, public["public_key"], rng).signature)
    return dumps({"private_key": private, "public_key": public})


def _received(ctx: Context, keys: ChannelKeys, sender: Certificate, text: str, what: str) -> str:
    try:
        return receive(ctx, keys, sender.verification, text, f"{sender.who}, {what}")
    except PlebisciteError as e:
        if e.where.startswith("trustee"):
            raise
        raise e.at(f"{sender.who}, {what}") from None


def _tpk_json(public_key: Element, pok: Proof) -> dict[str, Any]:
    """``trustee_public_key`` with the fields in belenios-tool's order."""
    return {"pok": proof_json(pok), "public_key": str(public_key)}


# -- threshold parameters (step 6) -------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdOutput:
    """What step 6 makes: ``threshold.json`` and, per trustee, ``(ID, .dkey content)``."""

    parameters: str
    dkeys: tuple[tuple[str, str], ...]

    def pedersen_item(self) -> list[Any]:
        """The ``["Pedersen", threshold_parameters]`` item of a trustees structure."""
        return ["Pedersen", json.loads(self.parameters)]


def make_threshold_parameters(
    group: Group, certs: str, polynomials: str, voutputs: str
) -> ThresholdOutput:
    """Step 6 (server): check every voutput -- its proof of knowledge, and its public key
    ``g^S_j = prod_i prod_k A_ik^(j^k)`` -- and build the threshold parameters (4.6.7)."""
    ctx = Context(group)
    cs = check_certificates(group, certs)
    ps = _check_polynomials(ctx, cs, polynomials)
    threshold = len(ps[0].commitments)
    values = split_jsons(voutputs, "voutputs")
    if len(values) != len(cs):
        raise ConsistencyError(
            f"{len(values)} voutputs for {len(cs)} certificates", where="voutputs"
        )
    verification_keys: list[dict[str, Any]] = []
    dkeys: list[tuple[str, str]] = []
    signed = _signed_ceremony(cs)
    for cert, v in zip(cs, values, strict=True):
        w = f"{cert.who}, voutput"
        o = obj(v, w, ("private_key", "public_key"))
        private = _encrypted_shape(group, o["private_key"], f"{w}.private_key")
        fields = ("pok", "public_key") + (("signature",) if signed else ())
        tpk = obj(o["public_key"], f"{w}.public_key", fields)
        X = group.element(tpk["public_key"], where=f"{w}.public_key.public_key")
        pok = proof(group, tpk["pok"], f"{w}.public_key.pok")
        try:
            verify_pok(ctx, X, pok)
        except ProofError as e:
            raise e.at(f"{w}.public_key.pok") from None
        if signed:
            ws = f"{w}.public_key.signature"
            key_sig = SignedMessage(tpk["public_key"], parse_proof(group, tpk["signature"], ws))
            verify_signed(ctx, cert.verification, key_sig, ws)
        expected = group.product(
            commitment_eval(group, poly.commitments, cert.index) for poly in ps
        )
        if expected != X:
            raise ConsistencyError(
                "the verification key does not match the trustees' coefficient commitments",
                where=w,
            )
        key = _tpk_json(X, pok)
        if signed:
            key["signature"] = tpk["signature"]
        verification_keys.append(key)
        dkeys.append((cert.id, private))
    params: dict[str, Any] = {
        "threshold": threshold,
        "certs": [c.to_json() for c in cs],
        "coefexps": [poly.coefexps for poly in ps],
    }
    if signed:
        params["signatures"] = [poly.signature for poly in ps]
    params["verification_keys"] = verification_keys
    parameters = dumps(params)
    return ThresholdOutput(parameters, tuple(dkeys))


# -- after the ceremony --------------------------------------------------------------------------


def threshold_decryption_key(
    group: Group, seed: str, dkey: str, *, verification_key: Element | None = None
) -> int:
    """A trustee's decryption key ``S_j``, recovered with its seed from its ``.dkey`` (the
    ``private_key`` of its voutput, a message it sent to itself). With ``verification_key``
    (its entry in the threshold parameters), also check ``g^S_j`` against it."""
    ctx = Context(group)
    keys = derive_keys(ctx, seed)
    text = dkey.strip()
    message = receive(ctx, keys, keys.vk, text, "decryption key")
    x = _share(
        group,
        strict_object(message, ("decryption_key",), "decryption key")["decryption_key"],
        "decryption key",
    )
    if verification_key is not None and ctx.gpow(x) != verification_key:
        raise ConsistencyError(
            "the decryption key does not match the verification key", where="decryption key"
        )
    return x
