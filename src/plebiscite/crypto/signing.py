"""Ed25519 signatures (RFC 8032) for plebiscite's own records (board checkpoints).

Belenios has no server signature; plebiscite's server signs what it shows (see
:mod:`plebiscite.protocol.checkpoints`) so that showing two different boards leaves a proof.

Keys are the raw 32-byte Ed25519 encodings, written in Base64 without padding (standard
alphabet, as :func:`~plebiscite.crypto.hashing.h_json`): 43 characters; a signature is 64 raw
bytes, 86 characters. Decoding is strict: the re-encoding must give back the same text.

A public key is checked when it is built: its encoding must be canonical (``y < p``) and the
point must lie in the prime-order subgroup and not be the neutral element. Without this check a
small-order key (the neutral element, say) would let anyone forge signatures that verify under
OpenSSL's cofactorless verification, and a "proof" of equivocation would prove nothing.

Signing is deterministic (RFC 8032); key generation takes its randomness from a
:class:`~plebiscite.crypto.rand.RandomSource` (:meth:`SigningKey.generate`), or is the identity
on a given 32-byte seed (:meth:`SigningKey.from_seed`, the deterministic twin).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import EncodingError, MembershipError, ProofError

__all__ = [
    "KEY_BYTES",
    "SIGNATURE_BYTES",
    "SigningKey",
    "VerifyKey",
    "b64decode",
    "b64encode",
    "check_public_key",
]

KEY_BYTES = 32
SIGNATURE_BYTES = 64

_B64 = re.compile(r"[A-Za-z0-9+/]*\Z")


def b64encode(data: bytes) -> str:
    """Base64 (standard alphabet) without padding."""
    return base64.b64encode(data).decode().rstrip("=")


def b64decode(text: object, length: int, *, where: str = "") -> bytes:
    """Strict inverse of :func:`b64encode` for exactly ``length`` bytes: no padding, no
    whitespace, no other alphabet, no non-zero trailing bits."""
    if not isinstance(text, str):
        raise EncodingError("expected a Base64 string", where=where)
    if len(text) != (4 * length + 2) // 3 or not _B64.match(text):
        raise EncodingError(
            f"expected {length} bytes in Base64 without padding ({(4 * length + 2) // 3} "
            "characters of A-Z a-z 0-9 + /)",
            where=where,
        )
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as e:
        raise EncodingError(f"invalid Base64: {e}", where=where) from None
    if len(data) != length or b64encode(data) != text:
        raise EncodingError("non-canonical Base64", where=where)
    return data


# -- edwards25519, only to check public keys -------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, -1, _P) % _P
_D2 = 2 * _D % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

_Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z
_NEUTRAL: _Point = (0, 1, 1, 0)


def _decode_point(raw: bytes) -> _Point | None:
    """RFC 8032 section 5.1.3; ``None`` if the encoding is not that of a curve point or is not
    canonical (``y >= p``, or ``x = 0`` with the sign bit set)."""
    y = int.from_bytes(raw, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vxx = v * x * x % _P
    if vxx == (-u) % _P:
        x = x * _SQRT_M1 % _P
    elif vxx != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _add(a: _Point, b: _Point) -> _Point:
    """RFC 8032 section 5.1.4 (complete: valid for doubling too)."""
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    A = (y1 - x1) * (y2 - x2) % _P
    B = (y1 + x1) * (y2 + x2) % _P
    C = t1 * _D2 * t2 % _P
    D = 2 * z1 * z2 % _P
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F % _P, G * H % _P, F * G % _P, E * H % _P)


def _is_neutral(a: _Point) -> bool:
    x, y, z, _ = a
    return x % _P == 0 and (y - z) % _P == 0


def _times_l(a: _Point) -> _Point:
    out = _NEUTRAL
    for bit in bin(_L)[2:]:
        out = _add(out, out)
        if bit == "1":
            out = _add(out, a)
    return out


@functools.lru_cache(maxsize=1024)
def _key_problem(raw: bytes) -> tuple[type[EncodingError | MembershipError], str] | None:
    point = _decode_point(raw)
    if point is None:
        return EncodingError, "not the canonical encoding of an Ed25519 point"
    if _is_neutral(point) or not _is_neutral(_times_l(point)):
        return MembershipError, "not a point of the prime-order subgroup"
    return None


def check_public_key(raw: bytes, *, where: str = "public key") -> None:
    """Raise unless ``raw`` is the canonical encoding of a point of the prime-order subgroup
    other than the neutral element (results cached: a server key is seen many times)."""
    if len(raw) != KEY_BYTES:
        raise EncodingError(f"an Ed25519 public key has {KEY_BYTES} bytes", where=where)
    problem = _key_problem(bytes(raw))
    if problem is not None:
        raise problem[0](problem[1], where=where)


# -- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyKey:
    """An Ed25519 public key (checked on construction, see the module docstring)."""

    raw: bytes

    def __post_init__(self) -> None:
        check_public_key(self.raw)

    @classmethod
    def from_base64(cls, text: object, *, where: str = "public key") -> VerifyKey:
        raw = b64decode(text, KEY_BYTES, where=where)
        try:
            return cls(raw)
        except (EncodingError, MembershipError) as e:
            raise type(e)(e.message, where=where) from None

    def to_base64(self) -> str:
        return b64encode(self.raw)

    def verify(self, message: bytes, signature: bytes, *, where: str = "") -> None:
        """Raise :class:`ProofError` unless ``signature`` is this key's signature of
        ``message``."""
        if len(signature) != SIGNATURE_BYTES:
            raise ProofError(f"an Ed25519 signature has {SIGNATURE_BYTES} bytes", where=where)
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            raise ProofError("invalid Ed25519 signature", where=where) from None


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key: its 32-byte seed (RFC 8032), never shown by ``repr``."""

    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.seed) != KEY_BYTES:
            raise EncodingError(f"an Ed25519 private key has {KEY_BYTES} bytes")

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """The key of a given 32-byte seed: the deterministic twin of :meth:`generate`."""
        return cls(bytes(seed))

    @classmethod
    def generate(cls, rng: RandomSource) -> SigningKey:
        """A fresh key from ``rng`` (:class:`~plebiscite.crypto.rand.SystemRandom` in
        production)."""
        return cls(int(rng.below(1 << (8 * KEY_BYTES))).to_bytes(KEY_BYTES, "big"))

    @classmethod
    def from_base64(cls, text: object, *, where: str = "private key") -> SigningKey:
        return cls(b64decode(text, KEY_BYTES, where=where))

    def to_base64(self) -> str:
        return b64encode(self.seed)

    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def public(self) -> VerifyKey:
        return VerifyKey(self._key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message`` (deterministic)."""
        return self._key().sign(message)
