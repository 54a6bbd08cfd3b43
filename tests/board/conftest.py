"""Fixtures of the board tests: a fresh database per test, on every backend."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    """Where a fresh database lives: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "board.sqlite")
    else:
        with request.getfixturevalue("pg_server").fresh_database() as dsn:
            yield dsn
