"""The public ballot box page (/ballots/UUID) in Debian's Chromium against a real server with
the demo referendum: opened at a tracker (?tracker=T, as the booth links to it) the ballot is
highlighted and said counted, or replaced once its voter voted again; a search by prefix; a
malformed search refused at the field; the board's height and its last checkpoint, whose
signature the page checks; paging; axe-core finds nothing serious, in English and Ukrainian, on
a phone's screen; every message of the page is in the three catalogues."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.simulate import random_choices
from plebiscite.server.web import CSP

from .live import LiveServer, demo_server

__all__ = ["demo_server"]

pytestmark = pytest.mark.browser

AXE = "/static/vendor/axe-core/axe.min.js"
#: the demo voter this module casts for (the dashboard's tests take the first ones, the
#: booth's the last ones)
VOTER = 3


def _cast_as(server: LiveServer, index: int) -> tuple[str, str]:
    """A ballot of demo voter ``index`` (random choices) through the API: (election, tracker)."""
    region, _login, cred = server.credentials()[index]
    raw = httpx.get(
        f"{server.base}/api/referendums/{server.rid}/regions/{region}/election", timeout=30
    ).content
    election = parse_election(raw)
    rng = SystemRandom()
    ballot = make_ballot(election, cred, random_choices(election, rng), rng)
    r = httpx.post(
        f"{server.base}/api/elections/{election.uuid}/ballots", content=ballot, timeout=60
    )
    assert r.status_code == 200, r.text
    return election.uuid, r.json()["tracker"]


def _serious(page) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=AXE)
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
             .filter((v) => v.impact === "serious" || v.impact === "critical")
             .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "))"""
    )
    return list(found)


def test_the_ballot_box_opens_at_a_tracker_and_searches(page, shots, demo_server: LiveServer):
    server = demo_server
    uuid, first = _cast_as(server, VOTER)
    response = page.goto(f"{server.base}/ballots/{uuid}?tracker={quote(first, safe='')}")
    assert response.headers["content-security-policy"] == CSP
    page.wait_for_selector("#this-ballot")
    shots.take(page, "at-tracker")
    assert first in page.text_content("#this-ballot")
    assert page.get_attribute("#this-ballot", "aria-current") == "true"
    assert "counted" in page.text_content("#this-ballot")
    assert page.text_content("#status").startswith("This ballot is on the board at position")
    box = server.get(f"/api/elections/{uuid}/ballot-box")
    assert page.text_content("#board-height") == str(box["height"])
    assert page.text_content("#board-counted") == str(box["counted"])
    page.wait_for_selector("#board-checkpoint .badge.ok")  # its signature checked here
    assert _serious(page) == []

    # the same voter votes again: the first ballot is replaced, the new one counts
    _, second = _cast_as(server, VOTER)
    page.goto("about:blank")
    # a "+" not percent-encoded arrives as a space: the page reads it as "+"
    page.goto(f"{server.base}/ballots/{uuid}?tracker={first}")
    page.wait_for_selector("#this-ballot")
    shots.take(page, "replaced")
    assert "replaced" in page.text_content("#this-ballot")
    assert "a later ballot of the same voter" in page.text_content("#status")
    assert page.locator("#status.warn").count() == 1

    # a search by the first characters of the new tracker
    page.fill("#search", second[:5])
    page.click("#find")
    page.wait_for_function(
        "(p) => document.querySelector('#caption').textContent.includes(p)", arg=second[:5]
    )
    rows = page.locator("#rows tr")
    trackers = [rows.nth(i).locator("code").text_content() for i in range(rows.count())]
    assert second in trackers and all(t.startswith(second[:5]) for t in trackers)
    assert re.search(r"ballots? found", page.text_content("#range"))
    assert f"tracker={quote(second[:5], safe='')}" in page.url

    # malformed searches are refused at the field
    page.fill("#search", "ab")
    page.click("#find")
    assert page.get_attribute("#search", "aria-invalid") == "true"
    assert "at least its first 4 characters" in page.text_content("#search-error")
    page.fill("#search", "abc=d")
    page.click("#find")
    assert "letters, digits, + and /" in page.text_content("#search-error")
    assert page.evaluate("document.activeElement.id") == "search"

    # a prefix that starts and ends with a "+" not percent-encoded, in the address: kept
    page.goto(f"{server.base}/ballots/{uuid}?tracker=+Zz9+")
    page.wait_for_function("() => document.querySelector('#caption').textContent.includes('+Zz9+')")
    assert page.input_value("#search") == "+Zz9+"

    # every ballot again, then a phone's screen in Ukrainian
    page.click("#show-all")
    page.wait_for_function("() => !location.search")
    page.wait_for_function(
        "(n) => document.querySelectorAll('#rows tr').length === n",
        arg=len(server.get(f"/api/elections/{uuid}/ballot-box")["entries"]),
    )
    assert page.is_disabled("#later") and page.is_disabled("#earlier")
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_timeout(300)
    shots.take(page, "uk-phone")
    assert page.text_content("#caption") == "Бюлетені на дошці, за позицією"
    assert _serious(page) == []
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    assert page.js_errors == []


def test_pages_of_the_ballot_box(page, demo_server: LiveServer):
    """?limit=2: the ballots two by two, later then earlier, the buttons off at the ends."""
    server = demo_server
    uuid, _ = _cast_as(server, VOTER)
    box = server.get(f"/api/elections/{uuid}/ballot-box")
    while len(box["entries"]) < 3:  # at least three ballots in that region
        _cast_as(server, VOTER)
        box = server.get(f"/api/elections/{uuid}/ballot-box")
    heights = [str(e["height"]) for e in box["entries"]]

    def shown() -> list[str]:
        rows = page.locator("#rows tr td.num")
        return [rows.nth(i).text_content() for i in range(rows.count())]

    page.goto(f"{server.base}/ballots/{uuid}?limit=2")
    page.wait_for_selector("#rows tr")
    assert shown() == heights[:2]
    assert page.is_disabled("#earlier") and page.is_enabled("#later")
    page.click("#later")
    page.wait_for_function(
        "(h) => document.querySelector('#rows td.num').textContent === h", arg=heights[2]
    )
    assert shown() == heights[2:4]
    assert page.is_enabled("#earlier")
    page.click("#earlier")
    page.wait_for_function(
        "(h) => document.querySelector('#rows td.num').textContent === h", arg=heights[0]
    )
    assert shown() == heights[:2]
    assert page.evaluate("document.activeElement.id") == "earlier" or page.is_disabled("#earlier")
    assert page.js_errors == []


def test_an_unknown_tracker_and_an_unknown_election(page, demo_server: LiveServer):
    server = demo_server
    (region, *_), *_ = server.credentials()
    raw = httpx.get(
        f"{server.base}/api/referendums/{server.rid}/regions/{region}/election", timeout=30
    ).content
    uuid = json.loads(raw)["uuid"]
    page.goto(f"{server.base}/ballots/{uuid}?tracker={'A' * 43}")
    page.wait_for_selector("#status.error")
    assert "No ballot with the tracker" in page.text_content("#status")
    assert _serious(page) == []
    page.goto(f"{server.base}/ballots/nope")
    page.wait_for_selector("#status.error")
    assert "cannot be loaded" in page.text_content("#status")


def test_every_message_of_the_page_is_in_the_catalogues():
    static = Path(__file__).parents[2] / "src" / "plebiscite" / "server" / "static"
    text = (static / "js" / "ballots.js").read_text() + (static / "ballots.html").read_text()
    keys = set(re.findall(r"""\b(?:tell|t)\(\s*["']([\w.-]+)["']""", text))
    keys |= set(re.findall(r'data-i18n="([\w.-]+)"', text))
    keys |= set(re.findall(r'"(ballots\.[\w-]+)"', text))
    assert len(keys) > 30
    for lang in ("en", "uk", "ru"):
        catalogue = json.loads((static / "i18n" / f"{lang}.json").read_text())
        assert keys <= set(catalogue), (lang, sorted(keys - set(catalogue)))
