"""Discrete logarithms of results in O(sqrt(W)) and bounded memory, in every group."""

from __future__ import annotations

import tracemalloc

import pytest

from plebiscite.crypto.dlog import BABY_STEPS, discrete_log
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
