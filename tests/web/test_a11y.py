"""Every page, in Debian's Chromium against real servers: axe-core (served from static/vendor,
as the set-up copied it from npm) finds no serious or critical violation; every HTML document
carries the Content-Security-Policy and no request leaves the server's origin; the pages fit a
phone's screen; the keyboard reaches the content first."""

from __future__ import annotations

from typing import Any

import pytest

from plebiscite.server.web import CSP

from .live import LiveServer, demo_server, empty_server

__all__ = ["demo_server", "empty_server"]

pytestmark = pytest.mark.browser

AXE = "/static/vendor/axe-core/axe.min.js"
#: (name, server fixture, path, signed in, the selector that says the page is drawn)
PAGES: list[tuple[str, str, str, bool, str]] = [
    ("home", "demo_server", "/", False, "#referendums li"),
    ("observe", "demo_server", "/observe/{rid}", False, "#checkpoints .card"),
    ("observe-unknown", "demo_server", "/observe/nope", False, "#status.error"),
    ("ballot-box", "demo_server", "/ballots/{uuid}", False, "#board-height"),
    ("booth", "demo_server", "/booth/{uuid}", False, "#credential:focus"),
    ("admin-sign-in", "empty_server", "/admin/", False, "#sign-in:not([hidden])"),
    ("admin-list", "demo_server", "/admin/", True, "#list table"),
    ("admin-new", "empty_server", "/admin/new", True, "#create-form:not([hidden])"),
    ("admin-new-signed-out", "empty_server", "/admin/new", False, "#need-sign-in:not([hidden])"),
    ("admin-manage", "demo_server", "/admin/referendum/{rid}", True, "#steps li"),
    ("api-docs", "empty_server", "/docs", False, "#routes .route"),
]


def _violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (id, impact, a few of the nodes)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # same origin: allowed by the page's own CSP, nothing inlined
        page.add_script_tag(url=AXE)
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
          }));
        }"""
    )
    return found


def _serious(page: Any) -> list[dict[str, Any]]:
    return [v for v in _violations(page) if v["impact"] in ("serious", "critical")]


def _watch(page: Any, base: str) -> tuple[list[str], list[str]]:
    """Requests to another origin, and HTML documents without the CSP, as the page runs."""
    foreign: list[str] = []
    no_csp: list[str] = []

    def on_request(request: Any) -> None:
        if not request.url.startswith((base + "/", "data:", "blob:")):
            foreign.append(request.url)

    def on_response(response: Any) -> None:
        ctype = response.headers.get("content-type", "")
        if ctype.startswith("text/html") and response.headers.get("content-security-policy") != CSP:
            no_csp.append(response.url)

    page.on("request", on_request)
    page.on("response", on_response)
    return foreign, no_csp


def _sign_in(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.base}/admin/")
    page.wait_for_selector("#sign-in:not([hidden]), #signed-in:not([hidden])")
    if page.locator("#signed-in").is_hidden():
        page.fill("#admin-token", server.token)
        page.click("#token-form button[type=submit]")
        page.wait_for_selector("#signed-in:not([hidden])")


def _open(page: Any, server: LiveServer, path: str, signed_in: bool, ready: str) -> None:
    if signed_in:
        _sign_in(page, server)
    uuid = ""
    if "{uuid}" in path:  # the election of the demo referendum's first region
        region = server.get(f"/api/referendums/{server.rid}")["regions"][0]
        uuid = region["election"]
    page.goto(server.base + path.format(rid=server.rid, uuid=uuid))
    page.wait_for_selector(ready, timeout=20_000)


@pytest.mark.parametrize(
    ("name", "fixture", "path", "signed_in", "ready"), PAGES, ids=[p[0] for p in PAGES]
)
def test_no_serious_accessibility_violation(
    page, shots, request: pytest.FixtureRequest, name, fixture, path, signed_in, ready
):
    server: LiveServer = request.getfixturevalue(fixture)
    foreign, no_csp = _watch(page, server.base)
    _open(page, server, path, signed_in, ready)
    assert _serious(page) == [], name
    # the same page in Ukrainian (another script, longer words) and on a phone's screen
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    page.set_viewport_size({"width": 360, "height": 740})
    page.wait_for_timeout(300)
    shots.take(page, f"{name}-uk-phone")
    assert _serious(page) == [], f"{name} (uk, phone)"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"{name}: {overflow} px wider than a phone's screen"
    assert page.js_errors == []
    assert foreign == []
    assert no_csp == []


def test_the_admin_form_and_its_results_are_accessible(page, shots, empty_server: LiveServer):
    """The form after an error, the referendum form, and the links shown once."""
    server = empty_server
    _open(page, server, "/admin/new", True, "#create-form:not([hidden])")
    page.check("#kind-referendum")
    page.click("#create")  # nothing filled in: the error names the title
    page.wait_for_selector("#form-errors:not([hidden])")
    assert _serious(page) == []
    page.fill("#title", "Accessible referendum")
    page.press("#title", "Tab")
    page.fill("#questions .q-text", "Adopt it?")
    page.click("#add-question")
    page.fill("#questions .question:nth-child(2) .q-text", "Which colour?")
    page.fill("#questions .question:nth-child(2) .q-answers", "Red\nGreen\nBlue")
    for k in range(2):
        page.locator("#regions .region").nth(k).locator(".r-voters").fill(f"a{k}\nb{k}\n")
    page.locator("#regions .region").nth(1).locator(".r-authority").select_option("external")
    page.fill("#trustees", "Tess\nTom\nTim")
    page.select_option("#rule-type", "double-majority")
    assert _serious(page) == []
    page.click("#create")
    page.wait_for_selector("#created:not([hidden])", timeout=30_000)
    page.click(".trustee details summary >> nth=0")
    shots.take(page, "created")
    assert _serious(page) == []
    assert page.js_errors == []


def test_the_keyboard_reaches_the_content_first(page, demo_server: LiveServer):
    page.goto(f"{demo_server.base}/observe/{demo_server.rid}")
    page.wait_for_selector("#stat-voted")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
