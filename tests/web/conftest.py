"""Browser tests: Debian's Chromium (``/usr/bin/chromium``, installed by ``./dev test``) driven
headless by Playwright. Never a browser downloaded by Playwright: ``executable_path`` is always
the system one. Mark such tests ``@pytest.mark.browser``.

Fixtures:

- ``browser`` (package): one Chromium for each run of consecutive tests of ``tests/web``. Not
  one for the session: Playwright's synchronous API leaves its event loop marked as running in
  the main thread while it is open, so a later test elsewhere could not call ``asyncio.run``;
  with pytest-xdist a worker may run other tests after browser tests.
- ``page``: a fresh context and page per test. A screenshot of every page the test loads (and of
  the last state at the end) goes to ``.cache/artifacts/screenshots/<test>/<n>-<label>.png``;
  ``shots.take(page, "label")`` saves one more at any moment.
- ``static_site``: serves ``src/plebiscite/server/static/`` on the fake origin
  ``https://booth.test/`` (``/static/...`` as the server does, with the same CSP) through
  ``page.route``, without the app: ES modules need http(s), and WebCrypto (``crypto.subtle``)
  needs a secure context, hence https. Returns the origin; the page is on a blank page of it.
- ``js``: ``js(code, *args)`` evaluates an async function body on the page, after
  ``const core = await import("/static/js/belenios/booth-core.js")`` (and ``modules`` for the
  other modules of ``static/js/belenios/``), with ``args`` as ``args``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "plebiscite" / "server" / "static"
ARTIFACTS = ROOT / ".cache" / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("PLEBISCITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--headless=new",
]
ORIGIN = "https://booth.test"

try:  # the server's own policy, once the web router is there
    from plebiscite.server.web import CSP
except ImportError:  # pragma: no cover
    CSP = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    )

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

_STARTED = time.time()  # screenshots taken since then are this run's


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (./dev test installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Shots:
    """Numbered screenshots of one test, in ``ARTIFACTS/<test>/``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    def take(self, page: Any, label: str = "") -> Path | None:
        self.count += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")
        path = self.directory / (
            f"{self.count:02d}-{safe}.png" if safe else f"{self.count:02d}.png"
        )
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception:  # a closed or crashed page: nothing to show
            return None
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    directory = ARTIFACTS / name
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    return Shots(directory)


@pytest.fixture
def page(browser: Any, shots: Shots) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("load", lambda p: shots.take(p, _label(p.url)))
    pg.js_errors = errors  # uncaught errors of the page, for the test to look at
    try:
        yield pg
    finally:
        shots.take(pg, "end")
        context.close()


def _label(url: str) -> str:
    # never the query or the fragment (a token, a credential) in a file's name
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0].split("#")[0]
    return path.replace("/", "_") or "index"


def _serve_static(route: Any) -> None:
    url = route.request.url
    path = url[len(ORIGIN) :].split("?")[0].split("#")[0]
    if path.startswith("/static/"):
        rel = path[len("/static/") :]
        # inside the static tree as written (a symlinked vendor directory is served)
        file = Path(os.path.normpath(STATIC / rel))
        if STATIC in file.parents and file.is_file() and file.suffix in CONTENT_TYPES:
            route.fulfill(
                status=200,
                body=file.read_bytes(),
                headers={
                    "content-type": CONTENT_TYPES[file.suffix],
                    "content-security-policy": CSP,
                    "x-content-type-options": "nosniff",
                },
            )
            return
        route.fulfill(status=404, body="not found", headers={"content-type": "text/plain"})
        return
    first = path.split("/")[1] if path.count("/") else ""
    page_file = {"audit": "audit.html", "booth": "booth.html", "vote": "booth.html"}.get(first)
    body = (
        (STATIC / page_file).read_bytes()
        if page_file and (STATIC / page_file).is_file()
        else b"<!doctype html><html lang='en'><title>test</title><main id='main'></main></html>"
    )
    route.fulfill(
        status=200,
        body=body,
        headers={"content-type": "text/html; charset=utf-8", "content-security-policy": CSP},
    )


@pytest.fixture
def static_site(page: Any) -> str:
    """Serve the static files on https://booth.test/ (see the module's documentation)."""
    page.route(f"{ORIGIN}/**", _serve_static)
    page.goto(f"{ORIGIN}/blank")
    return ORIGIN


_JS_PRELUDE = """async (args) => {
  const core = await import("/static/js/belenios/booth-core.js");
  const modules = {
    bigint: await import("/static/js/belenios/bigint.js"),
    groups: await import("/static/js/belenios/groups.js"),
    hash: await import("/static/js/belenios/hash.js"),
    random: await import("/static/js/belenios/random.js"),
    credentials: await import("/static/js/belenios/credentials.js"),
    election: await import("/static/js/belenios/election.js"),
    ballot: await import("/static/js/belenios/ballot.js"),
  };
"""


@pytest.fixture
def js(page: Any, static_site: str) -> Any:
    """``js(body, *args)``: run an async function body on the static site (see above)."""

    def run(body: str, *args: Any) -> Any:
        return page.evaluate(_JS_PRELUDE + body + "\n}", list(args))

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    # the directories written during this run, by this process or by the pytest-xdist workers
    # (the summary is written by the process that started them, which ran no test)
    dirs = [d for d in ARTIFACTS.glob("*") if d.is_dir() and d.stat().st_mtime >= _STARTED]
    if dirs:
        terminalreporter.write_line(f"browser screenshots: {ARTIFACTS}/ ({len(dirs)} tests)")


# -- elections for the booth tests -------------------------------------------------------------

VECTORS = ROOT / "tests" / "vectors"


def _vector_election(name: str) -> tuple[bytes, list[str]]:
    """The exact election text and the secret credentials of a checked-in election: a
    belenios-tool vector (``tests/vectors/belenios/NAME.bel``), ``plebiscite`` (the known-answer
    election of ``tests/vectors/plebiscite``: RFC-3526-2048, blank, approval, non-homomorphic)
    or ``kat/NAME`` (an election of the Lists known-answer vectors, tests/lists_vectors.py)."""
    if name.startswith("kat/"):
        import lists_vectors

        texts, creds = lists_vectors.setup_texts(name)
        return texts["election"], creds
    if name == "plebiscite":
        d = VECTORS / "plebiscite"
        creds = [line.split()[-1] for line in (d / "private_creds.txt").read_text().splitlines()]
        return (d / "election.json").read_bytes().strip(), creds
    import json

    from plebiscite.protocol.archive import iter_members

    where = "belenios"
    if name.startswith("belenios3/"):  # a belenios-tool 3.0 vector (tests/vectors/belenios3)
        where, name = name.split("/")
    meta = json.loads((VECTORS / where / f"{name}.json").read_text())
    with (VECTORS / where / f"{name}.bel").open("rb") as f:
        data = {m.hash: m.content for m in iter_members(f) if m.kind == "data"}
    for content in data.values():
        if content.startswith(b'{"election":'):
            setup = json.loads(content)
            return data[setup["election"]], list(meta["private_credentials"])
    raise AssertionError(f"no Setup payload in {name}.bel")


def _open_archive(name: str, directory: Path) -> Path:
    """A copy of ``tests/vectors/belenios/NAME.bel`` as ``directory/UUID.bel``, cut just before its
    EndBallots event: the same election, still open for ballots (a running election's archive
    has no end-of-archive blocks)."""
    import json

    from plebiscite.protocol.archive import iter_members

    src = VECTORS / "belenios" / f"{name}.bel"
    uuid = json.loads(src.with_suffix(".json").read_text())["uuid"]
    cut = None
    with src.open("rb") as f:
        for m in iter_members(f):
            if m.kind == "event" and b'"type":"EndBallots"' in m.content:
                cut = m.offset
                break
    content = src.read_bytes()
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / f"{uuid}.bel"
    dest.write_bytes(content if cut is None else content[:cut])
    return dest


@pytest.fixture
def vector_election() -> Any:
    """``vector_election(name) -> (election text, secret credentials)``."""
    return _vector_election


@pytest.fixture
def open_archive() -> Any:
    """``open_archive(name, directory) -> path of an open copy of a belenios-tool vector``."""
    return _open_archive
