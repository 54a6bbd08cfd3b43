"""The server process's memory allocator, set so that what a large request used goes back to
the system once freed.

A server holding large boards builds and parses records of tens of megabytes (a shard's voter
roll, its public credentials, an opening's plan). With glibc's defaults a freed block that
large raises the threshold above which blocks are mapped on their own, so the next ones are
carved from the heap arenas (one a thread, up to eight a core) and stay there, fragmented,
after they are freed: the resident memory keeps the high-water mark of every request. Fixed
thresholds (blocks of 128 KiB or more mapped on their own and unmapped when freed, the heap
trimmed past 128 KiB free) and two arenas keep it near what is in use. Nothing is done where
the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["return_freed_memory"]

#: mallopt's parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: the size from which a block is mapped on its own, and the free heap kept before trimming
THRESHOLD = 128 << 10
#: the allocator's arenas (threads share them)
ARENAS = 2


def return_freed_memory() -> bool:
    """Set the allocator's thresholds and arenas (see the module); False where there is no
    glibc ``mallopt`` (nothing changed)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = [
        mallopt(_M_ARENA_MAX, ARENAS),
        mallopt(_M_MMAP_THRESHOLD, THRESHOLD),
        mallopt(_M_TRIM_THRESHOLD, THRESHOLD),
    ]
    return all(x == 1 for x in done)
