"""A referendum with a Lists question (Belenios 3.x) beside a yes/no one, through every party
against a real ``plebiscite serve``: the voters choose a list and some of its candidates, the
trustees decrypt each region's nested tally, the rule decides on the yes/no question, the
status gives every region's Lists result, and each region's archive passes plebiscite's
verifier and belenios-tool 3.0."""

from __future__ import annotations

import io
import sys
import time
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
from peers import peer_verifies  # noqa: E402

LISTS = {
    "type": "Lists",
    "value": {
        "question": "Elect the council",
        "answers": [["Greens", "Ada", "Ben"], ["Blues", "Cy", "Di", "Ed"]],
    },
}
YES_NO = {"question": "Approve the budget?", "answers": ["Yes", "No"], "min": 1, "max": 1}
YES, NO = [1, 0], [0, 1]
GREENS_ADA = [[1, 1, 0], [0, 0, 0, 0]]
GREENS_BOTH = [[1, 1, 1], [0, 0, 0, 0]]
BLUES_DI_ED = [[0, 0, 0], [1, 0, 1, 1]]


def _record(rid: str, rule: dict[str, Any] | None = None) -> dict[str, Any]:
    now = time.time()
    return {
        "version": 1,
        "id": rid,
        "title": "Council and budget",
        "questions": [YES_NO, LISTS],
        "regions": [{"name": "North"}, {"name": "South"}],
        "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},
        "opening": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "closing": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 86400)),
        "rule": rule or {"type": "majority", "question": 0, "answer": 0},
    }


ROLL = {"North": ["n1", "n2", "n3"], "South": ["s1", "s2"]}


def test_a_referendum_with_a_lists_question_runs_to_its_result(served, tmp_path):
    rng = DeterministicRandom("client lists referendum")
    http = connect(served.url)
    admin = Administrator(http, TOKEN)
    observer = Observer(served.url)
    created = admin.create(_record("lists-ref"), ROLL)
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
    votes = {
        "North": [[YES, GREENS_ADA], [NO, BLUES_DI_ED], [YES, GREENS_BOTH]],
        "South": [[NO, BLUES_DI_ED], [YES, GREENS_ADA]],
    }
    for name, ballots in votes.items():
        for cred, choices in zip(private[name], ballots, strict=True):
            Voter(http, rid, name, cred, rng).vote(choices)
    Voter(http, rid, "South", private["South"][1], rng).vote([NO, BLUES_DI_ED])  # a revote
    admin.close(rid)
    served_tally = observer.region_tally(rid, "North")["encrypted_tally"]
    assert [len(row) for row in served_tally[1]] == [3, 4]  # one list of ciphertexts per list
    for name in votes:
        for t in trustees[1:]:
            t.decrypt(name)

    final = observer.status(rid)
    assert final["phase"] == "done"
    results = {r["name"]: r["result"] for r in final["regions"]}
    assert results["North"] == [[2, 1], [[2, 2, 1], [1, 0, 1, 1]]]
    assert results["South"] == [[0, 2], [[0, 0, 0], [2, 0, 2, 2]]]
    outcome = final["outcome"]
    assert outcome["pooled"]["yes"] == 2 and outcome["pooled"]["valid"] == 5
    assert outcome["verdict"] == "failed"  # 2 of 5 for "Yes"

    for name in votes:
        d = tmp_path / name
        d.mkdir()
        data = observer.download_archive(observer.region_uuid(rid, name), d).read_bytes()
        report = verify_archive(lambda data=data: io.BytesIO(data))
        assert report.valid, [f.describe() for f in report.findings]
        assert "Lists questions" in report.record_features
        peer_verifies(d)
    observer.disconnect()
    http.close()


def _refused(http: httpx.Client, record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    try:
        Administrator(http, TOKEN).create(record, ROLL, **extra)
    except PartyError as e:
        return {"status": e.status, "code": e.code, "message": str(e)}
    raise AssertionError("the referendum was created")


def test_lists_questions_are_refused_where_they_cannot_be(served):
    http = connect(served.url)
    got = _refused(http, _record("lists-ff"), group="BELENIOS-2048")
    assert got["status"] == 422, got
    assert "question 1 is a Lists question" in got["message"]
    assert "BELENIOS-2048" in got["message"] and "request.group" in got["message"]
    got = _refused(http, _record("lists-rule", {"type": "majority", "question": 1, "answer": 0}))
    assert got["status"] == 422, got
    assert "question 1 is a Lists question" in got["message"]
    assert "rule.question" in got["message"]
    http.close()
