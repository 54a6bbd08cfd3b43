"""A partition's sorted runs on local disk: what keeps the memory of the partitioned reduce
(:mod:`plebiscite.protocol.reduce`) bounded whatever the election's size.

A :class:`DiskSpill` writes each run to its own file in a private directory (on a Dask worker
under the worker's local directory, which Dask deletes with the worker and purges when it
finds that of a worker killed; elsewhere under ``TMPDIR``, or ``directory``), reads it back
block by block and deletes it once merged; the directory goes with the spill (when the state
holding it is released, or the process ends).
A state moved between processes (a Dask worker's state fetched by another) takes its runs with
it: pickled, a spill carries its files' contents and unpickled writes them to a directory of
its own there, so the state stays whole on any machine.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from plebiscite.protocol.reduce import SPILL_RECORDS, PartitionState

__all__ = ["DiskSpill", "disk_partition"]

_LENGTH = struct.Struct(">Q")


class DiskSpill:
    """Runs in files (see the module): each block written as its length then its bytes."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._parent = None if directory is None else str(directory)
        self._open()

    def _open(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="plebiscite-runs-", dir=self._parent))
        self._next = 0
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._dir), True)

    @property
    def directory(self) -> Path:
        """Where the runs are."""
        return self._dir

    def write(self, blocks: Iterable[bytes]) -> int:
        self._next += 1
        with (self._dir / f"{self._next}.run").open("wb") as f:
            for b in blocks:
                f.write(_LENGTH.pack(len(b)))
                f.write(b)
        return self._next

    def read(self, run: Any) -> Iterator[bytes]:
        with (self._dir / f"{run}.run").open("rb") as f:
            while head := f.read(_LENGTH.size):
                (n,) = _LENGTH.unpack(head)
                yield f.read(n)

    def drop(self, run: Any) -> None:
        with_path = self._dir / f"{run}.run"
        with_path.unlink(missing_ok=True)

    def stored(self) -> int:
        return 0

    def close(self) -> None:
        """The directory and its runs deleted."""
        self._finalizer()

    def __getstate__(self) -> dict[str, Any]:
        runs = {int(p.stem): p.read_bytes() for p in self._dir.glob("*.run")}
        return {"parent": self._parent, "next": self._next, "runs": runs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._parent = _worker_directory() or state["parent"]
        if self._parent is not None and not os.path.isdir(self._parent):
            self._parent = None  # another machine: its temporary directory
        self._open()
        self._next = state["next"]
        for run, data in state["runs"].items():
            (self._dir / f"{run}.run").write_bytes(data)


def disk_partition(bound: int = SPILL_RECORDS, directory: str | None = None) -> PartitionState:
    """A new partition's state that spills its runs to local disk beyond ``bound`` records
    (made where the state is to live: a Dask worker, this process)."""
    return PartitionState(bound, DiskSpill(directory or _worker_directory()))


def _worker_directory() -> str | None:
    """The local directory of the Dask worker running this task, if any."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return str(get_worker().local_directory)
    except ValueError:  # not in a worker's task
        return None
