"""The observer dashboard in Debian's Chromium against a real server with the demo referendum:
the turnout follows the ballots as they arrive, the live feed shows them, the checkpoints are
signed by the server's key, and the page talks to no other origin."""

from __future__ import annotations

import re

import pytest

from plebiscite.server.web import CSP

from .live import LiveServer, demo_server

__all__ = ["demo_server"]

pytestmark = pytest.mark.browser

# The pages' CSP has no 'unsafe-eval': wait_for_function takes functions ("() => ..."), which
# Playwright calls directly, never a bare expression, which it would have to eval.


def _first_int(text: str) -> int:
    m = re.search(r"\d+", text)
    assert m, text
    return int(m[0])


def _watch_origins(page, base: str) -> list[str]:
    """Every request the page makes that is not to ``base`` (filled as the page runs)."""
    foreign: list[str] = []

    def check(request) -> None:
        url = request.url
        if not (url.startswith(base + "/") or url.startswith("data:")):
            foreign.append(url)

    page.on("request", check)
    return foreign


def test_the_turnout_follows_the_ballots(page, shots, demo_server: LiveServer):
    server = demo_server
    foreign = _watch_origins(page, server.base)
    response = page.goto(f"{server.base}/observe/{server.rid}")
    assert response.headers["content-security-policy"] == CSP
    page.wait_for_selector("#stat-voted")
    page.wait_for_function("() => document.querySelector('#feed-state').textContent.length > 0")
    before = _first_int(page.inner_text("#stat-voted"))
    ballots_before = _first_int(page.inner_text("#stat-ballots"))
    caption_before = page.inner_text("#chart-caption")
    shots.take(page, "before-ballots")

    server.vote(3)

    page.wait_for_function(
        "n => parseInt(document.querySelector('#stat-voted').textContent) === n",
        arg=before + 3,
        timeout=20_000,
    )
    assert _first_int(page.inner_text("#stat-ballots")) == ballots_before + 3
    # the live feed shows the three ballots, newest first
    page.wait_for_function("() => document.querySelectorAll('#feed li code').length >= 3")
    feed = page.locator("#feed li").all_inner_texts()
    assert len([line for line in feed if "Ballot" in line or "Бюлет" in line]) >= 3
    # the chart's caption and its table twin have the new turnout
    page.wait_for_function(
        "c => document.querySelector('#chart-caption').textContent !== c", arg=caption_before
    )
    roll = sum(r["roll"] for r in server.get(f"/api/referendums/{server.rid}")["regions"])
    assert page.locator("#turnout-table tbody tr").count() >= 2
    assert f"{before + 3} " in page.inner_text("#stat-voted")
    assert str(roll) in page.inner_text("#stat-voted")
    shots.take(page, "after-ballots")
    assert page.js_errors == []
    assert foreign == []


def test_the_dashboard_shows_the_signed_checkpoints_and_the_verification_commands(
    page, demo_server: LiveServer
):
    server = demo_server
    foreign = _watch_origins(page, server.base)
    page.goto(f"{server.base}/observe/{server.rid}")
    page.wait_for_selector("#checkpoints .card")
    key = server.get("/api/server-key")["key"]
    assert page.inner_text("#server-key-value") == key
    # every region's last checkpoint, its signature checked in the browser
    status = server.get(f"/api/referendums/{server.rid}")
    cards = page.locator("#checkpoints .card")
    assert cards.count() == len(status["regions"])
    page.wait_for_selector("#checkpoints .badge.ok")
    assert page.locator("#checkpoints .badge.ok").count() == len(status["regions"])
    assert page.locator("#checkpoints .badge.bad").count() == 0
    # the archive of each region and the exact commands that verify it
    verify = page.inner_text("#verify")
    for region in status["regions"]:
        uuid = region["election"]
        assert f"belenios-tool election verify --dir {uuid}" in verify
        assert f"plebiscite verify {uuid}/{uuid}.bel" in verify
        assert f"{server.base}/api/elections/{uuid}/archive" in verify
        link = page.locator(f'#verify a[href="/api/elections/{uuid}/archive"]')
        assert link.count() == 1
        assert page.locator(f'#regions a[href="/booth/{uuid}"]').count() == 1  # voting is open
    # the referendum's record board and the command that recomputes the outcome from it
    record = f"/api/referendums/{server.rid}/record"
    assert page.locator(f'#verify a[href="{record}"]').count() == 1
    assert f"curl -fsS -o {server.rid}.record.bel {server.base}{record}" in verify
    archives = " ".join(f"{r['election']}/{r['election']}.bel" for r in status["regions"])
    assert f"plebiscite referendum verify {server.rid}.record.bel {archives}" in verify
    # the rule stated up front, and no outcome before the count
    assert page.locator("#rule li").count() >= 3
    assert page.locator("#outcome").count() == 0
    assert page.js_errors == []
    assert foreign == []


def test_the_language_is_chosen_and_remembered(page, demo_server: LiveServer):
    server = demo_server
    page.goto(f"{server.base}/observe/{server.rid}")
    page.wait_for_selector("#stat-voted")
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert page.inner_text("#h-overview") == "Огляд"
    page.reload()
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    page.wait_for_selector("#stat-voted")
    assert page.inner_text("#h-turnout") == "Явка з часом"
    page.select_option("[data-lang-select]", "ru")
    page.wait_for_function("() => document.documentElement.lang === 'ru'")
    assert page.inner_text("#h-overview") == "Обзор"
    assert page.js_errors == []


def test_an_unknown_referendum_says_so(page, demo_server: LiveServer):
    page.goto(f"{demo_server.base}/observe/no-such-referendum")
    page.wait_for_selector("#status.error")
    assert "no-such-referendum" in page.inner_text("#status")
    # only that: no empty sections, no table of contents
    assert page.locator("main section:visible, main nav:visible").count() == 0
    assert [x for x in page.inner_text("main").split("\n") if x][1:] == [
        "Referendum not found",
        "There is no referendum “no-such-referendum” on this server.",
    ]
    assert page.js_errors == []
