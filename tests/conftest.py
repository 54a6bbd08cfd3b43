"""Shared fixtures: the checked-in election archives written by belenios-tool."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

VECTORS = TESTS / "vectors"
PEER_VECTORS = VECTORS / "belenios"


def peer_vector(name: str) -> tuple[Path, dict[str, Any]]:
    archive = PEER_VECTORS / f"{name}.bel"
    meta = json.loads((PEER_VECTORS / f"{name}.json").read_text())
    return archive, meta


def peer_vector_names() -> list[str]:
    return sorted(p.stem for p in PEER_VECTORS.glob("*.bel"))


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A Dask client of a LocalCluster of two worker processes (one thread each), for the
    tests of one module (Dask imported here only: the other tests do not pay for it)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture
def belenios_tool() -> str:
    path = shutil.which("belenios-tool")
    if path is None:
        pytest.skip("belenios-tool is not installed (./dev test installs it)")
    return path


@pytest.fixture
def belenios_accepts(belenios_tool: str) -> Callable[[Path], None]:
    """``belenios_accepts(directory)``: ``belenios-tool election verify --dir DIRECTORY``
    succeeds (the test fails with its error output otherwise)."""

    def check(directory: Path) -> None:
        p = subprocess.run(
            [belenios_tool, "election", "verify", "--dir", str(directory)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert p.returncode == 0, p.stderr

    return check


@pytest.fixture(autouse=True, scope="session")
def _checkpoint_cache(tmp_path_factory):
    """Verification checkpoints of the CLI go to a temporary directory, not the user's cache."""
    import os

    os.environ["PLEBISCITE_CACHE"] = str(tmp_path_factory.mktemp("plebiscite-cache"))


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the whole session (Debian's binaries, started by
    ``scripts/pg-test-server`` in a temporary directory on a free port, or the server of
    ``PLEBISCITE_TEST_PG_DSN``); each test takes a fresh database of it."""
    from board.pg import PgTestServer, PgTestServerError

    try:
        server = PgTestServer.start()
    except PgTestServerError as exc:
        pytest.fail(
            f"PostgreSQL could not start, so nothing can be tested on PostgreSQL: {exc}",
            pytrace=False,
        )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID Connect provider for the whole session (``tests/oidc/provider.mjs``:
    panva's oidc-provider under Node, on a free port) with one client, whose redirect URI may
    have any loopback port, and the accounts voter1 .. voter40 (:mod:`oidc`)."""
    import oidc

    try:
        provider = oidc.start()
    except oidc.ProviderError as exc:
        pytest.fail(f"the OpenID Connect provider could not start: {exc}", pytrace=False)
    yield provider
    provider.stop()
