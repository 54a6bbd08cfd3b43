"""Lists questions (Belenios 3.x) in the browser: the question interface of
static/js/belenios/questions/ (lists.js) against the Python side, and the booth and audit pages.

- known answers: the ballots of tests/vectors/kat/lists-ballots.json (Ed25519 and BELENIOS-2048)
  made again in Chromium from their seeds, byte for byte; every negative ballot of
  tests/vectors/negative/lists-ballots.json refused by the browser's verifier, on its question;
- ballots made with the browser's own randomness pass plebiscite's verifier and belenios-tool
  3.0's verify-ballot;
- the choices: the same problems as Python's choice_problem;
- the audit (Benaloh's challenge) of a Lists ballot, in the browser and in Python;
- the booth page: a voter of an Ed25519 election with a Lists question is refused invalid
  choices with the message (in English and Ukrainian), reviews, audits and casts; the board
  verifies and belenios-tool 3.0 accepts the ballot; the audit page shows a Lists audit.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import httpx
import pytest

from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.audit import check_audit, choice_problems
from plebiscite.protocol.ballot import BallotSetup, make_ballot, verify_ballots
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.verifier import Verifier

from .live import ADMIN_TOKEN, LiveServer, empty_server

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

import lists_vectors  # noqa: E402
import peer3  # noqa: E402

__all__ = ["empty_server"]

pytestmark = pytest.mark.browser

ED = "belenios3/lists"  # [["Party A","Alice","Bob"],["Party B","Carol","Dan","Erin"]], yes/no
FF = "kat/lists-belenios-2048"  # three lists of 2, 3 and 1 candidates, yes/no with blank

MAKE = "return await core.makeBallot(args[0], args[1], args[2], args[3]);"
CHECK = """
  const election = await core.loadElection(args[0]);
  try {
    const ballot = modules.ballot.parseBallot(args[1], election);
    const problems = await modules.ballot.verifyBallot(ballot, election);
    return problems.map((p) => [p.question, p.message]);
  } catch (e) {
    return [[null, e.message]];
  }
"""
AUDIT = "return await core.checkAudit(args[0], args[1], args[2]);"


def _election(name: str) -> tuple[str, list[str]]:
    texts, creds = lists_vectors.setup_texts(name)
    return texts["election"].decode(), creds


# -- the cryptography ----------------------------------------------------------------------------


@pytest.mark.parametrize("v", lists_vectors.KAT, ids=lambda v: v["name"])
def test_known_answer_lists_ballots_are_made_again_byte_for_byte(js, v):
    election, _ = _election(v["election"])
    got = js(MAKE, election, v["credential"], v["choices"], {"seed": v["seed"]})
    assert got["ballot"] == v["ballot"]
    assert got["tracker"] == v["tracker"]
    assert js(CHECK, election, got["ballot"]) == []
    assert [a["choices"] for a in got["audit"]["answers"]] == v["choices"]


def test_negative_lists_ballots_are_refused_on_their_question(js):
    by_election: dict[str, list[dict]] = {}
    for v in lists_vectors.NEGATIVE:
        by_election.setdefault(v["election"], []).append(v)
    assert set(by_election) == {ED, FF}
    for name, vectors in by_election.items():
        election, _ = _election(name)
        for v in vectors:
            problems = js(CHECK, election, v["ballot"])
            assert problems, v["name"]
            if v["question"] is None:  # the signature
                assert any(q is None and "signature" in m for q, m in problems), v["name"]
            else:
                where = f"question {v['question']}"
                assert any(q == v["question"] or where in m for q, m in problems), (
                    v["name"],
                    problems,
                )


def test_dishonest_ballots_are_refused_for_the_right_proof(js):
    """A booth that encrypts choices outside the rules cannot make the proofs: the browser
    names the proof that fails (the Python reason of each vector says the same)."""
    expected = {
        "dishonest-two-lists": "overall proof (exactly one list)",
        "dishonest-no-list": "overall proof (exactly one list)",
        "dishonest-candidate-of-another-list": "the list proof of list 2",
        "dishonest-no-candidate": "non-zero proof",
    }
    seen = 0
    for v in lists_vectors.NEGATIVE:
        kind = v["name"].split("/")[1]
        if kind not in expected:
            continue
        election, _ = _election(v["election"])
        messages = [m for _, m in js(CHECK, election, v["ballot"])]
        assert any(expected[kind] in m for m in messages), (v["name"], messages)
        assert not any("individual proof" in m for m in messages), v["name"]  # all 0 or 1
        seen += 1
    assert seen == 2 * len(expected)


@pytest.mark.parametrize("name", [ED, FF])
def test_browser_lists_ballots_pass_plebiscite_and_belenios_tool_3(js, name, tmp_path):
    election, creds = _election(name)
    choices = [v["choices"] for v in lists_vectors.KAT if v["election"] == name]
    chunk = []
    for i, c in enumerate(choices):
        got = js(MAKE, election, creds[i], c, {})
        chunk.append((i, f"{i:064x}", got["ballot"].encode()))
    result = verify_ballots(BallotSetup(election.encode()), chunk)
    assert [o.error for o in result.outcomes] == [None] * len(chunk)
    if peer3.belenios3_tool() is None:
        pytest.skip("belenios-tool 3.0 is not installed (./dev test installs it)")
    lists_vectors.write_open_archive(name, tmp_path)
    for _, _, ballot in chunk:
        (tmp_path / "ballot.json").write_bytes(ballot + b"\n")
        proc = peer3.belenios3_verify_ballot(tmp_path, tmp_path / "ballot.json")
        assert proc.returncode == 0 and "ballot is valid" in proc.stderr, proc.stderr[-800:]


INVALID = [
    # (the Lists vote, the code, the Python message)
    ([[0, 0, 0], [0, 0, 0, 0]], "list_count", "choose exactly one list"),
    ([[1, 1, 0], [1, 0, 1, 0]], "list_count", "choose exactly one list"),
    ([[1, 1, 0], [0, 0, 1, 0]], "other_list", "candidates can be chosen only on the chosen list"),
    ([[0, 1, 0], [1, 0, 0, 0]], "other_list", "candidates can be chosen only on the chosen list"),
    ([[1, 0, 0], [0, 0, 0, 0]], "no_candidate", "choose at least one candidate of the chosen list"),
    ([[1, 0], [0, 0, 0, 0]], "shape", "expected 2 lists of 0 or 1, of lengths [3, 4]"),
    ([[1, 2, 0], [0, 0, 0, 0]], "shape", "expected 2 lists of 0 or 1, of lengths [3, 4]"),
    ([1, 0, 0, 0, 0, 0, 0], "shape", "expected 2 lists of 0 or 1, of lengths [3, 4]"),
]


def test_invalid_lists_choices_are_pythons_problems(js):
    election, _ = _election(ED)
    el = parse_election(election.encode())
    for vote, code, message in INVALID:
        choices = [vote, [1, 0]]
        got = js("return core.checkChoices(args[0], args[1]);", election, choices)
        assert [(p["question"], p["code"]) for p in got] == [(1, code)], vote
        assert [p["message"] for p in got] == [m for _, m in choice_problems(el, choices)]
        assert got[0]["message"] == f"question 1: {message}"
    other = js("return core.checkChoices(args[0], args[1]);", election, [INVALID[2][0], [1, 0]])
    assert other[0]["list"] == 2 and other[0]["chosen"] == 1
    refused = js(
        """try { await core.makeBallot(args[0], args[1], args[2], {seed: "x"}); return null; }
           catch (e) { return e.message; }""",
        election,
        _election(ED)[1][0],
        [INVALID[4][0], [1, 0]],
    )
    assert refused == "question 1: choose at least one candidate of the chosen list"


def _keys(problems: list[dict]) -> set[tuple]:
    return {(p["question"], p.get("list"), p["answer"], p["code"]) for p in problems}


@pytest.mark.parametrize("name", [ED, FF])
def test_lists_audit_in_the_browser_and_in_python(js, name):
    election, creds = _election(name)
    el = parse_election(election.encode())
    v = next(v for v in lists_vectors.KAT if v["election"] == name)
    made = js(MAKE, election, creds[0], v["choices"], {})
    ballot, audit = made["ballot"], made["audit"]
    assert [len(r) for r in audit["answers"][0]["randomness"]] == list(el.questions[0].shape)
    assert js(AUDIT, election, ballot, audit) == {"ok": True, "problems": []}
    assert check_audit(el, ballot.encode(), audit).ok

    # the audit claims the voter chose list 2 and its first candidate instead
    changed = json.loads(json.dumps(audit))
    rows = changed["answers"][0]["choices"]
    original = json.loads(json.dumps(rows))
    for row in rows:
        row[:] = [0] * len(row)
    rows[1][0] = rows[1][1] = 1
    js_report = js(AUDIT, election, ballot, changed)
    py_report = check_audit(el, ballot.encode(), changed)
    expected = {
        (1, i + 1, j, "plaintext")
        for i, row in enumerate(original)
        for j, m in enumerate(row)
        if m != rows[i][j]
    }
    assert expected and _keys(js_report["problems"]) == expected
    assert _keys([p.to_json() for p in py_report.problems]) == expected
    assert [p["message"] for p in js_report["problems"]] == [p.message for p in py_report.problems]
    # wrong randomness for candidate 1 of list 1; and randomness of the wrong shape
    bad = json.loads(json.dumps(audit))
    r = bad["answers"][0]["randomness"][0]
    r[1] = str(int(r[1]) + 1)
    assert _keys(js(AUDIT, election, ballot, bad)["problems"]) == {(1, 1, 1, "randomness")}
    assert _keys([p.to_json() for p in check_audit(el, ballot.encode(), bad).problems]) == {
        (1, 1, 1, "randomness")
    }
    flat = json.loads(json.dumps(audit))
    flat["answers"][0]["randomness"] = [x for row in audit["answers"][0]["randomness"] for x in row]
    js_report = js(AUDIT, election, ballot, flat)
    assert [p["code"] for p in js_report["problems"]] == ["audit_format"]
    assert js_report["problems"][0]["message"] == (
        check_audit(el, ballot.encode(), flat).problems[0].message
    )


def test_the_question_interface_describes_lists_as_python(js):
    election, _ = _election(FF)
    el = parse_election(election.encode())
    got = js(
        """const e = await core.loadElection(args[0]);
        return e.questions.map((q) => ({kind: q.kind, size: q.size, describe: q.describe(),
                                        widget: q.form().widget}));""",
        election,
    )
    assert [g["describe"] for g in got] == [q.describe() for q in el.questions]
    assert [g["size"] for g in got] == [q.size for q in el.questions]
    kinds = [(g["kind"], g["widget"]) for g in got]
    assert kinds == [("Lists", "lists"), ("homomorphic", "choose")]
    bad = js(
        """const out = [];
        for (const t of args[0]) {
          try { await core.loadElection(t); out.push(null); } catch (e) { out.push(e.message); }
        }
        return out;""",
        [
            election.replace('["Independents","Flo"]', '["Independents"]'),
            election.replace('"answers":[["Greens"', '"answers":[],"x":[["Greens"'),
            election.replace('"type":"Lists"', '"type":"Listes"'),
        ],
    )
    assert bad[0] == (
        "election: question 1.answers[2]: a list needs its name and at least one candidate"
    )
    assert bad[1] is not None and bad[2] == "election: question 1: unknown question type"


# -- the booth page --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lists_board(empty_server: LiveServer) -> tuple[LiveServer, str, list[str]]:
    """The Ed25519 Lists election of belenios3/lists started on a live server's board."""
    texts, creds = lists_vectors.setup_texts(ED)
    r = httpx.post(
        f"{empty_server.base}/api/elections",
        json={k: v.decode() for k, v in texts.items()},
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return empty_server, r.json()["uuid"], creds


def _open_booth(page, server: LiveServer, uuid: str, credential: str) -> None:
    page.goto(f"{server.base}/booth/{uuid}")
    page.wait_for_selector("#credential:focus")
    page.keyboard.type(credential)
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")


def _refused(page) -> str:
    page.click("#encrypt")
    page.wait_for_selector("#status.error")
    assert page.get_attribute("#q1", "aria-invalid") == "true"
    return page.text_content("#q1-error")


def _axe(page) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return list(page.evaluate("async () => (await axe.run()).violations.map((v) => v.id)"))


def test_a_voter_chooses_a_list_and_candidates_audits_and_casts(page, shots, lists_board, tmp_path):
    server, uuid, creds = lists_board
    _open_booth(page, server, uuid, creds[0])
    assert page.text_content("#q1 legend") == "Elect the council"
    assert page.text_content("#q1-l2 legend") == "Party B"
    assert page.text_content("label[for='q1-l2-list']") == "Vote for the list “Party B”"
    assert page.text_content("#q1-hint") == (
        "Choose one list, then at least one of its candidates."
    )
    shots.take(page, "lists")
    assert _axe(page) == []

    # nothing chosen
    assert _refused(page) == "Choose a list."
    assert page.text_content("#q2-error") == "Choose one answer."
    assert page.evaluate("document.activeElement.id") == "q1-l1-list"
    # a list, no candidate
    page.click("label[for='q1-l1-list']")
    page.click("label[for='q2-a1']")
    assert _refused(page) == "Choose at least one candidate of the list “Party A”."
    assert page.evaluate("document.activeElement.id") == "q1-l1-c1"
    assert page.get_attribute("#q2", "aria-invalid") is None
    # a candidate of another list
    page.click("label[for='q1-l2-c1']")  # Carol, of Party B
    assert _refused(page) == (
        "Candidates can be chosen only on the list you vote for (“Party A”): untick the "
        "candidates of “Party B”, or vote for that list."
    )
    assert page.evaluate("document.activeElement.id") == "q1-l2-c1"
    shots.take(page, "refused")
    page.select_option("[data-lang-select]", "uk")
    page.locator("html[lang=uk]").wait_for(state="attached")
    assert page.text_content("#q1-error") == (
        "Кандидатів можна обирати лише зі списку, за який ви голосуєте («Party A»): зніміть "
        "позначки з кандидатів списку «Party B» або проголосуйте за цей список."
    )
    assert page.is_checked("#q1-l1-list") and page.is_checked("#q1-l2-c1")  # kept
    page.select_option("[data-lang-select]", "en")
    page.locator("html[lang=en]").wait_for(state="attached")

    # a valid choice: Party B, Carol and Erin
    page.click("label[for='q1-l2-list']")
    page.click("label[for='q1-l2-c3']")
    page.click("#encrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    review = page.locator("#review-choices li li").all_text_contents()
    assert review == ["The list “Party B”, with:", "Carol", "Erin", "Yes"]
    assert _axe(page) == []

    # audit it (never cast), then cast a fresh encryption
    audited = page.text_content("#review-tracker")
    page.click("#audit-ballot")
    page.wait_for_selector("#audit-status.ok", timeout=30_000)
    audit = json.loads(page.input_value("#audit-json"))
    assert [a["choices"] for a in audit["answers"]] == [[[0, 0, 0], [1, 1, 0, 1]], [1, 0]]
    page.click("#reencrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    tracker = page.text_content("#review-tracker")
    assert tracker != audited
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/ballots")) as req:
        page.click("#cast")
    page.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    shots.take(page, "cast")
    assert page.text_content("#done-tracker") == tracker
    ballot = req.value.post_data
    assert page.js_errors == []

    # the board verifies; belenios-tool 3.0 accepts the ballot and the board
    archive = httpx.get(f"{server.base}/api/elections/{uuid}/archive", timeout=60).content
    report = Verifier(lambda: io.BytesIO(archive)).run()
    assert report.valid, [f.describe() for f in report.findings]
    assert report.ballots >= 1
    if peer3.belenios3_tool() is None:
        pytest.skip("belenios-tool 3.0 is not installed (./dev test installs it)")
    fresh = tmp_path / "fresh"
    lists_vectors.write_open_archive(ED, fresh)
    (fresh / "ballot.json").write_text(ballot + "\n")
    proc = peer3.belenios3_verify_ballot(fresh, fresh / "ballot.json")
    assert proc.returncode == 0 and "ballot is valid" in proc.stderr, proc.stderr[-800:]
    board = tmp_path / "board"
    board.mkdir()
    (board / f"{uuid}.bel").write_bytes(archive)
    proc = peer3.belenios3_verify(board)
    assert proc.returncode == 0, proc.stderr[-800:]


def test_the_booth_refuses_a_lists_ballot_it_cannot_make(page, lists_board):
    """Two lists are impossible with the radio buttons; the booth's own check still refuses
    them (a page changed by a script), and no ballot is made."""
    server, uuid, creds = lists_board
    _open_booth(page, server, uuid, creds[1])
    page.click("label[for='q1-l1-list']")
    page.click("label[for='q1-l1-c2']")
    page.click("label[for='q2-a2']")
    page.evaluate(
        """for (const x of document.querySelectorAll("#q1 input[data-entry='0']")) {
             x.type = "checkbox"; x.checked = true;
           }"""
    )
    assert _refused(page) == "Choose only one list."
    assert page.is_hidden("#step-review")


def test_the_audit_page_checks_and_shows_a_lists_audit(page, js):
    election, creds = _election(ED)
    made = js(MAKE, election, creds[3], [[[1, 0, 1], [0, 0, 0, 0]], [0, 1]], {})
    page.goto("https://booth.test/audit")
    page.wait_for_selector("#check")
    page.fill("#election", election)
    page.fill("#ballot", made["ballot"])
    page.fill("#audit", json.dumps(made["audit"]))
    page.click("#check")
    page.wait_for_selector("#status.ok")
    assert page.locator("#choices li li").all_text_contents() == [
        "The list “Party A”, with:",
        "Bob",
        "No",
    ]
    changed = json.loads(json.dumps(made["audit"]))
    changed["answers"][0]["choices"][0] = [1, 1, 0]  # Alice instead of Bob
    page.fill("#audit", json.dumps(changed))
    page.click("#check")
    page.wait_for_selector("#status.error")
    assert page.locator("#problems li").all_text_contents() == [
        "Question 1, “Alice” of the list “Party A”: the ballot does not encrypt what the "
        "audit says.",
        "Question 1, “Bob” of the list “Party A”: the ballot does not encrypt what the audit says.",
    ]
    page.select_option("[data-lang-select]", "ru")
    page.locator("html[lang=ru]").wait_for(state="attached")
    assert page.locator("#problems li").first.text_content() == (
        "Вопрос 1, «Alice» из списка «Party A»: бюллетень шифрует не то, что указано в аудите."
    )
    assert page.js_errors == []


def test_a_python_lists_ballot_and_a_browser_one_are_the_same(js):
    """From one seed, the browser's and Python's Lists ballots in a fresh election (not a
    vector): the FF election with another voter."""
    election, creds = _election(FF)
    el = parse_election(election.encode())
    choices = [[[0, 0, 0], [1, 1, 1, 0], [0, 0]], [0, 0, 1]]
    expected = make_ballot(el, creds[2], choices, DeterministicRandom("another seed"))
    got = js(MAKE, election, creds[2], choices, {"seed": "another seed"})
    assert got["ballot"].encode() == expected
