"""Discrete logarithms of results in O(sqrt(W)) and bounded memory, in every group."""

from __future__ import annotations

import tracemalloc

import pytest

from plebiscite.crypto.dlog import BABY_STEPS, discrete_log, discrete_logs
from plebiscite.crypto.groups import BELENIOS_2048, ED25519, RFC_3526_2048

GROUPS = [ED25519, BELENIOS_2048, RFC_3526_2048]


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize(("n", "bound"), [(0, 0), (0, 10), (10, 10), (7, 1000), (999_999, 10**6)])
def test_small_results(group, n, bound) -> None:
    assert discrete_log(group, group.gpow(n), bound) == n


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_out_of_range_is_none(group) -> None:
    assert discrete_log(group, group.gpow(5001), 5000) is None
    assert discrete_log(group, group.gpow(3), -1) is None


@pytest.mark.parametrize("group", [BELENIOS_2048], ids=lambda g: g.name)
def test_large_bound_uses_bounded_memory(group) -> None:
    # above BABY_STEPS^2 the kangaroo method runs: memory does not grow with the bound
    bound = BABY_STEPS * BABY_STEPS + 1
    n = bound - 12_345_678
    tracemalloc.start()
    try:
        assert discrete_log(group, group.gpow(n), bound) == n
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


BIG = BABY_STEPS * BABY_STEPS + 7


@pytest.mark.parametrize(
    ("group", "ns"),
    [
        # the kangaroo method above BABY_STEPS^2: values on both sides of the tame kangaroo's
        # start, equal ones (their wild kangaroos walk together) and the ends of the range
        (BELENIOS_2048, [BIG, 0, 3, BIG // 2 + 1, BIG - 99_999, 123_456_789, 123_456_789]),
        (ED25519, [BIG // 2 + 12_345, BIG // 2 - 6_789]),
    ],
    ids=lambda v: v.name if hasattr(v, "name") else len(v),
)
def test_the_values_of_a_tally_are_found_together(group, ns) -> None:
    assert discrete_logs(group, [group.gpow(n) for n in ns], BIG) == ns


def test_values_outside_the_range_are_none_and_the_others_found() -> None:
    ns = [17, BIG + 5, 2_000_000_000]
    found = discrete_logs(BELENIOS_2048, [BELENIOS_2048.gpow(n) for n in ns], BIG)
    assert found == [17, None, 2_000_000_000]
