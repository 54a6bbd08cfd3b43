"""The web pages: the home page, the observer dashboard, the administrator's pages (and the
voting booth, the audit page and the public ballot box, built on the same conventions).

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
- **A poll's or referendum's own texts** (its title, questions and answers) are data, not
  catalogue messages: a page shows them through ``static/js/texts.js`` (``textsOf``,
  ``localQuestions``, the booth's ``localElectionQuestions``), in the page's language when the
  record has them (its ``translations``), else the original; only the texts change, never an
  answer's position.
- **Accessible**: one ``<main id="main">`` after a "skip to content" link, every control with a
  ``<label>``, status changes in an ``aria-live`` region, the keyboard focus always visible,
  colours of the site.css palette (contrast at least 4.5:1), usable from 320 px wide; charts
  come with the same data as a table. axe-core (``static/vendor/axe.min.js``, copied by the
  set-up) checks every page in the tests.
- **JavaScript dependencies** come through npm (``web/package.json`` and its lockfile), copied
  by the set-up into ``static/vendor/`` (not in git): uPlot for every chart (the turnout's
  lines, ``static/js/turnout-chart.js``; the result's bars, ``uPlot.paths.bars`` in
  ``static/js/result-charts.js``, whose ``renderResultCharts(status, container)`` draws a
  referendum's or poll's result from its status JSON). A chart is ``role="img"`` with its
  numbers as its text alternative, and the same numbers are in a table beside it.
- **Link previews**: a page about one referendum or poll is listed in :data:`METADATA_PAGES`
  (or its route calls :func:`page_with_metadata`): it is served with its ``<title>``,
  description, Open Graph and Twitter metadata filled in from the public status, every value
  HTML-escaped, ``og:image`` the result card (``GET /api/referendums/ID/card.png``, a poll's
  ``GET /api/polls/ID/card.png``, :mod:`.cards`) at the ``--public-url``; the rest of the
  file is served as it is.
- **The server's refusals** come with a stable ``code`` and an English message; ``api()`` of
  ``static/js/api.js`` gives a page in another language the catalogue's ``api.CODE`` (what the
  code means) followed by the server's own words, which name the field or value at fault.
- **The administrator's token** stays in ``sessionStorage`` and is sent as a Bearer token
  (``static/js/api.js``); the trustees' and authorities' link tokens are shown once, never
  stored. A trustee's page (``/trustee/RID/INDEX#token=...``) reads its own link token from
  the URL fragment and keeps it in that tab's ``sessionStorage``. The booth
  (``/booth/UUID#credential=...``) reads a voter's credential from the fragment and takes it
  out of the address bar at once (``history.replaceState``): it stays in the page's memory,
  never sent, never stored.

The router also carries the public API routes the dashboard needs (:mod:`.dashboard`): the
turnout of every region over time and one live feed for all the regions of a referendum; and
the result card (:mod:`.cards`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute

from plebiscite.errors import PlebisciteError
from plebiscite.render.card import card_of_status
from plebiscite.render.results import format_count, format_percent, message
from plebiscite.server.cards import catalogue, in_language, language_of
from plebiscite.server.cards import poll_router as poll_cards_router
from plebiscite.server.cards import router as cards_router
from plebiscite.server.context import referendums_of
from plebiscite.server.dashboard import router as dashboard_router

__all__ = [
    "CSP",
    "METADATA_PAGES",
    "PAGES",
    "SECURITY_HEADERS",
    "STATIC",
    "metadata",
    "page_with_metadata",
    "router",
]

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
    "/observe/{rid}": "observe.html",  # with its link preview: METADATA_PAGES
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
    # the public ballot box of an election: /ballots/UUID[?tracker=T]
    "/ballots/{uuid}": "ballots.html",
    "/trustee/{rid}/{index}": "trustee.html",
    "/poll/{pid}": "poll.html",  # a poll's share link, with its link preview
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

#: The pages of :data:`PAGES` about one referendum (or poll), served by
#: :func:`page_with_metadata`: the route's one path parameter is its id.
METADATA_PAGES: dict[str, str] = {
    "/observe/{rid}": "observe.html",
    "/poll/{pid}": "poll.html",
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


# -- link previews -------------------------------------------------------------------------------

_TITLE = re.compile(r"(<title\b[^>]*>)(.*?)(</title>)", re.S)
_DESCRIPTION_MAX = 300


def _base_url(request: Request) -> str:
    """The server's address as its users see it: ``--public-url``, else the request's own."""
    public: str | None = getattr(request.app.state, "public_url", None)
    return public if public else str(request.base_url).rstrip("/")


def _description(status: dict[str, Any], messages: dict[str, Any], lang: str) -> str:
    card = card_of_status(status, messages, lang)
    if card.charts:
        first = card.charts[0]
        values = ", ".join(
            f"{r.label} {format_count(r.count, lang)}"
            + (f" ({format_percent(r.share, lang)})" if r.share is not None else "")
            for r in first.rows
        )
        text = f"{first.question}: {values}"
        if card.verdict_text:
            text = f"{card.verdict_text}. {text}"
        return text
    return message(
        messages, "charts.preview-description", state=card.state, turnout=card.turnout_text or ""
    )


def _question(status: dict[str, Any]) -> str:
    """The text of the first question of a status's record ("" if none)."""
    questions = status["record"].get("questions") or [{}]
    first = questions[0]
    return str(first.get("question") or (first.get("value") or {}).get("question") or "")


def metadata(
    status: dict[str, Any] | None, *, base: str, path: str, lang: str = "en"
) -> dict[str, str]:
    """The link-preview metadata of a page at ``path`` about the referendum whose public
    status is ``status`` (None: unknown, the generic metadata): ``title``, ``description`` and
    the Open Graph and Twitter properties, ``og:image`` the referendum's result card. A poll's
    page (``/poll/ID``) is titled by its question and its image is the poll's card
    (``/api/polls/ID/card.png``). The record's texts are in ``lang`` when it has them (its
    translations). Values are plain text, escaped where they are put in the page."""
    messages = catalogue(lang)
    out = {"og:type": "website", "og:site_name": "plebiscite", "og:url": base + path}
    if status is None:
        title, description = "plebiscite", message(messages, "charts.preview-generic")
        out["twitter:card"] = "summary"
    else:
        status = in_language(status, lang)  # the texts in the preview's language, if there
        poll = status["record"].get("kind") == "poll"
        name = (_question(status) or status["title"]) if poll else status["title"]
        title = message(messages, "charts.preview-title", title=name)
        description = _description(status, messages, lang)
        kind = "polls" if poll and path.startswith("/poll/") else "referendums"
        image = f"{base}/api/{kind}/{quote(str(status['id']), safe='')}/card.png"
        if lang != "en":
            image += f"?lang={lang}"
        out |= {
            "og:image": image,
            "og:image:type": "image/png",
            "og:image:width": "1200",
            "og:image:height": "630",
            "og:image:alt": f"{status['title']}: {description}",
            "twitter:card": "summary_large_image",
            "twitter:image": image,
        }
    if len(description) > _DESCRIPTION_MAX:
        description = description[: _DESCRIPTION_MAX - 1].rstrip() + "…"
    out |= {
        "title": title,
        "description": description,
        "og:title": title,
        "og:description": description,
        "twitter:title": title,
        "twitter:description": description,
    }
    return out


def _with_metadata(page: str, meta: dict[str, str]) -> str:
    """``page`` with its ``<title>``'s text replaced and the meta tags after it, every value
    HTML-escaped; nothing else of the page changed."""
    e = html.escape
    tags = [f'<meta name="description" content="{e(meta["description"])}">']
    for k, v in meta.items():
        if k.startswith("og:"):
            tags.append(f'<meta property="{e(k)}" content="{e(v)}">')
        elif k.startswith("twitter:"):
            tags.append(f'<meta name="{e(k)}" content="{e(v)}">')

    def head(m: re.Match[str]) -> str:
        return m[1] + e(meta["title"], quote=False) + m[3] + "\n" + "\n".join(tags)

    return _TITLE.sub(head, page, count=1)


async def page_with_metadata(request: Request, file: str, rid: str) -> Response:
    """The page ``static/FILE`` about the referendum (or poll) ``rid``, with its title,
    description, Open Graph and Twitter metadata filled in from the public status (the
    language of ``Accept-Language``); an unknown ``rid`` gets the generic metadata (the page
    then says it is not found)."""
    path = STATIC / file
    if not path.is_file():
        return _not_found(f"file {path.name!r}")
    status: dict[str, Any] | None
    try:
        status = await referendums_of(request).status(rid)
    except PlebisciteError:  # unknown, or the database failing: the page says so itself
        status = None
    lang = language_of(request.headers.get("accept-language"))
    meta = metadata(status, base=_base_url(request), path=request.url.path, lang=lang)
    text = _with_metadata(path.read_text(encoding="utf-8"), meta)
    return Response(
        text,
        media_type=CONTENT_TYPES[".html"],
        headers={"cache-control": "no-cache", "vary": "accept-language"},
    )


# -- the router ------------------------------------------------------------------------------------


def _pages_router() -> APIRouter:
    r = APIRouter(route_class=_SecureRoute, include_in_schema=False)

    def page(file: str) -> Callable[[], Awaitable[Response]]:
        async def serve() -> Response:
            return _file(STATIC / file)

        return serve

    for path, file in PAGES.items():
        if path not in METADATA_PAGES:
            r.add_api_route(path, page(file), methods=["GET", "HEAD"], name=f"page:{path}")

    def page_about(file: str) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            (rid,) = request.path_params.values()
            return await page_with_metadata(request, file, str(rid))

        return serve

    for path, file in METADATA_PAGES.items():
        r.add_api_route(path, page_about(file), methods=["GET", "HEAD"], name=f"page:{path}")

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
router.include_router(cards_router)
router.include_router(poll_cards_router)
