"""The Ed25519 group on libsodium: encoding, strict membership, arithmetic, embedding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.crypto.ed25519 import ED25519, IDENTITY, Point
from plebiscite.errors import EncodingError, MembershipError

G = ED25519
P = 2**255 - 19
scalars = st.integers(min_value=0, max_value=G.q - 1)


def _enc(y: int, sign: int = 0) -> str:
    """The specification's string of the 256-bit integer ``y | sign << 255``."""
    return format(y | (sign << 255), "064x")


def test_generator_and_identity_encodings() -> None:
    # the base point: y = 4/5, x even
    y = 4 * pow(5, -1, P) % P
    assert G.encode(G.g) == _enc(y)
    assert G.encode(IDENTITY) == _enc(1)
    assert str(G.g) == G.encode(G.g)
    assert G.element(_enc(1)) == IDENTITY
    assert G.element(G.encode(G.g)) == G.g


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (G.encode(G.gpow(2)).upper(), EncodingError),
        ("0" * 63, EncodingError),
        ("0" * 65, EncodingError),
        (" " + "0" * 63, EncodingError),
        (12, EncodingError),
        (_enc(P + 1), MembershipError),  # y >= p: not canonical (the encoding of y = 1)
        (_enc(P - 1), MembershipError),  # (0, -1): order 2
        (_enc(1, sign=1), MembershipError),  # the identity with the sign bit of x set
        (_enc(0), MembershipError),  # a point of order 4
        (_enc(2), MembershipError),  # not on the curve
    ],
)
def test_strict_membership_refuses(text: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        G.element(text)


def test_torsion_component_is_refused() -> None:
    # g + T for T of order 2, (0, -1): on the curve, not in the prime-order subgroup
    torsion = Point(bytes.fromhex(_enc(P - 1))[::-1])
    from nacl._sodium import ffi, lib

    out = ffi.new("unsigned char[32]")
    assert lib.crypto_core_ed25519_add(out, G.g, torsion) == 0
    mixed = Point(ffi.buffer(out, 32)[:])
    assert not G.is_element(mixed)
    with pytest.raises(MembershipError):
        G.element(str(mixed))
    with pytest.raises(MembershipError):
        G.member_and_powers(mixed, [5], "alpha")


@settings(max_examples=40, deadline=None)
@given(scalars, scalars)
def test_arithmetic_is_a_group(a: int, b: int) -> None:
    ga, gb = G.gpow(a), G.gpow(b)
    assert G.mul(ga, gb) == G.gpow(a + b)
    assert G.div(ga, gb) == G.gpow(a - b)
    assert G.pow(ga, b) == G.gpow(a * b)
    assert G.mul(ga, G.inv(ga)) == IDENTITY
    assert G.pow2(ga, 3, gb, 5) == G.gpow(3 * a + 5 * b)
    assert G.member_and_powers(ga, [b, 0], "x") == [G.pow(ga, b), IDENTITY]
    assert G.element(G.encode(ga)) == ga


def test_order_and_identity_edge_cases() -> None:
    assert G.gpow(0) == IDENTITY
    assert G.gpow(G.q) == IDENTITY
    assert G.pow(IDENTITY, 12345) == IDENTITY
    assert G.pow(G.g, 0) == IDENTITY
    assert G.gpow(-1) == G.inv(G.g)
    assert G.product([]) == IDENTITY


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=255), min_size=1, max_size=30))
def test_embedding_round_trip(values: list[int]) -> None:
    x = G.of_ints(values)
    assert G.is_element(x)
    assert G.to_ints(x, len(values)) == values
    # the smallest padding: every smaller one is not a group element
    z = int.from_bytes(x, "little")
    eps = z & ((1 << 14) - 1)
    assert G.embed(values, eps) == x
    assert all(G.embed(values, e) is None for e in range(eps))


def test_embedding_limits() -> None:
    with pytest.raises(ValueError):
        G.of_ints([256])
    with pytest.raises(ValueError):
        G.of_ints([1] * 31)


def test_generators_are_distinct_group_elements() -> None:
    hs = [G.generator(i) for i in range(-1, 8)]
    assert len(set(hs)) == len(hs)
    assert all(G.is_element(h) and h not in (IDENTITY, G.g) for h in hs)
