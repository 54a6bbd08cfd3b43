"""A referendum with a Lists question (Belenios 3.x) beside a yes/no one, through every party
against a real ``plebiscite serve``: the voters choose a list and some of its candidates, the
trustees decrypt each region's nested tally, the rule decides on the yes/no question, the
status gives every region's Lists result, and each region's archive passes plebiscite's
verifier and belenios-tool 3.0. Lists questions are refused, naming the question, in a group
of the 2.0 record and as the question of a rule."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import httpx

from plebiscite.client import Administrator, Observer, PartyError, Trustee, Voter, connect
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.verifier import verify_archive

from .conftest import TOKEN

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))
from lists_referendum import LISTS, RESULTS, ROLL, VOTES, YES, record  # noqa: E402
from peers import peer_verifies  # noqa: E402


def test_a_referendum_with_a_lists_question_runs_to_its_result(served, tmp_path):
    rng = DeterministicRandom("client lists referendum")
    http = connect(served.url)
    admin = Administrator(http, TOKEN)
    observer = Observer(served.url)
    created = admin.create(record("lists-ref"), ROLL)
    rid = created["id"]
    status = observer.status(rid)
    assert status["group"] == "Ed25519"
    assert status["record"]["questions"][1] == LISTS
    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    opened = admin.open(rid)
    private = {
        reg["name"]: [c["credential"] for c in reg["credentials"]] for reg in opened["regions"]
    }
    first = Voter(http, rid, "South", private["South"][1], rng)
    first.vote([YES, VOTES["South"][1][1]])  # replaced by the revote below
    for name, ballots in VOTES.items():
        for cred, choices in zip(private[name], ballots, strict=True):
            Voter(http, rid, name, cred, rng).vote(choices)
    admin.close(rid)
    served_tally = observer.region_tally(rid, "North")["encrypted_tally"]
    assert [len(row) for row in served_tally[1]] == [3, 4]  # one list of ciphertexts per list
    for name in VOTES:
        for t in trustees[1:]:
            t.decrypt(name)

    final = observer.status(rid)
    assert final["phase"] == "done"
    assert {r["name"]: r["result"] for r in final["regions"]} == RESULTS
    outcome = final["outcome"]
    assert outcome["pooled"]["yes"] == 2 and outcome["pooled"]["valid"] == 5
    assert outcome["verdict"] == "failed"  # 2 of 5 for "Yes"

    for name in VOTES:
        d = tmp_path / name
        d.mkdir()
        data = observer.download_archive(observer.region_uuid(rid, name), d).read_bytes()
        report = verify_archive(lambda data=data: io.BytesIO(data))
        assert report.valid, [f.describe() for f in report.findings]
        assert "Lists questions" in report.record_features
        peer_verifies(d)
    observer.disconnect()
    http.close()


def _refused(http: httpx.Client, rec: dict[str, Any], **extra: Any) -> PartyError:
    try:
        Administrator(http, TOKEN).create(rec, ROLL, **extra)
    except PartyError as e:
        return e
    raise AssertionError("the referendum was created")


def test_lists_questions_are_refused_where_they_cannot_be(served):
    http = connect(served.url)
    e = _refused(http, record("lists-ff"), group="BELENIOS-2048")
    assert e.status == 422, e
    assert "question 1 is a Lists question" in e.message and "BELENIOS-2048" in e.message, e
    assert "request.group" in e.message, e
    e = _refused(http, record("lists-rule", {"type": "majority", "question": 1, "answer": 0}))
    assert e.status == 422, e
    assert "question 1 is a Lists question" in e.message and "rule.question" in e.message, e
    http.close()
