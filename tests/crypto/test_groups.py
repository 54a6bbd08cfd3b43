"""Group constants, membership checks and canonical number parsing (SECURITY-CASES 8 to 11)."""

from __future__ import annotations

import gmpy2
import pytest
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.crypto.groups import (
    BELENIOS_2048,
    FINITE_FIELD_GROUPS,
    GROUPS,
    RFC_3526_2048,
    FixedBase,
    group_by_name,
)
from plebiscite.errors import EncodingError, MembershipError


@pytest.mark.parametrize("group", FINITE_FIELD_GROUPS.values(), ids=lambda g: g.name)
def test_constants(group):
    assert gmpy2.is_prime(group.p, 50)
    assert gmpy2.is_prime(group.q, 50)
    assert (group.p - 1) % group.q == 0
    assert gmpy2.powmod(group.g, group.q, group.p) == 1
    assert group.g != 1
    assert group.p.bit_length() == 2048


def test_known_sizes():
    assert BELENIOS_2048.q.bit_length() == 256
    assert RFC_3526_2048.safe_prime and not BELENIOS_2048.safe_prime
    k = (BELENIOS_2048.p - 1) // BELENIOS_2048.q
    assert k % 2 == 0 and k % 3 == 0  # the small factors that defeat naive batching


@pytest.mark.parametrize("group", FINITE_FIELD_GROUPS.values(), ids=lambda g: g.name)
def test_membership_rejects_small_order_and_out_of_range(group):
    p = group.p
    for bad in (mpz(0), p, p + 1, p - 1, 2 * p):
        assert not group.is_element(bad)
    with pytest.raises(MembershipError):
        group.element(str(p - 1))  # order 2
    with pytest.raises(EncodingError):
        group.element(str(p) + "0")  # longer than p allows: refused before conversion
    assert group.is_element(group.g)
    assert group.is_element(mpz(1))


def test_belenios_group_rejects_order_3_element():
    G = BELENIOS_2048
    k = (G.p - 1) // G.q
    # an element of order dividing 6 (outside the order-q subgroup)
    x = gmpy2.powmod(mpz(5), (G.p - 1) // 3, G.p)
    assert x != 1 and gmpy2.powmod(x, 3, G.p) == 1
    assert not G.is_element(x)
    # and one that mixes a subgroup element with it
    assert not G.is_element(x * G.g % G.p)
    assert k % 3 == 0


@pytest.mark.parametrize(
    "text",
    ["007", "-5", "+5", " 5", "5 ", "5e3", "5.0", "0x10", "", "١٢", "1_000"],
)
def test_non_canonical_numbers_rejected(text):
    with pytest.raises(EncodingError):
        BELENIOS_2048.element(text)


@pytest.mark.parametrize("value", [5, 5.0, None, True, ["5"]])
def test_numbers_must_be_strings(value):
    with pytest.raises(EncodingError):
        BELENIOS_2048.scalar(value)


def test_scalar_range():
    G = BELENIOS_2048
    assert G.scalar(str(G.q - 1)) == G.q - 1
    with pytest.raises(MembershipError):
        G.scalar(str(G.q))


def test_unknown_group():
    with pytest.raises(EncodingError):
        group_by_name("RFC-3526-1024")


_fb = {g.name: FixedBase(g.g, g) for g in FINITE_FIELD_GROUPS.values()}


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(list(FINITE_FIELD_GROUPS.values())),
    st.integers(min_value=-(2**2100), max_value=2**2100),
)
def test_fixed_base_matches_powmod(group, e):
    assert _fb[group.name].pow(e) == gmpy2.powmod(group.g, e % group.q, group.p)


def test_credential_checksum_accepts_every_belenios_credential():
    """belenios-tool's credentials, including checksums of 53 ("v", when c1 = 0 mod 53)."""
    import json

    from conftest import PEER_VECTORS
    from plebiscite.crypto.credentials import BASE58, format_credential, parse_credential

    for meta in PEER_VECTORS.glob("*.json"):
        for c in json.loads(meta.read_text())["private_credentials"]:
            assert parse_credential(c) == c
    assert parse_credential("dkK-ZJs-kDm-NTr-qfv") == "dkK-ZJs-kDm-NTr-qfv"
    first = "dkKZJskDmNTrqf"
    for wrong in BASE58.replace("v", ""):
        with pytest.raises(EncodingError):
            parse_credential(format_credential(first + wrong))


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(list(FINITE_FIELD_GROUPS.values())),
    st.integers(min_value=0, max_value=2**2048),
    st.lists(st.integers(min_value=0, max_value=2**256 - 1), min_size=1, max_size=4),
)
def test_powmod_backends_agree_with_gmp(group, base, exponents):
    """The OpenSSL backend (single and shared-squaring powers) equals gmpy2.powmod."""
    b = mpz(base) % group.p
    es = [mpz(e) for e in exponents]
    expected = [gmpy2.powmod(b, e, group.p) for e in es]
    assert [group.powmod(b, e) for e in es] == expected
    assert group.powmod.many(b, es) == expected


def test_the_small_test_group_is_a_safe_prime_group():
    """The group of the property tests where the group is not the point (tests/small_group.py)."""
    from small_group import SMALL_257 as S

    assert gmpy2.is_prime(S.q, 64) and gmpy2.is_prime(S.p, 64) and S.p == 2 * S.q + 1
    assert S.safe_prime and S.p.bit_length() == 257
    assert S.is_element(S.g) and S.g != 1 and S.powmod(S.g, S.q) == 1
    assert S.name not in GROUPS


def test_a_group_parsed_from_an_election_goes_to_another_process() -> None:
    """Its modular exponentiation made again where it is unpickled (a library handle and
    per-thread buffers do not pickle): the verified facts of an archive travel between
    processes with their election."""
    import pickle

    from plebiscite.crypto.groups import FiniteFieldGroup

    g = FiniteFieldGroup("copy", BELENIOS_2048.p, BELENIOS_2048.q, BELENIOS_2048.g)
    x = g.pow(g.g, 12345)
    copy = pickle.loads(pickle.dumps(g))
    assert copy.pow(copy.g, 12345) == x and copy.powmod.backend == g.powmod.backend
