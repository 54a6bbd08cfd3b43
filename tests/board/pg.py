"""A throwaway PostgreSQL server for the tests, started by ``scripts/pg-test-server``.

Start one with :meth:`PgTestServer.start` for the test session and use
:meth:`PgTestServer.fresh_database` for each test. With ``PLEBISCITE_TEST_PG_DSN`` set
(``scripts/pg-test-server run pytest ...`` sets it) the tests use that server and leave it
running. A server that cannot start is an error, not a reason to skip: CI must run the
PostgreSQL tests (``./dev test`` installs PostgreSQL).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pg-test-server"


class PgTestServerError(RuntimeError):
    pass


class PgTestServer:
    def __init__(self, dsn: str, *, owned: bool) -> None:
        self.dsn = dsn
        self.owned = owned

    @classmethod
    def start(cls, *, dedicated: bool = False) -> PgTestServer:
        """The server of ``PLEBISCITE_TEST_PG_DSN`` if set (and not ``dedicated``), else a new
        one."""
        dsn = os.environ.get("PLEBISCITE_TEST_PG_DSN")
        if dsn and not dedicated:
            return cls(dsn, owned=False)
        out = _script("start")
        if not out.strip():
            raise PgTestServerError(f"{SCRIPT} start printed no DSN")
        return cls(out.strip().splitlines()[-1], owned=True)

    def stop(self) -> None:
        if self.owned:
            _script("stop", self.dsn)

    def crash(self) -> None:
        """Stop the server as a crash would (immediate shutdown: the WAL is replayed at
        :meth:`restart`)."""
        assert self.owned, "only a server started here can be crashed"
        _script("crash", self.dsn)

    def restart(self) -> None:
        _script("restart", self.dsn)

    def dsn_for(self, dbname: str) -> str:
        """The server's DSN for database ``dbname``, as a ``postgresql://`` URI."""
        params = conninfo_to_dict(self.dsn)
        params.pop("dbname", None)
        query = urlencode({k: str(v) for k, v in params.items()})
        return f"postgresql:///{quote(dbname)}?{query}"

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new empty database for one test (dropped afterwards); yields its DSN."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield self.dsn_for(name)
        finally:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

    def __repr__(self) -> str:
        return f"PgTestServer({conninfo_to_dict(self.dsn)})"


def _script(*args: str) -> str:
    try:
        proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PgTestServerError(f"{SCRIPT} {args[0]}: {exc}") from exc
    if proc.returncode != 0:
        raise PgTestServerError(
            f"{SCRIPT} {args[0]} failed (status {proc.returncode}):\n{proc.stderr.strip()}"
        )
    return proc.stdout
