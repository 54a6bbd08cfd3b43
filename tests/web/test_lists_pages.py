"""A referendum with a Lists question in Debian's Chromium against a real server: the key
ceremony and the votes through plebiscite.client, then two trustees decrypt every region's
nested tally in the trustee page (their key files loaded through the file input); the result
is published, every region's archive passes plebiscite's verifier and belenios-tool 3.0, and
the observer dashboard and the administrator's page draw the Lists counts per list and
candidate, all regions pooled and region by region. The creation form makes a Lists question
(one list a line, "name: candidate, candidate"), a line that is not a list refused."""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

import pytest

from lists_referendum import RESULTS, ROLL, VOTES, record
from peers import peer_verifies
from plebiscite.client import Administrator, Observer, Trustee, Voter, connect
from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.verifier import verify_archive

from .live import LiveServer, empty_server
from .test_admin import _sign_in
from .test_trustee_page import _axe

__all__ = ["empty_server"]

pytestmark = pytest.mark.browser

WAIT = 60_000


def _decrypt_in_the_page(browser: Any, shots: Any, base: str, rid: str, t: Trustee, key: Path):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/trustee/{rid}/{t.index}#token={t.token}")
        page.wait_for_selector('#task-section[data-task="decrypt"]', timeout=WAIT)
        page.set_input_files("#key-file", str(key))
        page.wait_for_function(
            "n => document.querySelector('#key-state').textContent.includes(n)", arg=key.name
        )
        page.click("#decrypt")
        page.wait_for_selector(
            '#task-section[data-task="wait-decryption"], #task-section[data-task="done"]',
            timeout=WAIT,
        )
        shots.take(page, f"trustee{t.index}-decrypted")
        assert errors == [], errors
    finally:
        context.close()


def _rows(page: Any, caption: str) -> list[list[str]]:
    """The rows of the table with this caption (header first), as their cells' texts."""
    return list(
        page.evaluate(
            """c => {
              const table = [...document.querySelectorAll("table")].find(
                (t) => t.caption && t.caption.textContent === c);
              return table ? [...table.rows].map((r) => [...r.cells].map((x) => x.textContent))
                           : null;
            }""",
            caption,
        )
        or []
    )


#: the Lists question's counts: all regions pooled, North, South
LISTS_ROWS = [
    ["List or candidate", "All regions", "North", "South"],
    ["List “Greens”", "2", "2", "0"],
    ["Ada", "2", "2", "0"],
    ["Ben", "1", "1", "0"],
    ["List “Blues”", "3", "1", "2"],
    ["Cy", "0", "0", "0"],
    ["Di", "3", "1", "2"],
    ["Ed", "3", "1", "2"],
]
CAPTION = "Counts for “Elect the council”"


def test_trustees_decrypt_a_lists_tally_in_the_page_and_the_pages_draw_it(
    browser, page, shots, empty_server: LiveServer, tmp_path: Path
):
    server = empty_server
    rng = SystemRandom()
    http = connect(server.base)
    admin = Administrator(http, server.token)
    rid = f"lists-{secrets.token_hex(3)}"
    created = admin.create(record(rid), ROLL)
    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    opened = admin.open(rid)
    for reg in opened["regions"]:
        creds = [c["credential"] for c in reg["credentials"]]
        for cred, choices in zip(creds, VOTES[reg["name"]], strict=True):
            Voter(http, rid, reg["name"], cred, rng).vote(choices)
    admin.close(rid)

    for t in trustees[:2]:
        assert t.secret is not None
        key = tmp_path / f"{t.secret.id}.key"
        key.write_text(t.secret.seed + "\n")
        _decrypt_in_the_page(browser, shots, server.base, rid, t, key)

    observer = Observer(server.base)
    final = observer.status(rid)
    assert final["phase"] == "done", final
    assert {r["name"]: r["result"] for r in final["regions"]} == RESULTS
    for name in ROLL:
        d = tmp_path / name
        d.mkdir()
        data = observer.download_archive(observer.region_uuid(rid, name), d).read_bytes()
        report = verify_archive(lambda data=data: io.BytesIO(data))
        assert report.valid, [f.describe() for f in report.findings]
        peer_verifies(d)

    # the observer dashboard: the question's lists and candidates, then the counts
    page.goto(f"{server.base}/observe/{rid}")
    page.wait_for_selector("#result table")
    assert "List “Greens”" in page.inner_text("#questions")
    assert "Choose one list, then at least one of its candidates." in page.inner_text("#questions")
    assert _rows(page, CAPTION) == LISTS_ROWS
    assert _rows(page, "Counts for “Approve the budget?”")[1] == ["Yes", "2", "2", "0"]
    shots.take(page, "observe-lists")
    assert _axe(page) == []
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert "Список «Greens»" in page.inner_text("#result")

    # the administrator's page: the same counts in its last step
    page.select_option("[data-lang-select]", "en")
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/referendum/{rid}")
    page.wait_for_selector("#counts table")
    assert _rows(page, CAPTION) == LISTS_ROWS
    shots.take(page, "admin-lists")
    assert _axe(page) == []
    observer.disconnect()
    http.close()


def test_the_creation_form_makes_a_lists_question(page, empty_server: LiveServer):
    server = empty_server
    before = server.get("/api/referendums")
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/new")
    page.wait_for_selector("#create-form:not([hidden])")
    page.fill("#title", "Council election")
    page.press("#title", "Tab")
    page.fill("#questions .q-text", "Approve the budget?")
    page.click("#add-question")
    second = page.locator("#questions .question").nth(1)
    second.locator(".q-text").fill("Elect the council")
    second.locator(".q-type").select_option("lists")
    assert second.locator(".lists-only").is_visible()
    assert not second.locator(".choose-only").is_visible()
    second.locator(".q-answers").fill("Greens: Ada, Ben\nBlues\n")
    page.fill("#regions .r-voters", "ann\nben\n")
    page.fill("#trustees", "Tess")
    page.fill("#threshold", "1")
    page.click("#create")
    page.wait_for_selector("#form-errors:not([hidden])")
    assert "Question 2: “Blues” is not a list" in page.inner_text("#form-errors")
    assert server.get("/api/referendums") == before
    second.locator(".q-answers").fill("Greens: Ada, Ben\nBlues: Cy, Di, Ed\n")
    # the rule is about the yes/no question: the Lists one is no choice for it
    assert page.locator("#rule-question option").count() == 1
    page.click("#create")
    page.wait_for_selector("#created:not([hidden])", timeout=30_000)
    status = server.get(f"/api/referendums/{page.input_value('#rid')}")
    assert status["group"] == "Ed25519"
    assert status["record"]["questions"][1] == {
        "type": "Lists",
        "value": {
            "question": "Elect the council",
            "answers": [["Greens", "Ada", "Ben"], ["Blues", "Cy", "Di", "Ed"]],
        },
    }
    assert page.js_errors == []
