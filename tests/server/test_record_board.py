"""The referendum's record board: published by the server through the lifecycle (the record,
the opening, the close, the outcome, each signed), downloaded by an observer with every
region's archive, and checked by ``plebiscite referendum verify``; altered copies are refused,
each with its reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cli_run import cli
from plebiscite.board.base import Head, Item
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import play_referendum
from plebiscite.client import Observer
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import BoardError
from plebiscite.protocol.archive import event_bytes, header_bytes, iter_members, member_bytes
from plebiscite.protocol.checkpoints import detect_equivocation
from plebiscite.protocol.record import (
    CHECKPOINT,
    CLOSED,
    OPENED,
    OUTCOME,
    RECORD,
    checkpoint_payload,
    read_record,
    record_board_id,
)
from plebiscite.server.app import create_app

TOKEN = "record-admin-token"
KEY = SigningKey.from_seed(b"\x07" * 32)
ATTACKER = SigningKey.from_seed(b"\x08" * 32)

Entries = list[tuple[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo referendum (four regions, as ``plebiscite serve --demo``'s, trustees 2 of 3)
    run to its outcome, then the record and every region's archive downloaded as an observer
    does."""
    d = tmp_path_factory.mktemp("record")
    board = SQLiteBoard(d / "board.db")
    app = create_app(board, admin_token=TOKEN, key=KEY)
    with TestClient(app) as client:
        final = play_referendum(
            client, TOKEN, voters=8, regions=4, rng=DeterministicRandom("record"), log=print
        )
        rid = final["id"]
        observer = Observer(client)
        record = observer.download_record(rid, d)
        archives = [
            observer.download_archive(observer.region_uuid(rid, r["name"]), d)
            for r in final["regions"]
        ]
        # the record board is not an election: no election route serves it
        assert client.get(f"/api/elections/{record_board_id(rid)}/archive").status_code == 404
        again = observer.download_record(rid, d / "again.bel")
    board.close()
    # after a restart: the same record board, never loaded as an election
    board = SQLiteBoard(d / "board.db")
    with TestClient(create_app(board, admin_token=TOKEN, key=KEY)) as client:
        observer = Observer(client)
        restarted = observer.download_record(rid, d / "restarted.bel")
        assert {e["uuid"] for e in observer.elections()} == {
            r["election"] for r in final["regions"]
        }
    board.close()
    assert restarted.read_bytes() == record.read_bytes()
    return {"final": final, "record": record, "archives": archives, "again": again, "dir": d}


def verify(record: Path, archives: list[Path], *extra: str) -> tuple[int, dict[str, Any]]:
    rc, out = cli(
        ["referendum", "verify", str(record), *map(str, archives), "--jobs", "1", "--json", *extra]
    )
    return rc, json.loads(out)


def entries(path: Path) -> tuple[int, Entries]:
    """The record board's timestamp and its lifecycle events (checkpoints left out)."""
    with path.open("rb") as f:
        members = list(iter_members(f))
    ts = members[0].mtime
    out: Entries = []
    data: dict[str, bytes] = {}
    for m in members[1:]:
        if m.kind == "data":
            data[m.hash] = m.content
            continue
        ev = json.loads(m.content)
        if ev["type"] != CHECKPOINT:
            out.append((ev["type"], json.loads(data[ev["payload"]])))
    return ts, out


def canonical(v: Any) -> bytes:
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rebuild(src: Path, dst: Path, edit: Callable[[Entries], None], key: SigningKey) -> Path:
    """A copy of the record board with its lifecycle payloads edited, chained and signed
    again with ``key`` (what a server holding that key could publish)."""
    ts, es = entries(src)
    edit(es)
    rid = es[0][1]["record"]["id"]
    bid = record_board_id(rid)
    out = [header_bytes(ts)]
    height, parent, previous = -1, None, None
    import hashlib

    from plebiscite.protocol.checkpoints import SignedCheckpoint

    def add(type_: str, raw: bytes) -> str:
        nonlocal height, parent
        digest = hashlib.sha256(raw).hexdigest()
        out.append(member_bytes(f"{digest}.data.json", raw, ts))
        height += 1
        ev = event_bytes(height, parent, type_, digest)
        parent = hashlib.sha256(ev).hexdigest()
        out.append(member_bytes(f"{parent}.event.json", ev, ts))
        return parent

    for type_, payload in es:
        if type_ == RECORD:
            payload = {**payload, "key": key.public().to_base64()}
        h = add(type_, canonical(payload))
        cp = checkpoint_payload(key, bid, height, h, "2030-01-01T00:00:00Z", type_, previous)
        add(CHECKPOINT, cp)
        previous = SignedCheckpoint.from_json(cp)
    dst.write_bytes(b"".join(out))
    return dst


def reasons(report: dict[str, Any]) -> str:
    return "\n".join(f"{f['check']}: {f['message']} {f['where']}" for f in report["findings"])


def test_the_record_board_holds_the_lifecycle_signed(downloaded):
    with downloaded["record"].open("rb") as f:
        board = read_record(iter_members(f))
    final = downloaded["final"]
    assert [t for t, _ in entries(downloaded["record"])[1]] == [RECORD, OPENED, CLOSED, OUTCOME]
    assert board.key == KEY.public() and len(board.checkpoints) == 4
    assert [c.checkpoint.phase for c in board.checkpoints] == ["setup", "open", "closed", "done"]
    assert board.checkpoints[-1].checkpoint.height == board.height - 1  # the Outcome event
    assert board.record.to_value() == final["record"]
    assert {r.election for r in board.regions} == {r["election"] for r in final["regions"]}
    assert board.outcome == final["outcome"]
    assert final["record_board"] == f"/api/referendums/{final['id']}/record"
    # appended to, never rewritten: a later download is the same board
    assert downloaded["again"].read_bytes() == downloaded["record"].read_bytes()


def test_referendum_verify_accepts_the_published_outcome(downloaded):
    rc, report = verify(
        downloaded["record"], downloaded["archives"], "--key", KEY.public().to_base64()
    )
    assert rc == 0, reasons(report)
    assert report["valid"] and report["findings"] == []
    assert report["outcome"] == report["published"] == downloaded["final"]["outcome"]
    assert [a["valid"] for a in report["archives"]] == [True] * 4
    rc, out = cli(  # the archives verified in parallel, one process each
        [
            "referendum",
            "verify",
            str(downloaded["record"]),
            *map(str, downloaded["archives"]),
            "--jobs",
            "2",
        ]
    )
    assert rc == 0, out
    verdict = downloaded["final"]["outcome"]["verdict"]
    assert f"verdict:    {verdict}" in out and out.count("region:") == 4
    assert out.rstrip().endswith("VALID: the published outcome is the one recomputed")


def test_referendum_verify_on_a_dask_cluster_gives_the_same_report(downloaded):
    """--cluster local:1: every archive's ballots on a Dask worker, the same report as one
    process; an altered copy refused there for the same reason."""
    key = ("--key", KEY.public().to_base64())
    record, archives = downloaded["record"], list(map(str, downloaded["archives"]))
    rc1, alone = verify(record, downloaded["archives"], *key)
    args = ["referendum", "verify", str(record), *archives, "--json", *key]
    rc, out = cli([*args, "--cluster", "local:1"])
    assert (rc, rc1) == (0, 0), out
    report, _ = json.JSONDecoder().raw_decode(out)  # the dashboard's line after it
    assert "dask dashboard: " in out
    assert report == alone

    def verdict(es: Entries) -> None:
        for t, p in es:
            if t == OUTCOME:
                v = p["outcome"]["verdict"]
                p["outcome"]["verdict"] = "failed" if v == "passed" else "passed"

    forged = rebuild(record, downloaded["dir"] / "cluster-verdict.bel", verdict, KEY)
    rc, out = cli(["referendum", "verify", str(forged), *archives, *key, "--cluster", "local:1"])
    assert rc == 1 and "the published outcome differs from the one recomputed" in out, out
    rc, out = cli([*args, "--cluster", "local:1", "--jobs", "2"])
    assert rc == 2 and "not both" in out


def _region(es: Entries, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    return [p["record"] for t, p in es if t in kinds]


def test_altered_copies_are_refused_each_with_its_reason(downloaded):
    d: Path = downloaded["dir"]
    src: Path = downloaded["record"]
    archives: list[Path] = downloaded["archives"]
    key = ("--key", KEY.public().to_base64())

    def forged(name: str, edit: Callable[[Entries], None], by: SigningKey = KEY) -> Path:
        return rebuild(src, d / f"{name}.bel", edit, by)

    # the copy rebuilt unchanged is accepted: what follows is refused for its change alone
    rc, report = verify(forged("same", lambda es: None), archives, *key)
    assert rc == 0, reasons(report)

    # a region's weight, changed in the record after the fact (both records, signed again)
    def weight(es: Entries) -> None:
        for r in _region(es, (RECORD, OPENED)):
            r["regions"][1]["weight"] = "3"

    rc, report = verify(forged("weight", weight), archives, *key)
    assert rc == 1 and "the published outcome differs from the one recomputed" in reasons(report)

    # ... changed at the opening only: the record is rewritten, not appended to
    def weight_at_opening(es: Entries) -> None:
        _region(es, (OPENED,))[0]["regions"][1]["weight"] = "3"

    rc, report = verify(forged("weight-open", weight_at_opening), archives, *key)
    assert rc == 1 and "differs from the record published at creation, at " in reasons(report)
    assert "regions[1].weight" in reasons(report)

    # ... by someone without the server's key
    rc, report = verify(forged("weight-attacker", weight, ATTACKER), archives, *key)
    assert rc == 1 and "not by the key given" in reasons(report)

    # ... edited in place: the member's name is no longer its hash
    raw = src.read_bytes()
    edited = d / "edited.bel"
    needle = b'"weight":"1"'
    assert needle in raw
    edited.write_bytes(raw.replace(needle, b'"weight":"3"', 1))
    rc, report = verify(edited, archives, *key)
    assert rc == 1 and "content hashes to" in reasons(report)

    # the rule's threshold
    def threshold(es: Entries) -> None:
        for r in _region(es, (RECORD, OPENED)):
            r["rule"]["threshold"] = "9/10"

    rc, report = verify(forged("threshold", threshold), archives, *key)
    assert rc == 1 and "the published outcome differs from the one recomputed" in reasons(report)

    # a swapped archive: one region's archive given for both
    rc, report = verify(src, [archives[0], archives[0]], *key)
    assert rc == 1
    assert "a second archive of region" in reasons(report)
    assert "no archive of region" in reasons(report)

    # an archive of another election than the region's (its fingerprint or uuid)
    def other_fingerprint(es: Entries) -> None:
        for t, p in es:
            if t == OPENED:
                p["regions"][0]["fingerprint"] = "A" * 43

    rc, report = verify(forged("fingerprint", other_fingerprint), archives, *key)
    assert rc == 1 and "the record names " + "A" * 43 in reasons(report)

    # the record's question (or its trustees) not those of the regions' elections
    def question(es: Entries) -> None:
        for r in _region(es, (RECORD, OPENED)):
            r["questions"][0]["question"] += " (reworded)"

    rc, report = verify(forged("question", question), archives, *key)
    assert rc == 1 and "differs from the referendum's question" in reasons(report)

    def trustees(es: Entries) -> None:
        _region(es, (OPENED,))[0]["trustees"]["hash"] = "0" * 64
        _region(es, (RECORD,))[0]["trustees"]["hash"] = "0" * 64

    rc, report = verify(forged("trustees", trustees), archives, *key)
    assert rc == 1 and f"the referendum names {'0' * 64}" in reasons(report)

    # a changed published verdict
    def verdict(es: Entries) -> None:
        for t, p in es:
            if t == OUTCOME:
                v = p["outcome"]["verdict"]
                p["outcome"]["verdict"] = "failed" if v == "passed" else "passed"

    rc, report = verify(forged("verdict", verdict), archives, *key)
    assert rc == 1 and "differs from the one recomputed at outcome.verdict" in reasons(report)

    # a removed region (everywhere on the record)
    def removed(es: Entries) -> None:
        for t, p in es:
            if t in (RECORD, OPENED):
                p["record"]["regions"].pop()
                p["record"]["rule"]["regions"] = {"count": 1}
            if t == OPENED:
                p["regions"].pop()
            if t == OUTCOME:
                p["results"].pop()
                p["outcome"]["regions"].pop()

    rc, report = verify(forged("removed", removed), archives, *key)
    assert rc == 1 and "is not an election of the record" in reasons(report)

    # a record board cut short of its outcome: nothing published to compare with
    def cut(es: Entries) -> None:
        del es[-1]

    rc, report = verify(forged("cut", cut), archives, *key)
    assert rc == 1 and "no outcome published on the record yet" in reasons(report)

    # the events in another order (the close before the opening)
    def reordered(es: Entries) -> None:
        es[1], es[2] = es[2], es[1]

    rc, report = verify(forged("reordered", reordered), archives, *key)
    assert rc == 1
    assert "event 'plebiscite.Closed', expected 'plebiscite.Opened'" in reasons(report)

    # an event removed from the middle (the close and its checkpoint): the chain is broken
    rc, report = verify(_drop_members(src, d / "gap.bel", 9, 13), archives, *key)
    assert rc == 1 and "height 6, expected 4" in reasons(report)

    # an election's archive given as the record
    rc, report = verify(archives[0], archives, *key)
    assert rc == 1 and "is this an election's archive?" in reasons(report)

    # an unsigned last event
    rc, report = verify(_drop_last_checkpoint(src, d / "unsigned.bel"), archives, *key)
    assert rc == 1 and "has no signed checkpoint after it" in reasons(report)


def test_a_record_board_takes_only_its_own_events_in_order(tmp_path):
    board = SQLiteBoard(tmp_path / "b.db")
    bid = record_board_id("some-referendum")
    board.create(bid, 1)
    with pytest.raises(BoardError, match="unknown event type 'Setup'"):
        board.append(bid, Head(), [Item("Setup", (b"{}",))])
    with pytest.raises(BoardError, match=r"plebiscite\.Record is the first event"):
        board.append(bid, Head(), [Item(OPENED, (b"{}",))])
    with pytest.raises(BoardError, match="exactly one data member"):
        board.append(bid, Head(), [Item(RECORD, (b"{}", b"{}"))])
    board.create("Ab3dEf5hJk7mNp", 1)
    with pytest.raises(BoardError, match=r"unknown event type 'plebiscite\.Record'"):
        board.append("Ab3dEf5hJk7mNp", Head(), [Item(RECORD, (b"{}",))])
    board.close()


def _drop_members(src: Path, dst: Path, start: int, end: int | None = None) -> Path:
    """A copy without the members ``start`` to ``end`` (the header is member 0)."""
    with src.open("rb") as f:
        members = list(iter_members(f))
    ts = members[0].mtime
    keep = members[1:start] + (members[end:] if end is not None else [])
    dst.write_bytes(header_bytes(ts) + b"".join(member_bytes(m.name, m.content, ts) for m in keep))
    return dst


def _drop_last_checkpoint(src: Path, dst: Path) -> Path:
    return _drop_members(src, dst, -2)  # the last checkpoint's data and event


def test_two_copies_of_the_record_differing_at_one_height_are_shown_to_conflict(downloaded):
    """Two record boards the server signed with different contents at one height (a split
    view: another verdict shown to some observers) are proved by their checkpoints alone."""
    d: Path = downloaded["dir"]

    def verdict(es: Entries) -> None:
        es[-1][1]["outcome"]["verdict"] = "quorum-not-met"

    other = rebuild(downloaded["record"], d / "split.bel", verdict, KEY)
    boards = []
    for path in (downloaded["record"], other):
        with path.open("rb") as f:
            boards.append(read_record(iter_members(f)))
    found = detect_equivocation([c for b in boards for c in b.checkpoints])
    kinds = {(e.kind, e.first.checkpoint.height) for e in found}
    assert ("conflict", boards[0].height - 1) in kinds  # the two Outcome events
    assert all(e.election == boards[0].board for e in found)
    # the command line shows it from the two saved files
    code, out = cli(["checkpoints", "compare", str(downloaded["record"]), str(other)])
    assert code == 1 and "SPLIT VIEW" in out and "CONFLICT (conflict)" in out
    code, out = cli(["checkpoints", "compare", str(downloaded["record"]), "--json"])
    assert code == 0 and json.loads(out)["consistent"] is True
    # an election board's checkpoints as the server serves them, beside the record
    served = d / "served.json"
    served.write_text(json.dumps([json.loads(c.to_json()) for c in boards[0].checkpoints]))
    code, out = cli(["checkpoints", "compare", str(served), str(downloaded["record"])])
    assert code == 0 and "CONSISTENT" in out
    code, out = cli(["checkpoints", "compare", str(served), str(other), "--json"])
    report = json.loads(out)
    assert code == 1 and report["equivocations"][0]["kind"] == "conflict"
    (d / "bad.json").write_text("[1]")
    code, out = cli(["checkpoints", "compare", str(d / "bad.json")])
    assert code == 2
