"""The record board read from a board's stored members (plebiscite.protocol.record), and the
outcome compared with results given directly: pure, no server."""

from __future__ import annotations

import json

import pytest

from plebiscite.board.base import Head, Item, StoredMember, plan_append
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import ConsistencyError
from plebiscite.protocol.checkpoints import SignedCheckpoint
from plebiscite.protocol.record import (
    CHECKPOINT,
    CLOSED,
    OPENED,
    OUTCOME,
    RECORD,
    ArchiveFacts,
    check_outcome,
    checkpoint_payload,
    closed_payload,
    opened_payload,
    outcome_payload,
    read_record,
    record_board_id,
    record_payload,
)
from plebiscite.protocol.referendum import RegionResult, compute_outcome

from .test_referendum import UUIDS, make, region_result

KEY = SigningKey.from_seed(b"\x05" * 32)
TIME = "2030-05-12T19:00:00Z"
FINGERPRINTS = {u: f"fingerprint-of-{u}" for u in UUIDS}


def publish(events: list[tuple[str, bytes]]) -> list[StoredMember]:
    """The members a server appends for ``events``, each followed by its checkpoint."""
    referendum = make()
    bid = record_board_id(referendum.id)
    members: list[StoredMember] = []
    head, previous = Head(), None
    for type_, raw in events:
        item = Item(type_, (raw,))
        _, new = plan_append(head, [item], len(members))
        assert new.height is not None and new.hash is not None
        cp = checkpoint_payload(KEY, bid, new.height, new.hash, TIME, type_, previous)
        added, head = plan_append(head, [item, Item(CHECKPOINT, (cp,))], len(members))
        members += added
        previous = SignedCheckpoint.from_json(cp)
    return members


def results() -> dict[str, RegionResult]:
    return {
        "North": RegionResult(*region_result(6, 4)),
        "South": RegionResult(*region_result(3, 5, 1)),
        "East": RegionResult(*region_result(2, 1)),
    }


def lifecycle() -> list[tuple[str, bytes]]:
    r = make()
    outcome = compute_outcome(r, results())
    return [
        (RECORD, record_payload(r, KEY.public())),
        (OPENED, opened_payload(r, FINGERPRINTS)),
        (CLOSED, closed_payload(TIME)),
        (OUTCOME, outcome_payload(r, results(), outcome)),
    ]


def facts(res: dict[str, RegionResult] | None = None) -> list[ArchiveFacts]:
    r = make()
    res = res or results()
    return [
        ArchiveFacts(
            f"{reg.election}.bel",
            reg.election,
            FINGERPRINTS[reg.election],
            True,
            None,
            list(res[reg.name].result or ()),
            res[reg.name].roll,
            res[reg.name].voted,
        )
        for reg in r.regions
    ]


def test_a_board_read_from_its_stored_members_and_its_outcome_agree():
    board = read_record(publish(lifecycle()))
    assert board.next_event is None and board.closed == TIME
    outcome, findings = check_outcome(board, facts())
    assert findings == [] and outcome is not None
    assert json.loads(outcome.to_json()) == board.outcome


def test_a_board_in_progress_says_what_it_waits_for():
    board = read_record(publish(lifecycle()[:2]))
    assert board.next_event == CLOSED and board.opened and board.outcome is None
    outcome, findings = check_outcome(board, facts())
    assert outcome is not None
    assert [f.message for f in findings] == ["no outcome published on the record yet"]


def test_a_published_result_other_than_the_archives_is_named_with_its_region():
    other = results()
    other["South"] = RegionResult(*region_result(5, 3, 1))  # the archive says otherwise
    board = read_record(publish(lifecycle()))
    _, findings = check_outcome(board, facts(other))
    text = "\n".join(f.describe() for f in findings)
    assert "result: published result [[1, 3, 5], [0, 0]], the archive says [[1, 5, 3]" in text
    assert "(region 'South')" in text and "North" not in text
    assert "the published outcome differs from the one recomputed" in text


def test_the_record_at_the_opening_must_be_the_one_created():
    events = lifecycle()
    other = make(title="Another title")
    events[1] = (OPENED, opened_payload(other, FINGERPRINTS))
    with pytest.raises(ConsistencyError, match=r"at record\.title"):
        read_record(publish(events))


def test_a_pool_published_at_the_opening_is_the_board_s_credential_count():
    r = make()
    north, south = r.regions[0], r.regions[1]
    rolls = {reg.name: results()[reg.name].roll for reg in r.regions}
    events = lifecycle()
    pools = {north.election: rolls["North"]}
    events[1] = (OPENED, opened_payload(r, FINGERPRINTS, pools))
    board = read_record(publish(events))
    assert [x.pool for x in board.regions] == [rolls["North"], None, None]
    outcome, findings = check_outcome(board, facts())
    assert findings == [] and outcome is not None
    # a board with another number of credentials than the pool published
    events[1] = (OPENED, opened_payload(r, FINGERPRINTS, {south.election: rolls["South"] + 1}))
    _, findings = check_outcome(read_record(publish(events)), facts())
    assert [f.check for f in findings][:1] == ["archive"]
    assert f"published a pool of {rolls['South'] + 1} for region 'South'" in findings[0].message
    # a pool of no credential is not a pool
    events[1] = (OPENED, opened_payload(r, FINGERPRINTS, {north.election: 0}))
    with pytest.raises(Exception, match="pool"):
        read_record(publish(events))
