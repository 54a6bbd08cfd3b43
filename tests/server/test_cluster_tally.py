"""The server's encrypted tally through the pipeline of ``plebiscite verify``: a whole
referendum (a ranking question: the server's shuffle, the trustees' shuffles and decryptions)
closed with its tallies (and its shuffles' and partial decryptions' checks) on a Dask
LocalCluster of two worker processes (started once for the module) and on two local worker
processes gives the same outcome, valid archives (ours and belenios-tool's verify) whose
tallies are the sequential producer's, the tasks reading their ranges of the board (SQLite,
and PostgreSQL for the local workers); a runner that fails during the close, or workers that
cannot open the board, append nothing, say why, and the closer finishes once they work
again; an unreachable scheduler stops ``plebiscite serve`` at its start, naming the
address."""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import socket
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from distributed import Client, get_task_stream
from fastapi.testclient import TestClient

from plebiscite.board import open_board
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import play_referendum, status
from plebiscite.cli.main import main
from plebiscite.client import PartyError, Voter
from plebiscite.compute.cluster import DaskRunner
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.archive import iter_members
from plebiscite.protocol.reduce import PARTITION_BALLOTS, PoolRunner
from plebiscite.protocol.tally import encrypted_tally_of_board
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app
from plebiscite.service.tallyread import slice_reader
from protocol.test_tally_on import published_tally
from server.test_lifecycle import TOKEN, YES, A, belenios_verify
from server.test_times import open_referendum, wait_for_phase

KEY = SigningKey.from_seed(b"\x0c" * 32)


def _play(
    db: Path | str, at_once: int | None = None, **where: Any
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A whole referendum of 4 voters a region in 2 regions on the board at ``db`` (a SQLite
    file, a PostgreSQL DSN), its tallies computed ``where``, ``at_once`` regions closed at
    once (None: the server's default); its final status and its regions' archives."""
    board = open_board(str(db))
    try:
        app = create_app(board, admin_token=TOKEN, key=KEY, **where)
        app.state.referendums.workers.small = 0  # worker processes even for these few ballots
        if at_once is not None:
            app.state.referendums.workers.at_once = at_once
        with TestClient(app) as c:
            final = play_referendum(
                c,
                TOKEN,
                voters=4,
                regions=2,
                rng=DeterministicRandom("cluster-tally"),
                log=lambda _: None,
                ranking=True,
            )
            archives = {
                r["name"]: c.get(f"/api/elections/{r['election']}/archive").content
                for r in final["regions"]
            }
    finally:
        board.close()
    return final, archives


def _outcome(final: dict[str, Any]) -> Any:
    """The verdict and each region's counts (a non-homomorphic question's ballots in any
    order: the shuffles' order differs)."""

    def counts(result: list[Any]) -> list[Any]:
        return [sorted(q) if q and isinstance(q[0], list) else q for q in result]

    regions = [(r["name"], counts(r["result"])) for r in final["regions"]]
    return final["outcome"]["verdict"], regions


def test_a_cluster_and_local_workers_close_a_referendum_alike(
    dask_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same outcome, valid archives; the shuffles' proofs and the partial decryptions'
    (the trustees' and the server's) checked by the workers too, by parts of one and two
    ciphertexts here."""
    from plebiscite.protocol import verifier

    monkeypatch.setattr(verifier, "DECRYPTION_CHUNK", 2)
    monkeypatch.setattr(verifier, "SHUFFLE_CHUNK", 1)
    with get_task_stream(dask_client) as tasks:
        on_cluster, cluster_archives = _play(
            tmp_path / "cluster.db", runner=DaskRunner(dask_client, 2)
        )
    # the tasks read their ranges of the board: none carries a ballot
    assert any(t["key"].startswith("_tally_range") for t in tasks.data)
    assert not any(t["key"].startswith("_tally_chunk") for t in tasks.data)
    assert any(t["key"].startswith("checked_decryptions") for t in tasks.data)
    assert any(t["key"].startswith("shuffle_part_of") for t in tasks.data)
    local, local_archives = _play(tmp_path / "local.db", jobs=2)
    assert on_cluster["phase"] == local["phase"] == "done"
    assert _outcome(on_cluster) == _outcome(local)
    for archives in (cluster_archives, local_archives):
        for name, archive in archives.items():
            report = verify_archive(lambda d=archive: io.BytesIO(d))
            assert report.valid and report.status == "done", name
            sequential = encrypted_tally_of_board(iter_members(io.BytesIO(archive)))
            assert published_tally(archive) == sequential.json()[0], name
    region = on_cluster["regions"][0]
    belenios_verify(tmp_path, region["election"], cluster_archives[region["name"]])


def test_a_cluster_closes_regions_at_once(
    dask_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two regions closed at once on one cluster's runner (each region's close waits for the
    other's to have begun: one after the other, the wait would time out), for the outcome of
    closing them one after the other."""
    from plebiscite.service import referendum

    both = threading.Barrier(2, timeout=60)
    close_region = referendum._close_region

    def meeting(s: Any, workers: Any = None) -> None:
        both.wait()
        close_region(s, workers)

    runner = DaskRunner(dask_client, 2)
    alone, _ = _play(tmp_path / "alone.db", at_once=1, runner=runner)
    monkeypatch.setattr(referendum, "_close_region", meeting)
    together, archives = _play(tmp_path / "together.db", at_once=2, runner=runner)
    assert together["phase"] == alone["phase"] == "done"
    assert _outcome(together) == _outcome(alone)
    for name, archive in archives.items():
        assert verify_archive(lambda d=archive: io.BytesIO(d)).valid, name
    gc.collect()
    assert not runner._pinned  # where the states were, forgotten with them


def test_the_cluster_parses_the_credential_list_by_pieces(
    dask_client: Client, tmp_path: Path
) -> None:
    """The list's pieces read and parsed on the workers, each partition's credentials kept
    there for its end, the map step's setup made there from the pieces: the sequential
    tally; the same when the pieces are not in the form taken there (the list parsed whole
    on a worker for the setup, and here for the end)."""
    from server.test_tally_ranges import NAMES, _by_ranges, _rolled, load_vector

    board = SQLiteBoard(tmp_path / "board.db")
    try:
        uuid = load_vector(board, NAMES[0])  # weighted, with revotes
        sequential = encrypted_tally_of_board(board.members(uuid)).json()[0]
        with get_task_stream(dask_client) as tasks:
            got = _by_ranges(board, uuid, DaskRunner(dask_client, 2), 2, **_rolled(board, uuid, 60),
                             ballots=6 * PARTITION_BALLOTS)  # fmt: skip
        assert got == sequential
        keys = [t["key"] for t in tasks.data]
        assert sum(k.startswith("_roll_slice") for k in keys) > 1
        assert any(k.startswith("merge_listed") for k in keys)
        assert any(k.startswith("_setup_rolled") for k in keys)
        read = slice_reader(board.location, uuid)

        def spaced(seq: int, start: int, size: int) -> bytes:
            return read(seq, start, size).replace(b"[", b"[ ")

        got = _by_ranges(board, uuid, DaskRunner(dask_client, 2), 2,
                         **_rolled(board, uuid, 60, spaced))  # fmt: skip
        assert got == sequential
    finally:
        board.close()


def test_local_workers_read_a_postgresql_board(pg_server: Any, tmp_path: Path) -> None:
    with pg_server.fresh_database() as dsn:
        final, archives = _play(dsn, jobs=2)
    assert final["phase"] == "done"
    for name, archive in archives.items():
        report = verify_archive(lambda d=archive: io.BytesIO(d))
        assert report.valid and report.status == "done", name
        sequential = encrypted_tally_of_board(iter_members(io.BytesIO(archive)))
        assert published_tally(archive) == sequential.json()[0], name
    here, _ = _play(tmp_path / "board.db", runner=PoolRunner(None, 1))
    assert _outcome(final) == _outcome(here)


def test_a_runner_that_fails_appends_no_tally_and_the_closer_tries_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ProcessPoolExecutor(1)
    broken.shutdown()  # every task refused: a runner gone in the middle of the server's life
    rng = DeterministicRandom("cluster-tally-fails")
    board = SQLiteBoard(tmp_path / "board.db")
    try:
        app = create_app(board, admin_token=TOKEN, key=KEY, runner=PoolRunner(broken, 1))
        refs = app.state.referendums
        refs.close_interval = 0.1
        with TestClient(app) as c, caplog.at_level(logging.ERROR, "plebiscite"):
            admin, rid, _, creds = open_referendum(c, rng)
            Voter(c, rid, "North", creds["North"]["a1"], rng).vote([YES, A])
            with pytest.raises(PartyError) as e:
                admin.close(rid)
            assert (e.value.status, e.value.code) == (503, "tally_workers")
            assert "could not be computed on the cluster" in e.value.message
            assert "not published" in e.value.message
            st = status(c, rid)
            assert "could not be computed" in st["close_error"]
            assert st["regions"][0]["status"] == "closed"
            for region in st["regions"]:
                archive = c.get(f"/api/elections/{region['election']}/archive").content
                report = verify_archive(lambda d=archive: io.BytesIO(d))
                assert report.valid and report.status in ("open", "closed")
            assert any("could not be computed" in r.getMessage() for r in caplog.records)
            time.sleep(0.3)  # the closer fails the same way meanwhile: nothing appended
            assert status(c, rid)["regions"][0]["status"] == "closed"

            refs.workers.runner = PoolRunner(None, 1)  # the runner works again
            wait_for_phase(c, rid, "decrypting")
            deadline = time.monotonic() + 60  # the regions are tallied one after the other
            st = status(c, rid)
            while {r["status"] for r in st["regions"]} != {"tallied"}:
                assert time.monotonic() < deadline, st["regions"]
                time.sleep(0.1)
                st = status(c, rid)
            assert "close_error" not in st
    finally:
        board.close()


def test_workers_that_cannot_open_the_board_append_no_tally(tmp_path: Path) -> None:
    rng = DeterministicRandom("cluster-tally-no-board")
    board = SQLiteBoard(tmp_path / "board.db")
    elsewhere = tmp_path / "not-there" / "board.db"
    try:
        app = create_app(board, admin_token=TOKEN, key=KEY, jobs=2)
        refs = app.state.referendums
        refs.close_interval = 0.1
        refs.workers.small = 0
        refs.workers.board_location = str(elsewhere)  # where the workers do not find it
        with TestClient(app) as c:
            admin, rid, _, creds = open_referendum(c, rng)
            Voter(c, rid, "North", creds["North"]["a1"], rng).vote([YES, A])
            with pytest.raises(PartyError) as e:
                admin.close(rid)
            assert (e.value.status, e.value.code) == (503, "tally_workers")
            assert "2 local worker processes" in e.value.message
            assert "BoardUnreadableError" in e.value.message
            assert str(tmp_path) not in e.value.message
            st = status(c, rid)
            assert st["regions"][0]["status"] == "closed"
            for region in st["regions"]:
                archive = c.get(f"/api/elections/{region['election']}/archive").content
                report = verify_archive(lambda d=archive: io.BytesIO(d))
                assert report.valid and report.status in ("open", "closed")
            assert not elsewhere.parent.exists()  # nothing made there

            refs.workers.board_location = None  # the board where the server has it
            deadline = time.monotonic() + 60
            while {r["status"] for r in status(c, rid)["regions"]} != {"tallied"}:
                assert time.monotonic() < deadline, status(c, rid)
                time.sleep(0.1)
            st = status(c, rid)
            assert "close_error" not in st
    finally:
        refs.workers.close()
        board.close()


def test_an_unreachable_scheduler_stops_the_start_up(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    db = tmp_path / "board.db"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["serve", "--database", str(db), "--cluster", address, "--cluster-timeout", "1"])
    assert rc == 2
    assert f"--cluster: cannot reach the Dask scheduler at {address}" in err.getvalue()
    assert not db.exists()  # the server did not start
    with contextlib.redirect_stderr(io.StringIO()):
        rc = main(["serve", "--database", str(db), "--cluster", "local:2", "--jobs", "2"])
    assert rc == 2


def test_a_runner_that_fails_checking_a_partial_decryption_refuses_nothing(
    tmp_path: Path,
) -> None:
    """A partial decryption whose proofs the workers could not check (their runner gone) is
    503 ``tally_workers``, naming where it ran: not refused, and nothing appended."""
    from types import SimpleNamespace

    from plebiscite.service import referendum
    from plebiscite.service.errors import Unavailable
    from plebiscite.service.workers import TallyWorkers

    broken = ProcessPoolExecutor(1)
    broken.shutdown()

    def precheck(owner: int, raw: bytes, *, runner: Any, **kw: Any) -> None:
        runner.result(runner.map(len, raw))  # the verifier's map step, on the runner

    verifier = SimpleNamespace(tally=[[None] * 3], precheck_partial_decryption=precheck)
    s = SimpleNamespace(uuid="u", verifier=verifier)
    workers = TallyWorkers(PoolRunner(broken, 1))
    with pytest.raises(Unavailable) as e:
        referendum._check_partial_decryption(s, 2, b"{}", workers)  # type: ignore[arg-type]
    assert e.value.code == "tally_workers"
    assert "could not be checked on the cluster" in e.value.message
    assert "nothing appended" in e.value.message
