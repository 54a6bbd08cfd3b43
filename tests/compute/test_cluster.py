"""Verification on a Dask cluster: the same verdict and report as ``--jobs 1``, on a
LocalCluster of two worker processes (started once for the module), through the command line
on a running scheduler, on separate ``dask scheduler`` and ``dask worker`` processes, and
with a worker that dies in the middle of a task."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from distributed import Client

from indexed_cases import VECTORS, ballot_bytes_changed, write_cases
from plebiscite.cli.main import main
from plebiscite.compute.cluster import (
    LOCAL_CONFIG,
    ClusterError,
    DaskRunner,
    connect,
    map_ballots_at,
    scan_range_at,
    verify_on_cluster,
)
from plebiscite.protocol.verifier import Verifier

DASK = Path(sys.executable).parent / "dask"


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_cases(tmp_path_factory.mktemp("cases"))


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def test_the_cluster_gives_the_report_of_one_process(
    dask_client: Client, cases: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every case, its shuffles and partial decryptions checked by parts on the workers (a
    ciphertext a part), as one process checks them whole."""
    from plebiscite.protocol import verifier

    monkeypatch.setattr(verifier, "SHUFFLE_CHUNK", 1)
    monkeypatch.setattr(verifier, "DECRYPTION_CHUNK", 1)
    for name, path in cases.items():
        alone = Verifier(lambda p=path: p.open("rb"), name=str(path)).run()
        on_cluster = verify_on_cluster(path, dask_client)
        assert on_cluster.to_json() == alone.to_json(), name


def test_a_ballot_changed_in_place_is_found_on_the_worker(
    dask_client: Client, tmp_path: Path
) -> None:
    path = ballot_bytes_changed(tmp_path)
    report = verify_on_cluster(path, dask_client)
    assert not report.valid
    assert any(f.check == "ballot" and "content hashes to" in f.message for f in report.findings)


def test_the_command_line_on_a_running_scheduler(
    dask_client: Client, cases: dict[str, Path]
) -> None:
    address = dask_client.scheduler_info()["address"]
    for name in ("belenios3/revotes-weighted", "signature-3.x"):
        path = str(cases[name])
        rc1, out1, _ = _run(["verify", path, "--jobs", "1"])
        rc, out, err = _run(["verify", path, "--cluster", address])
        assert (rc, out) == (rc1, out1), name
        assert "dask dashboard: " in err
        rc1, json1, _ = _run(["verify", path, "--jobs", "1", "--json"])
        rc, json2, _ = _run(["verify", path, "--cluster", address, "--json"])
        assert (rc, json.loads(json2)) == (rc1, json.loads(json1))
    assert rc1 == 1


def test_an_unreachable_scheduler_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nobody listens there
    address = f"tcp://127.0.0.1:{port}"
    path = str(VECTORS / "belenios3/ed25519.bel")
    rc, out, err = _run(["verify", path, "--cluster", address, "--cluster-timeout", "0.5"])
    assert rc == 2 and out == ""
    assert f"cannot reach the Dask scheduler at {address}" in err
    rc, _, err = _run(["verify", path, "--cluster", "tcp://nowhere"])
    assert rc == 2 and "is neither local:N" in err and "nor tcp://HOST:PORT" in err
    rc, _, err = _run(["verify", path, "--cluster", "local:1", "--jobs", "2"])
    assert rc == 2 and "not both" in err


def _die_once(marker: str, step: Callable[..., Any], *args: Any) -> Any:
    """A map step (the scan of a range, or a chunk's), but the first worker to run it dies in
    the middle (after reading)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return step(*args)
    os.close(fd)
    os._exit(1)


def _steps(step: Callable[..., Any]) -> dict[str, dict[str, Any]]:
    """``verify_on_cluster``'s options with ``step`` (given the real step) as the scan of a
    range, and as the map step of chunks read by the index (no scan)."""
    return {
        "scan": {"scan": functools.partial(step, scan_range_at)},
        "chunks": {"scan": None, "map_ballots": functools.partial(step, map_ballots_at)},
    }


@pytest.mark.parametrize("way", ["scan", "chunks"])
def test_a_worker_that_dies_mid_task_changes_nothing(
    dask_client: Client, cases: dict[str, Path], tmp_path: Path, way: str
) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    path = cases["belenios3/revotes-weighted"]
    marker = tmp_path / "died"
    options = _steps(functools.partial(_die_once, str(marker)))[way]
    report = verify_on_cluster(path, dask_client, **options)
    assert marker.exists()  # a worker died
    assert report.to_json() == Verifier(lambda: path.open("rb"), name=str(path)).run().to_json()
    dask_client.wait_for_workers(2, timeout=120)


def _die(step: Callable[..., Any], *args: Any) -> Any:
    os._exit(1)


def test_a_task_that_kills_every_worker_gives_no_verdict(dask_client: Client) -> None:
    """(The scan's task: the chunks' are the same tasks to Dask, and every worker killed
    four times over takes long to come back on a loaded machine.)"""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    path = VECTORS / "belenios3/ed25519.bel"
    with pytest.raises(ClusterError, match="failed on every worker that ran it"):
        verify_on_cluster(path, dask_client, **_steps(_die)["scan"])
    dask_client.wait_for_workers(2, timeout=120)


def _elsewhere(step: Callable[..., Any], path: str, *args: Any) -> Any:
    return step(path + ".gone", *args)


@pytest.mark.parametrize("way", ["scan", "chunks"])
def test_a_worker_that_cannot_read_the_archive_gives_no_verdict(
    dask_client: Client, way: str
) -> None:
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with pytest.raises(ClusterError, match=r"a worker cannot read the archive .*\.gone"):
        verify_on_cluster(VECTORS / "belenios3/ed25519.bel", dask_client, **_steps(_elsewhere)[way])


def _letters(i: int) -> tuple[str, ...]:
    return tuple(f"{i}{c}" for c in "abc")


def _extended(state: list[str], *parts: str) -> list[str]:
    return [*state, *parts]


def test_the_parts_of_a_map_go_to_each_worker_once(dask_client: Client) -> None:
    """Each state's step gets item ``p`` of every map; a map's parts for the states on
    another worker are chosen there by one task when they are fewer than half the parts (none
    for the states on its own worker; the whole value goes to a worker that takes half or
    more)."""
    runner = DaskRunner(dask_client, 2)
    states = [runner.reduce(list) for _ in range(3)]  # on the two workers in turn: 2 and 1
    maps = [runner.map(_letters, i) for i in range(4)]
    for m in maps:
        runner.wait(m)
    parts = runner.parts(maps, states)
    chosen = {a.handle.key for items in parts for a in items if a.handle.key.startswith("_select")}
    two = runner._pinned[states[0].key]  # the worker of states 0 and 2
    at = dask_client.who_has(maps)
    on_two = [m for m in maps if two in at[m.key]]
    assert 0 < len(on_two) < len(maps)  # placed on both
    assert len(chosen) == len(on_two)  # the other worker's one part of three chosen there
    states = [runner.reduce(_extended, s, *items) for s, items in zip(states, parts, strict=True)]
    assert [runner.result(s) for s in states] == [[f"{i}{c}" for i in range(4)] for c in "abc"]


def _until(path: str) -> str:
    """A step that runs until ``path`` exists (a minute at most)."""
    for _ in range(1200):
        if os.path.exists(path):
            break
        time.sleep(0.05)
    return path


def _refused() -> None:
    raise ValueError("a step that fails")


def test_the_first_step_to_end_is_taken_first(dask_client: Client, tmp_path: Path) -> None:
    """``wait_first`` gives a step that has run, not the oldest one still running on the other
    worker, and raises what a step raised."""
    runner = DaskRunner(dask_client, 2)
    go = str(tmp_path / "go")
    slow = runner.map(_until, go)  # on one worker, the next on the other
    fast = runner.map(_letters, 1)
    try:
        assert runner.wait_first([slow, fast]) is fast
    finally:
        Path(go).touch()
    assert runner.wait_first([slow]) is slow and runner.result(slow) == go
    with pytest.raises(ValueError, match="a step that fails"):
        runner.wait_first([runner.map(_refused)])


def test_separate_dask_scheduler_and_worker_processes(tmp_path: Path) -> None:
    scheduler_file = tmp_path / "scheduler.json"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    scheduler = subprocess.Popen(
        [str(DASK), "scheduler", "--port", "0", "--dashboard-address", ":0",
         "--scheduler-file", str(scheduler_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 30
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = subprocess.Popen(
            [str(DASK), "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        address = json.loads(scheduler_file.read_text())["address"]
        path = str(VECTORS / "belenios3/nh.bel")
        rc1, out1, _ = _run(["verify", path, "--jobs", "1"])
        rc, out, err = _run(["verify", path, "--cluster", address, "--cluster-timeout", "30"])
        assert (rc, out) == (rc1, out1) and rc == 0, err
        assert "dask dashboard: http://" in err
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)


def _config(keys: list[str]) -> list[Any]:
    import dask

    return [dask.config.get(k) for k in keys]


def test_a_local_cluster_runs_with_its_configuration() -> None:
    """``local:N``: the scheduler and each worker process take :data:`LOCAL_CONFIG` (the
    client's configuration is as it was after)."""
    import dask

    keys = list(LOCAL_CONFIG)
    before = [dask.config.get(k) for k in keys]
    with connect("local:1") as client:
        assert list(client.run(_config, keys).values()) == [list(LOCAL_CONFIG.values())]
        assert client.run_on_scheduler(_config, keys) == list(LOCAL_CONFIG.values())
    assert [dask.config.get(k) for k in keys] == before


def test_the_command_line_starts_a_local_cluster(cases: dict[str, Path]) -> None:
    path = str(cases["signature-2.0"])
    rc1, out1, _ = _run(["verify", path, "--jobs", "1"])
    rc, out, err = _run(["verify", path, "--cluster", "local:1"])
    assert (rc, out) == (rc1, out1) and rc == 1
    assert "dask dashboard: http://127.0.0.1:" in err


def test_verifying_without_a_cluster_does_not_import_dask() -> None:
    """Dask is imported only with --cluster: every other command starts as fast as before."""
    code = (
        "import sys; from plebiscite.cli.main import main; "
        f"rc = main(['verify', {str(VECTORS / 'belenios3/ed25519.bel')!r}, '--jobs', '1']); "
        "assert rc == 0 and 'distributed' not in sys.modules and 'dask' not in sys.modules"
    )
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_the_generator_makes_the_same_archive_on_the_cluster(
    dask_client: Client, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from plebiscite.compute.cluster import executor_of
    from plebiscite.compute.generate import Plan, generate_archive

    plan = Plan(voters=40, seed="cluster", revotes=3)
    executor, workers = executor_of(dask_client)
    generate_archive(tmp_path / "dask.bel", plan, executor, workers)
    with ThreadPoolExecutor(1) as one:
        generate_archive(tmp_path / "here.bel", plan, one, 1)
    assert (tmp_path / "dask.bel").read_bytes() == (tmp_path / "here.bel").read_bytes()


def test_an_archive_read_by_url_gives_the_same_report(
    dask_client: Client, cases: dict[str, Path]
) -> None:
    """Each worker reads its own byte ranges of the archive by HTTP range requests (fsspec),
    as the client reads the index and the rest: the same report as the local file."""
    from range_server import serving

    for name in ("belenios3/revotes-weighted", "signature-3.x"):
        path = cases[name]
        local = Verifier(lambda p=path: p.open("rb")).run()
        with serving(path.parent) as base:
            url = f"{base}/{path.name}"
            remote = verify_on_cluster(url, dask_client, name=str(path))
            assert remote.valid == local.valid
            assert remote.result == local.result
            assert [f.describe() for f in remote.findings] == [f.describe() for f in local.findings]
            rc, out, err = _run(["verify", url, "--jobs", "1", "--json"])
            assert rc == (0 if local.valid else 1), err
            assert json.loads(out)["valid"] == local.valid
    rc, out, err = _run(["verify", "http://127.0.0.1:9/none.bel", "--jobs", "1"])
    assert rc == 2 and "none.bel" in err


def test_archives_verified_at_once_give_the_facts_of_one_after_the_other(
    dask_client: Client, cases: dict[str, Path]
) -> None:
    """A referendum's or a poll's archives verified several at once on one cluster (each by a
    client process of its own): the facts of each, in the order given, as one after the
    other gives them."""
    from plebiscite.cli.referendum import _verify_all, _verify_on_cluster

    paths = [cases[n] for n in ("belenios3/ed25519", "list-twice", "belenios/weighted")]
    paths += [cases["belenios3/revotes-weighted"], cases["signature-3.x"]]
    address = dask_client.scheduler_info()["address"]
    with contextlib.redirect_stderr(io.StringIO()):
        at_once = _verify_on_cluster(paths, address, 30, at_once=3)
    one_by_one = _verify_all(paths, 1)

    def facts(fs: list[Any]) -> list[Any]:  # each election parsed again where it was read
        return [dataclasses.replace(f, election=None) for f in fs]

    assert facts(at_once) == facts(one_by_one)
    assert [f.election.uuid for f in at_once] == [f.election.uuid for f in one_by_one]
    assert [f.valid for f in at_once] == [True, False, True, True, False]
