"""The Ed25519 group on curve25519-dalek gives libsodium's results: the same points for every
operation, constant-time and variable-time, and the same refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.crypto import ed25519
from plebiscite.crypto.context import Context, DalekContext
from plebiscite.crypto.ed25519 import IDENTITY, DalekEd25519, Ed25519, Point
from plebiscite.crypto.groups import ED25519
from plebiscite.errors import MembershipError

pytestmark = pytest.mark.skipif(
    ed25519.BACKEND != "curve25519-dalek", reason="the native library is not built"
)

SODIUM = Ed25519()
DALEK = ED25519
P = 2**255 - 19
scalars = st.integers(min_value=0, max_value=SODIUM.q - 1)


def _point(y: int, sign: int = 0) -> Point:
    return Point((y | (sign << 255)).to_bytes(32, "little"))


#: A point of order 2, (0, -1), and one of order 4 (y = 0).
ORDER_2 = _point(P - 1)
ORDER_4 = _point(0)


def test_backend_is_named() -> None:
    assert isinstance(DALEK, DalekEd25519)
    assert ed25519.BACKEND == DALEK.backend == "curve25519-dalek"
    assert isinstance(Context(DALEK), DalekContext)


@settings(max_examples=25, deadline=None)
@given(scalars, scalars, scalars, scalars)
def test_same_points_as_libsodium(a: int, b: int, x: int, y: int) -> None:
    pa, pb = SODIUM.gpow(a), SODIUM.gpow(b)
    assert DALEK.gpow(a) == pa
    assert DALEK.pow(pa, x) == SODIUM.pow(pa, x)
    assert DALEK.mul(pa, pb) == SODIUM.mul(pa, pb)
    assert DALEK.div(pa, pb) == SODIUM.div(pa, pb)
    assert DALEK.inv(pa) == SODIUM.inv(pa)
    expected = SODIUM.pow2(pa, x, pb, y)
    assert DALEK.pow2(pa, x, pb, y) == expected
    assert DALEK.pow2_public(pa, x, pb, y) == expected
    assert DALEK.product_public([(pa, x), (pb, y)]) == expected
    assert DALEK.gpow_times_public(x, pb, y) == SODIUM.gpow_times_public(x, pb, y)
    table = DALEK.precompute_public((DALEK.g, pa))
    assert DALEK.precomputed_public(table, (x, y), ((pb, a),)) == SODIUM.product_public(
        [(SODIUM.g, x), (pa, y), (pb, a)]
    )
    assert DALEK.pow_many(pa, [x, 0, y]) == SODIUM.pow_many(pa, [x, 0, y])
    assert DALEK.product([pa, pb, IDENTITY, pa]) == SODIUM.product([pa, pb, IDENTITY, pa])


def test_edge_cases() -> None:
    g = DALEK.g
    assert DALEK.product([]) == IDENTITY
    assert DALEK.product([g]) == g
    assert DALEK.product([g, DALEK.inv(g)]) == IDENTITY
    assert DALEK.product_public([]) == IDENTITY
    assert DALEK.pow2(g, 0, g, 0) == IDENTITY
    assert DALEK.gpow_times_public(0, IDENTITY, 5) == IDENTITY
    assert DALEK.gpow_times_public(-1, g, 1) == IDENTITY
    assert DALEK.pow_many(IDENTITY, [1, 2]) == [IDENTITY, IDENTITY]
    assert DALEK.pow_many(g, []) == []
    ctx = Context(DALEK, DALEK.gpow(7))
    assert ctx.ypow_times_public(3, g, 2) == DALEK.gpow(23)
    assert ctx.gypow_times_public(-23, 3, g, 2) == IDENTITY
    assert ctx.g_inverse_pow(4) == DALEK.gpow(-4) == ctx.g_inverse_pow(4)


def test_same_membership_as_libsodium() -> None:
    mixed = Point(SODIUM.mul(SODIUM.g, ORDER_2))
    refused = [ORDER_2, ORDER_4, mixed, _point(2), _point(1, sign=1), _point(P + 1)]
    for x in refused:
        assert not DALEK.is_element(x) and not SODIUM.is_element(x)
        with pytest.raises(MembershipError):
            DALEK.member_and_powers(x, [3], "alpha")
    for x in (IDENTITY, DALEK.g, DALEK.gpow(12345), DALEK.generator(3)):
        assert DALEK.is_element(x) and SODIUM.is_element(x)
    # not a curve point at all: refused by the arithmetic too
    with pytest.raises(MembershipError):
        DALEK.gpow_times_public(1, _point(2), 1)
    with pytest.raises(MembershipError):
        DALEK.product([DALEK.g, _point(2)])


def test_same_embedding_and_generators_as_libsodium() -> None:
    for values in ([0], [1, 2, 3], [255] * 30):
        assert DALEK.of_ints(values) == SODIUM.of_ints(values)
    assert [DALEK.generator(i) for i in range(-1, 6)] == [SODIUM.generator(i) for i in range(-1, 6)]
