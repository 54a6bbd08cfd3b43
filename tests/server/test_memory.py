"""The server's allocator settings (:mod:`plebiscite.server.memory`): applied where the C
library is glibc, as on this machine, and harmless to call again."""

from __future__ import annotations

import platform

import pytest

from plebiscite.server.memory import return_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_the_allocator_returns_freed_memory_on_glibc() -> None:
    assert return_freed_memory() is True
    assert return_freed_memory() is True  # the same settings again
    big = bytearray(64 << 20)  # mapped on its own, unmapped when freed
    del big
