"""A database that cannot be written for a while, as the server sees it: a real condition of
the database, not a seam of the code.

- SQLite: the database file, its write-ahead log and their directory are made immutable
  (``chattr +i``, which root cannot write through either, unlike ``chmod``), as a file system
  remounted read-only would be: writes through the connections already open fail (an I/O
  error), and a connection opened meanwhile is opened read-only by SQLite. The shared-memory
  index (``-shm``) is left as it is: SQLite writes it through ``mmap``, and an immutable one
  would crash the process (SIGBUS), not refuse a write.
- PostgreSQL: ``ALTER DATABASE ... SET default_transaction_read_only = on`` and the sessions
  open on the database ended (as a failover to a read-only standby does), so every session,
  the new ones included, is read-only; then ``RESET``: the sessions that started meanwhile
  stay read-only, new ones are not.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

__all__ = ["immutable", "read_only"]


def _chattr(flag: str, paths: list[Path]) -> None:
    p = subprocess.run(
        ["chattr", flag, *map(str, paths)], capture_output=True, text=True, check=False
    )
    if p.returncode != 0:
        if flag == "+i":
            subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True, check=False)
        pytest.skip(
            "a file cannot be made immutable here (chattr needs CAP_LINUX_IMMUTABLE and a file "
            f"system with the attribute): {p.stderr.strip()}"
        )


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """``paths`` (files, directories) cannot be changed by anyone, root included, until the
    block ends (``chattr +i``)."""
    _chattr("+i", list(paths))
    try:
        yield
    finally:
        _chattr("-i", list(paths))


def _superuser_dsn(url: str) -> tuple[str, str]:
    params = conninfo_to_dict(url)
    name = str(params.pop("dbname"))
    params["dbname"] = "postgres"
    return " ".join(f"{k}='{v}'" for k, v in params.items()), name


@contextmanager
def read_only(url: str) -> Iterator[None]:
    """The database at ``url`` (an SQLite file or a ``postgresql://`` URL) cannot be written
    until the block ends."""
    if "://" not in url:
        db = Path(url)
        paths = [db.parent, db, *(p for p in [Path(f"{url}-wal")] if p.exists())]
        _chattr("+i", paths)
        try:
            assert not os.access(db, os.W_OK)
            yield
        finally:
            _chattr("-i", paths)
        return
    admin, name = _superuser_dsn(url)
    ident = sql.Identifier(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(ident)
        )
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    try:
        yield
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only").format(ident)
            )
