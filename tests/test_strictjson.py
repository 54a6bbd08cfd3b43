"""strictjson's bound on the memory of a parse: the estimate is counted before parsing and is
at least what CPython's json takes, whatever the shape of the text."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.errors import SizeError
from plebiscite.strictjson import loads, memory_estimate

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**40), 10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


def peak_of_parse(data: bytes) -> int:
    tracemalloc.start()
    try:
        value = loads(data, max_size=len(data))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        del value


@settings(max_examples=30, deadline=None)
@given(value=values, spaces=st.booleans())
def test_the_estimate_is_at_least_what_the_parse_takes(value: Any, spaces: bool) -> None:
    one = json.dumps(value, ensure_ascii=False, separators=(", ", ": ") if spaces else (",", ":"))
    # many copies: the parser's fixed cost (a few pages) is then negligible
    text = "[" + ",".join([one] * (100_000 // len(one) + 1)) + "]"
    data = text.encode()
    peak = peak_of_parse(data)
    assert memory_estimate(data) >= peak
    assert memory_estimate(text) >= peak


@pytest.mark.parametrize(
    "one",
    ["[]", "{}", '{"a":0}', "0", '"ab"', '"\u00e9\U0001f600"', "1.5", '{"alpha":"a","beta":"b"}'],
)
def test_the_estimate_bounds_the_densest_shapes(one: str) -> None:
    data = ("[" + ",".join([one] * 100_000) + "]").encode()
    assert memory_estimate(data) >= peak_of_parse(data)


def test_a_parse_that_would_take_more_than_the_limit_is_refused_before_it_starts() -> None:
    data = ("[" + ",".join(["[]"] * 1_000_000) + "]").encode()
    estimate = memory_estimate(data)
    assert estimate > 20 * len(data)
    with pytest.raises(SizeError) as info:
        loads(data, max_size=len(data), where="tally", max_memory=estimate - 1)
    assert info.value.where == "tally"
    assert f"would take about {estimate} bytes of memory" in info.value.message
    assert len(loads(data, max_size=len(data), max_memory=estimate)) == 1_000_000
