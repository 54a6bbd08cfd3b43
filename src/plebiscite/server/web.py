"""The web pages: the home page, the observer dashboard, the administrator's pages (and the
voting booth and audit pages, built on the same conventions).

Every byte a page needs is served by plebiscite itself, from ``server/static/``; no page
refers to another origin. Every response of this router carries a strict Content-Security-Policy
(:data:`CSP`: no inline script or style, no ``eval``, nothing from another origin, no framing)
and ``X-Content-Type-Options: nosniff``. The API under ``/api`` is untouched: the pages are
clients of it like any other.

Conventions for a page (``static/NAME.html`` served at the routes of :data:`PAGES`):

- **No inline script, style or event handler** (the CSP refuses them): one ES module
  ``static/js/NAME.js`` loaded with ``<script type="module" src="/static/js/NAME.js">`` and the
  shared ``static/css/site.css``. The page reads its parameters from ``location.pathname``
  (e.g. ``/observe/RID``).
- **Data are hostile input**: render what the API returns with ``textContent`` (or the helper
  ``el()`` of ``static/js/dom.js``), never ``innerHTML``, ``insertAdjacentHTML`` or
  ``document.write``; links built from data go through ``encodeURIComponent``.
- **Every string in the message catalogue** ``static/i18n/{en,uk,ru}.json`` (same keys in the
  three; a value is a string with ``{name}`` placeholders, or for plurals an object keyed by
  ``Intl.PluralRules`` category, ``other`` always present). In HTML: ``data-i18n="key"``
  (text content) and ``data-i18n-attr="attribute:key;..."`` (attributes such as ``aria-label``
  or ``placeholder``); in JavaScript: ``t(key, params)`` from ``static/js/i18n.js``. The
  language comes from the ``<select data-lang-select>`` of the page header, remembered in
  ``localStorage``, by default from ``navigator.language``; ``await initI18n()`` first, and
  listen for the ``i18n:changed`` event on ``document`` to re-render texts made in JavaScript.
- **Accessible**: one ``<main id="main">`` after a "skip to content" link, every control with a
  ``<label>``, status changes in an ``aria-live`` region, the keyboard focus always visible,
  colours of the site.css palette (contrast at least 4.5:1), usable from 320 px wide; charts
  come with the same data as a table. axe-core (``static/vendor/axe.min.js``, copied by the
  set-up) checks every page in the tests.
- **JavaScript dependencies** come through npm (``web/package.json`` and its lockfile), copied
  by the set-up into ``static/vendor/`` (not in git): uPlot for charts.
- **The administrator's token** stays in ``sessionStorage`` and is sent as a Bearer token
  (``static/js/api.js``); the trustees' and authorities' link tokens are shown once, never
  stored. A trustee's page (``/trustee/RID/INDEX#token=...``) reads its own link token from
  the URL fragment and keeps it in that tab's ``sessionStorage``.

The router also carries the public API routes the dashboard needs (:mod:`.dashboard`): the
turnout of every region over time and one live feed for all the regions of a referendum.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from plebiscite.server.dashboard import router as dashboard_router

__all__ = ["CSP", "PAGES", "SECURITY_HEADERS", "STATIC", "router"]

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}

#: The page routes: each route path serves ``static/FILE``. A page absent from the tree (the
#: booth or the audit page before they land) answers 404.
PAGES: dict[str, str] = {
    "/": "index.html",
    "/observe/{rid}": "observe.html",
    "/admin/": "admin.html",
    "/admin/new": "admin-new.html",
    "/admin/referendum/{rid}": "admin-referendum.html",
    "/docs": "docs.html",  # the API documentation, drawn from /openapi.json
    "/booth": "booth.html",
    "/booth/{rest:path}": "booth.html",
    # the voters' one-time login links (voterauth) land in the booth
    "/vote/{rest:path}": "booth.html",
    "/audit": "audit.html",
    "/audit/{rest:path}": "audit.html",
    "/trustee/{rid}/{index}": "trustee.html",
    "/poll/{pid}": "poll.html",  # a poll's share link
}

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}

_SAFE_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")


class _SecureRoute(APIRoute):
    """A route whose every response carries :data:`SECURITY_HEADERS`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            response = await handler(request)
            for k, v in SECURITY_HEADERS.items():
                response.headers.setdefault(k, v)
            return response

        return secured


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "not_found", "message": f"no {what}"}}, 404)


def _file(path: Path) -> Response:
    ctype = CONTENT_TYPES.get(path.suffix)
    if ctype is None or not path.is_file():
        return _not_found(f"file {path.name!r}")
    # revalidated each time (ETag): a new version of plebiscite is seen at once
    return FileResponse(path, media_type=ctype, headers={"cache-control": "no-cache"})


def _static_path(sub: str) -> Path | None:
    """The file under ``STATIC`` that ``sub`` names, or None: no ``..``, no hidden file."""
    parts = sub.split("/")
    if not parts or not all(_SAFE_PART.match(p) for p in parts):
        return None
    return STATIC.joinpath(*parts)


# -- the router ------------------------------------------------------------------------------------


def _pages_router() -> APIRouter:
    r = APIRouter(route_class=_SecureRoute, include_in_schema=False)

    def page(file: str) -> Callable[[], Awaitable[Response]]:
        async def serve() -> Response:
            return _file(STATIC / file)

        return serve

    for path, file in PAGES.items():
        r.add_api_route(path, page(file), methods=["GET", "HEAD"], name=f"page:{path}")

    @r.get("/admin", name="admin-redirect")
    async def admin_redirect() -> Response:
        return Response(status_code=308, headers={"location": "/admin/"})

    @r.get("/static/{sub:path}", name="static")
    async def static(sub: str) -> Response:
        path = _static_path(sub)
        return _not_found("such file") if path is None else _file(path)

    return r


#: Everything this module serves: ``app.include_router(web.router)``.
router = APIRouter()
router.include_router(_pages_router())
router.include_router(dashboard_router)
