"""Random damage to a valid archive: the verifier always answers with a report, never an
exception, and never calls the damaged archive valid."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import peer_vector
from plebiscite.protocol.verifier import verify_archive

DATA = peer_vector("open")[0].read_bytes()


def _verify(data: bytes):
    return verify_archive(lambda: io.BytesIO(data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, len(DATA) - 1), delta=st.integers(1, 255))
def test_any_changed_byte_is_detected(pos, delta):
    data = bytearray(DATA)
    data[pos] = (data[pos] + delta) % 256
    report = _verify(bytes(data))
    assert not report.valid


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(1, len(DATA) - 1))
def test_truncation_is_detected_or_a_valid_prefix(cut):
    report = _verify(DATA[:cut])
    if report.valid:
        # a cut exactly at a member boundary leaves a shorter, valid board
        assert cut % 512 == 0


@settings(max_examples=30, deadline=None)
@given(junk=st.binary(min_size=1, max_size=2048))
def test_arbitrary_bytes_are_rejected(junk):
    assert not _verify(junk).valid
