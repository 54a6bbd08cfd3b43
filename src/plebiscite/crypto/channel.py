"""The trustees' private channels of threshold key establishment (section 4.6.1 to 4.6.3).

A trustee's secret is a 22-character Base58 *seed*; from it are derived a signing key
``sk = SHA256(sk|seed)`` (verification key ``g^sk``) and a decryption key ``dk = SHA256(dk|seed)``
(encryption key ``g^dk``), each hash read as a 256-bit big-endian number, reduced modulo q.

- ``signed_msg`` ``{"message": M, "signature": proof}``: a Schnorr proof whose challenge is
  ``SHA256(sigmsg|M|A)`` (the same proof as :func:`~plebiscite.crypto.proofs.prove_schnorr`).
- ``encrypted_msg`` ``{"alpha": g^r, "beta": ek^r g^s, "data": hex}``: hybrid El Gamal. ``data``
  is AES-256 in CCM mode of the UTF-8 message, without associated data, with
  ``key = SHA256(key|g^s)`` (the 32 raw bytes), a nonce made of the first ``15 - L`` bytes of
  ``SHA256(iv|alpha)`` where ``L`` is the number of bytes needed to write the message length
  (at least 2: a 13-byte nonce below 64 KiB, 12 bytes below 16 MiB), and an 8-byte tag appended
  to the ciphertext; hexadecimal in lowercase. These parameters are those of belenios-tool 2.0,
  learnt by decrypting its messages (the spec leaves them implicit).
- ``send(sk, recipient, M)``: the channel message ``{"recipient": ek, "message": M}``,
  serialised, signed with ``sk``, the ``signed_msg`` serialised and encrypted for ``recipient``;
  :func:`receive` checks the signature against the sender's verification key and that the
  recipient is the receiver's own encryption key.

Every JSON text is written compactly with the fields in the order above (as belenios-tool
does) and read strictly: no duplicate, missing or unknown field, canonical numbers, group
membership of every element. Randomised functions take a :class:`RandomSource`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.hashing import sha256_int
from plebiscite.crypto.proofs import Proof, prove_schnorr, verify_schnorr
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import ConsistencyError, EncodingError, ProofError, SizeError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "SEED_ALPHABET",
    "SEED_LENGTH",
    "ChannelKeys",
    "SignedMessage",
    "check_seed",
    "decrypt",
    "derive_keys",
    "dumps",
    "encrypt",
    "generate_seed",
    "parse_proof",
    "parse_signed",
    "proof_json",
    "receive",
    "send",
    "sign",
    "signed_json",
    "strict_object",
    "verify_signed",
]

SEED_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SEED_LENGTH = 22
_SEED = re.compile(f"[{SEED_ALPHABET}]{{{SEED_LENGTH}}}\\Z")
_HEX = re.compile(r"(?:[0-9a-f]{2})*\Z")

#: Largest text accepted by the parsers of this module (a vinput of 256 trustees fits).
MAX_MESSAGE_BYTES = 1 << 24
_TAG_BYTES = 8
_KEY_PREFIX = "key|"
_IV_PREFIX = "iv|"


# -- JSON helpers ---------------------------------------------------------------------------------


def dumps(value: Any) -> str:
    """Compact JSON, fields in dict order, as belenios-tool writes it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def strict_object(
    text: object,
    fields: tuple[str, ...],
    where: str,
    *,
    max_size: int = MAX_MESSAGE_BYTES,
    optional: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Parse ``text`` as a JSON object with exactly ``fields`` (any order) and maybe some of
    ``optional``."""
    if not isinstance(text, str):
        raise EncodingError("expected a JSON document in a string", where=where)
    if len(text) > max_size:
        raise SizeError(f"{len(text)} characters, more than the limit of {max_size}", where=where)
    return _fields(strictjson.loads(text, max_size=max_size, where=where), fields, where, optional)


def _fields(
    v: object, fields: tuple[str, ...], where: str, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise EncodingError("expected a JSON object", where=where)
    missing = [k for k in fields if k not in v]
    if missing:
        raise EncodingError(f"missing field {missing[0]!r}", where=where)
    unknown = [k for k in v if k not in fields and k not in optional]
    if unknown:
        raise EncodingError(f"unknown field {unknown[0]!r}", where=where)
    return v


def _string(v: object, where: str) -> str:
    if not isinstance(v, str):
        raise EncodingError("expected a JSON string", where=where)
    return v


def proof_json(proof: Proof) -> dict[str, str]:
    return {"challenge": str(proof.challenge), "response": str(proof.response)}


def parse_proof(group: Group, v: object, where: str) -> Proof:
    o = _fields(v, ("challenge", "response"), where)
    return Proof(
        group.scalar(o["challenge"], where=f"{where}.challenge"),
        group.scalar(o["response"], where=f"{where}.response"),
    )


# -- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class ChannelKeys:
    """The four keys derived from a seed (the repr hides the secrets)."""

    sk: int
    vk: Element
    dk: int
    ek: Element

    def __repr__(self) -> str:
        return f"ChannelKeys(vk={str(self.vk)[:12]}..., ek={str(self.ek)[:12]}...)"


def generate_seed(rng: RandomSource) -> str:
    """A fresh seed: 22 characters drawn uniformly from the Base58 alphabet (128.9 bits)."""
    return "".join(SEED_ALPHABET[int(rng.below(len(SEED_ALPHABET)))] for _ in range(SEED_LENGTH))


def check_seed(text: object, where: str = "seed") -> str:
    """The seed of a ``.key`` file (surrounding whitespace, such as the final newline, ignored)."""
    if not isinstance(text, str) or not _SEED.match(text.strip()):
        raise EncodingError(
            f"a seed is {SEED_LENGTH} characters of the Base58 alphabet", where=where
        )
    return text.strip()


def derive_keys(ctx: Context, seed: str) -> ChannelKeys:
    """``sk = SHA256(sk|seed) mod q``, ``dk = SHA256(dk|seed) mod q`` and their public keys."""
    seed = check_seed(seed)
    sk = sha256_int(f"sk|{seed}") % ctx.q
    dk = sha256_int(f"dk|{seed}") % ctx.q
    return ChannelKeys(sk=sk, vk=ctx.gpow(sk), dk=dk, ek=ctx.gpow(dk))


# -- signed messages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedMessage:
    """``signed_msg``: a message and its signature (not yet checked when parsed)."""

    message: str
    signature: Proof


def _sig_prefix(message: str) -> str:
    return f"sigmsg|{message}|"


def sign(ctx: Context, sk: int, message: str, rng: RandomSource) -> SignedMessage:
    """Sign ``message``: challenge ``SHA256(sigmsg|M|A) mod q`` with ``A = g^w``."""
    w = rng.below(ctx.q)
    return SignedMessage(message, prove_schnorr(ctx, sk, w, _sig_prefix(message)))


def signed_json(signed: SignedMessage) -> dict[str, Any]:
    return {"message": signed.message, "signature": proof_json(signed.signature)}


def parse_signed(group: Group, v: object, where: str) -> SignedMessage:
    """A ``signed_msg`` given as a parsed JSON value."""
    o = _fields(v, ("message", "signature"), where)
    return SignedMessage(
        _string(o["message"], f"{where}.message"),
        parse_proof(group, o["signature"], f"{where}.signature"),
    )


def verify_signed(ctx: Context, vk: Element, signed: SignedMessage, where: str = "") -> str:
    """Check the signature of ``signed`` with ``vk``; return the message.

    Raises :class:`ProofError` naming ``where`` when it does not verify."""
    try:
        verify_schnorr(ctx, vk, signed.signature, _sig_prefix(signed.message))
    except ProofError:
        raise ProofError("signature does not verify", where=where) from None
    return signed.message


# -- encrypted messages ---------------------------------------------------------------------------


def _length_bytes(n: int) -> int:
    """CCM's ``L``: bytes needed to write the message length, at least 2."""
    L = 2
    while L < 4 and n >> (8 * L):
        L += 1
    return L


def _aes(gs: Element, alpha: Element, length: int) -> tuple[AESCCM, bytes]:
    key = int(sha256_int(f"{_KEY_PREFIX}{gs}")).to_bytes(32, "big")
    iv = int(sha256_int(f"{_IV_PREFIX}{alpha}")).to_bytes(32, "big")
    return AESCCM(key, tag_length=_TAG_BYTES), iv[: 15 - _length_bytes(length)]


#: The symmetric algorithm named by a 3.3 ``encrypted_msg``; without the field, AES-CCM (3.0).
AES_GCM = "AES-GCM"
_GCM_TAG_BYTES = 16


def _keys(gs: Element, alpha: Element) -> tuple[bytes, bytes]:
    key = int(sha256_int(f"{_KEY_PREFIX}{gs}")).to_bytes(32, "big")
    iv = int(sha256_int(f"{_IV_PREFIX}{alpha}")).to_bytes(32, "big")
    return key, iv


def encrypt(
    ctx: Context, ek: Element, message: str, rng: RandomSource, *, algorithm: str | None = None
) -> str:
    """``encrypted_msg`` of ``message`` for the encryption key ``ek``, serialised: AES-CCM
    without an ``algorithm`` field (as Belenios 2.0 and 3.0 write), or AES-GCM with
    ``"algorithm": "AES-GCM"`` (Belenios 3.3; the whole 32-byte ``SHA256(iv|alpha)`` is the
    initialisation vector, the tag 16 bytes)."""
    plaintext = message.encode()
    if len(plaintext) >= 1 << 32:
        raise SizeError("message too long for AES-CCM")
    if algorithm not in (None, AES_GCM):
        raise ValueError(f"unknown algorithm {algorithm!r}")
    r = rng.below(ctx.q)
    s = rng.below(ctx.q)
    alpha = ctx.gpow(r)
    gs = ctx.gpow(s)
    beta = ctx.mul(ctx.pow(ek, r), gs)
    enc = ctx.group.encode
    if algorithm == AES_GCM:
        key, iv = _keys(gs, alpha)
        data = AESGCM(key).encrypt(iv, plaintext, None)
        return dumps(
            {"algorithm": AES_GCM, "alpha": enc(alpha), "beta": enc(beta), "data": data.hex()}
        )
    aes, nonce = _aes(gs, alpha, len(plaintext))
    data = aes.encrypt(nonce, plaintext, None)
    return dumps({"alpha": enc(alpha), "beta": enc(beta), "data": data.hex()})


def decrypt(ctx: Context, dk: int, text: str, where: str = "encrypted message") -> str:
    """Decrypt a serialised ``encrypted_msg`` (AES-CCM, or the ``algorithm`` it names) with the
    decryption key ``dk``.

    Raises :class:`EncodingError` for a malformed message and :class:`ProofError` when the
    authentication tag does not verify (a wrong key or a tampered message)."""
    o = strict_object(text, ("alpha", "beta", "data"), where, optional=("algorithm",))
    algorithm = o.get("algorithm")
    if algorithm is not None and algorithm != AES_GCM:
        raise EncodingError(f"unknown algorithm {algorithm!r}", where=f"{where}.algorithm")
    alpha = ctx.group.element(o["alpha"], where=f"{where}.alpha")
    beta = ctx.group.element(o["beta"], where=f"{where}.beta")
    data_hex = _string(o["data"], f"{where}.data")
    tag = _GCM_TAG_BYTES if algorithm == AES_GCM else _TAG_BYTES
    if not _HEX.match(data_hex) or len(data_hex) < 2 * tag:
        raise EncodingError("data is not lowercase hexadecimal with a tag", where=f"{where}.data")
    data = bytes.fromhex(data_hex)
    gs = ctx.div(beta, ctx.pow(alpha, dk))
    length = len(data) - tag
    if length >= 1 << 32:
        raise SizeError("message too long", where=f"{where}.data")
    try:
        if algorithm == AES_GCM:
            key, iv = _keys(gs, alpha)
            plaintext = AESGCM(key).decrypt(iv, data, None)
        else:
            aes, nonce = _aes(gs, alpha, length)
            plaintext = aes.decrypt(nonce, data, None)
    except InvalidTag:
        raise ProofError(
            "cannot decrypt: authentication failed (wrong key or altered message)", where=where
        ) from None
    try:
        return plaintext.decode()
    except UnicodeDecodeError:
        raise EncodingError("decrypted message is not UTF-8", where=where) from None


# -- channels -------------------------------------------------------------------------------------


def send(
    ctx: Context,
    sk: int,
    recipient: Element,
    message: str,
    rng: RandomSource,
    *,
    algorithm: str | None = None,
) -> str:
    """``send(sk, recipient, message)`` of section 4.6.3, serialised."""
    channel = dumps({"recipient": ctx.group.encode(recipient), "message": message})
    signed = dumps(signed_json(sign(ctx, sk, channel, rng)))
    return encrypt(ctx, recipient, signed, rng, algorithm=algorithm)


def receive(
    ctx: Context, keys: ChannelKeys, sender_vk: Element, text: str, where: str = "channel message"
) -> str:
    """Open a message sent on a channel to the owner of ``keys`` by the owner of ``sender_vk``:
    decrypt it, check the sender's signature and that the recipient is ``keys.ek``."""
    signed_text = decrypt(ctx, keys.dk, text, where)
    signed = parse_signed(
        ctx.group, strict_object(signed_text, ("message", "signature"), where), where
    )
    verify_signed(ctx, sender_vk, signed, where)
    o = strict_object(signed.message, ("recipient", "message"), where)
    recipient = ctx.group.element(o["recipient"], where=f"{where}.recipient")
    if recipient != keys.ek:
        raise ConsistencyError("message was sent to another recipient", where=where)
    return _string(o["message"], f"{where}.message")
