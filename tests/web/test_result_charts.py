"""The result's bar charts on the observer dashboard (static/js/result-charts.js), in Debian's
Chromium against a real ``plebiscite serve`` (tests/web/live.py): a referendum with a yes/no
question (blank allowed) and a Lists question over two regions, its parties played through
plebiscite.client. While voting is open the charts area says the result stays encrypted; once
the trustees decrypted, a uPlot bar chart (a canvas, role="img" with the numbers as its text)
per question beside a table whose counts and shares are the API's, all regions pooled and
each region chosen in the selector; axe-core clean, in English and Ukrainian. The module's
counts and shares equal plebiscite.render.results' (the result card's) with counts past what
a double holds."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lists_referendum import LISTS, ROLL, VOTES
from plebiscite.client import Administrator, Trustee, Voter, connect
from plebiscite.crypto.rand import SystemRandom
from plebiscite.render.results import charts_of_status, format_count, format_percent

from .live import LiveServer
from .test_a11y import _serious

pytestmark = pytest.mark.browser

I18N = Path(__file__).resolve().parents[2] / "src" / "plebiscite" / "server" / "static" / "i18n"
EN = json.loads((I18N / "en.json").read_text())
WAIT = 30_000
YES_NO_BLANK = {
    "question": "Approve the budget?",
    "answers": ["Yes", "No"],
    "blank": True,
    "min": 1,
    "max": 1,
}
BLANK, YES, NO = [1, 0, 0], [0, 1, 0], [0, 0, 1]
#: VOTES with a blank vote in place of the first yes/no answer of the South
CHOICES = {
    region: [[{(1, 0): YES, (0, 1): NO}[tuple(v[0])], v[1]] for v in votes]
    for region, votes in VOTES.items()
}
CHOICES["South"][0][0] = BLANK


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    """A server and a referendum open for voting, every voter voted; the second item closes
    voting and has the trustees decrypt."""
    server = LiveServer(tmp_path_factory.mktemp("charts-server"), demo=False)
    rng = SystemRandom()
    http = connect(server.base)
    admin = Administrator(http, server.token)
    rid = f"charts-{secrets.token_hex(3)}"
    now = time.time()
    created = admin.create(
        {
            "version": 1,
            "id": rid,
            "title": "Бюджет і рада",
            "questions": [YES_NO_BLANK, LISTS],
            "regions": [{"name": name} for name in ROLL],
            "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},
            "opening": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "closing": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 86400)),
            "rule": {"type": "majority", "question": 0, "answer": 0},
        },
        ROLL,
    )
    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for step in ("send_certificate", "send_polynomial", "send_voutput"):
        for t in trustees:
            getattr(t, step)()
    opened = admin.open(rid)
    for reg in opened["regions"]:
        creds = [c["credential"] for c in reg["credentials"]]
        for cred, choices in zip(creds, CHOICES[reg["name"]], strict=True):
            Voter(http, rid, reg["name"], cred, rng).vote(choices)

    def count() -> None:
        admin.close(rid)
        for name in ROLL:
            for t in trustees[:2]:
                t.decrypt(name)

    server.rid = rid
    try:
        yield server, count
    finally:
        http.close()
        server.stop()


def _tables(page: Any) -> dict[int, list[list[str]]]:
    """Each chart's table: its rows as [label, exact count, count shown, share]."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#charts table.chart-table')]
          .map((t) => [t.dataset.question, [...t.tBodies[0].rows].map((r) => [
            r.cells[0].textContent, r.cells[1].dataset.count, r.cells[1].textContent,
            r.cells[2].textContent])]))"""
    )


def _expected(status: dict[str, Any], region: str | None = None) -> dict[str, list[list[str]]]:
    return {
        str(c.index): [
            [
                r.label,
                str(r.count),
                format_count(r.count, "en"),
                "counted apart" if r.share is None else format_percent(r.share, "en"),
            ]
            for r in c.rows
        ]
        for c in charts_of_status(status, EN, region)
    }


def test_the_charts_draw_the_published_result(page, shots, counted):
    server, count = counted
    page.goto(f"{server.base}/observe/{server.rid}")
    page.wait_for_selector("#charts-state", timeout=WAIT)
    assert "stays encrypted" in page.inner_text("#charts-state")
    assert page.locator("#charts canvas").count() == 0
    card = page.locator("#charts a.card-link").get_attribute("href")
    assert card == f"/api/referendums/{server.rid}/card.png?lang=en"
    r = httpx.get(server.base + card)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    shots.take(page, "encrypted")

    count()
    status = server.get(f"/api/referendums/{server.rid}")
    assert status["phase"] == "done"
    page.reload()
    page.wait_for_selector("#charts canvas", timeout=WAIT)
    # one chart per question, each a canvas in a role="img" with the numbers as its text
    assert page.locator("#charts figure.result-chart").count() == 2
    assert page.locator("#charts .bar-chart[role=img] canvas").count() == 2
    alt = page.locator("#charts .bar-chart").first.get_attribute("aria-label")
    assert alt.startswith("Bar chart of the counts for “Approve the budget?”, All regions: ")
    assert "Yes 2 (50.0%)" in alt and "Blank 1" in alt
    # the tables' numbers are the API's: pooled
    tables = _tables(page)
    assert tables == _expected(status)
    assert tables["0"] == [
        ["Yes", "2", "2", "50.0%"],
        ["No", "2", "2", "50.0%"],
        ["Blank", "1", "1", "counted apart"],
    ]
    assert tables["1"][0] == ["List “Greens”", "2", "2", "40.0%"]
    shots.take(page, "pooled")
    assert _serious(page) == []

    # one region at a time
    page.select_option("#charts-scope", "South")
    page.wait_for_function(
        "() => document.querySelector('#charts table caption').textContent.endsWith('South')"
    )
    assert _tables(page) == _expected(status, "South")
    assert page.locator("#charts canvas").count() == 2
    assert page.evaluate("() => document.activeElement.id") in ("charts-scope", "")
    shots.take(page, "south")

    # in Ukrainian, on a phone's screen
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    page.wait_for_function(
        "() => document.querySelector('#charts .card-link').href.endsWith('lang=uk')"
    )
    # the region chosen stays chosen
    assert page.input_value("#charts-scope") == "South"
    assert page.inner_text("#charts table caption").endswith("South")
    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_timeout(300)
    assert "Частка" in page.inner_text("#charts")
    assert page.locator("#charts canvas").count() == 2
    shots.take(page, "uk-phone")
    assert _serious(page) == []
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    assert page.js_errors == []


def test_the_browser_shares_are_the_servers_with_counts_past_2_30(page, static_site):
    """chartsOf and formatShare of result-charts.js against plebiscite.render.results, with
    counts that are strings in the JSON (2^30 and more) and that no double holds exactly."""
    questions = [YES_NO_BLANK, LISTS]
    results = [
        [
            ["1073741824", "2305843009213693951", "1"],
            [["3", "2", "1"], ["9007199254740993", 7, 0, 1]],
        ],
        [[0, 1, "2"], [[1, 1, 0], [0, 0, 0, 0]]],
    ]
    got = page.evaluate(
        """async ([questions, results]) => {
          const m = await import("/static/js/result-charts.js");
          const charts = m.chartsOf(questions, results.map((result) => ({ result })));
          return charts.map((c) => [String(c.index), c.rows.map((r) => [
            String(r.count), r.total === null ? null : m.formatShare(r.count, r.total)])]);
        }""",
        [questions, results],
    )
    status = {
        "record": {"questions": questions},
        "regions": [{"name": f"R{k}", "result": r} for k, r in enumerate(results)],
    }
    expected = [
        [
            str(c.index),
            [
                [str(r.count), None if r.share is None else format_percent(r.share, "en")]
                for r in c.rows
            ],
        ]
        for c in charts_of_status(status, EN)
    ]
    assert got == expected
    assert got[0][1][0] == ["2305843009213693952", "100.0%"]  # 2^61 - 1 + 1, exact
    assert got[1][1][3] == ["9007199254740993", "100.0%"]  # 2^53 + 1, exact
    assert page.js_errors == []


def test_a_poll_gets_its_votes_pooled_once_every_shard_is_counted(page, static_site):
    """``renderResultCharts(status, container, {perRegion: false})``, as a poll's page calls it:
    no region selector, the charts once every shard has its result; a status with no decision
    rule (a poll's) is drawn the same."""
    shard = {"result": [[1, 2, 0]], "name": "s1"}
    status = {
        "id": "poll-1",
        "phase": "done",
        "record": {"questions": [YES_NO_BLANK]},  # no rule
        "regions": [shard, {"name": "s2", "result": None}],
        "outcome": None,
    }
    drawn = page.evaluate(
        """async (status) => {
          const i18n = await import("/static/js/i18n.js");
          await i18n.initI18n();
          const m = await import("/static/js/result-charts.js");
          const box = document.createElement("div");
          document.body.append(box);
          m.renderResultCharts(status, box, { perRegion: false });
          const before = [box.querySelector("#charts-state")?.textContent ?? null,
                          box.querySelectorAll("canvas").length];
          status.regions[1].result = [[0, 1, 1]];
          m.renderResultCharts(status, box, { perRegion: false });
          return [before, box.querySelectorAll("select").length,
                  box.querySelectorAll("canvas").length,
                  box.querySelector("table caption").textContent,
                  [...box.querySelectorAll("tbody td.num")].map((c) => c.textContent)];
        }""",
        status,
    )
    assert drawn[0] == [EN["charts.counting"], 0]
    assert drawn[1:] == [
        0,
        1,
        "Counts and shares for “Approve the budget?”, All votes",
        ["3", "75.0%", "1", "25.0%", "1", "counted apart"],
    ]
    assert page.js_errors == []
