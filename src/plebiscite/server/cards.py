"""The result card of a referendum (or poll: they share the id space) and what link previews
need from its public status.

- ``GET /api/polls/{pid}/card.png[?lang=...]``: the same card of a poll (its question, its
  state and turnout, after the close its counts and shares, all shards pooled), the same
  cache; anything but a poll is 404.

- ``GET /api/referendums/{rid}/card.png[?lang=en|uk|ru]``: a 1200×630 PNG of the public status
  (:mod:`plebiscite.render.card`): the title, before the close the state and the turnout, after
  it the bars with counts and shares and the verdict of the decision rule, if there is one.
  Drawn in a worker thread (never on the event loop), at most :data:`DRAWING_AT_ONCE` at once,
  and kept per ``(rid, phase, board heights, language)`` in a cache of at most
  :data:`CACHE_SIZE` cards (least recently used dropped): a popular link costs one drawing until
  a board changes, and requests that arrive while it is drawn wait for that one drawing.
- :func:`catalogue` and :func:`language_of`: the site's message catalogues
  (``static/i18n/LANG.json``) and the language a request prefers (``Accept-Language``), used by
  the card and by the pages' link previews (:func:`plebiscite.server.web.page_with_metadata`).
- :func:`in_language`: a status with its record's title, questions and answers in the card's
  or preview's language when the record has them (its ``translations``), as the pages show
  them (``static/js/texts.js``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from plebiscite.render import card as render_card
from plebiscite.server import schemas
from plebiscite.server.context import referendums_of
from plebiscite.server.http import ApiError
from plebiscite.server.schemas import answers

__all__ = [
    "CACHE_SIZE",
    "DRAWING_AT_ONCE",
    "LANGUAGES",
    "CardCache",
    "card_key",
    "catalogue",
    "in_language",
    "language_of",
    "poll_router",
    "router",
]

I18N = Path(__file__).parent / "static" / "i18n"
LANGUAGES = ("en", "uk", "ru")
#: cards kept in memory (each some tens of KiB)
CACHE_SIZE = 64
#: cards drawn at the same time (each in its own worker thread)
DRAWING_AT_ONCE = 2


@functools.cache
def catalogue(lang: str) -> dict[str, Any]:
    """The message catalogue of ``lang`` (one of :data:`LANGUAGES`)."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for {lang!r}")
    out: dict[str, Any] = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    return out


def language_of(accept_language: str | None) -> str:
    """The first of :data:`LANGUAGES` in an ``Accept-Language`` header by weight, else
    English."""
    best, best_q = "en", 0.0
    for k, part in enumerate((accept_language or "")[:1000].split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().lower().split("-")[0]
        score = q - k * 1e-6  # equal weights: the first one listed
        if base in LANGUAGES and score > best_q:
            best, best_q = base, score
    return best


def _texts_tag(own: str | None, translations: dict[str, Any], lang: str) -> str | None:
    """The translation to show in ``lang`` (texts.js's choice): None for the original texts."""
    base = lang.lower().split("-")[0]
    if own == lang:
        return None
    if lang in translations:
        return lang
    if own is not None and own.lower().split("-")[0] == base:
        return None
    if base in translations:
        return base
    return next((k for k in sorted(translations) if k.lower().split("-")[0] == base), None)


def in_language(status: dict[str, Any], lang: str) -> dict[str, Any]:
    """``status`` (a referendum's, its record as :meth:`Referendum.to_value` writes it) with
    the record's title, questions and answers in ``lang`` when the record has them, else
    ``status`` itself. Only the texts change: every count stays at its answer's position."""
    record = status["record"]
    translations = record.get("translations") or {}
    tag = _texts_tag(record.get("language"), translations, lang)
    if tag is None:
        return status
    texts = translations[tag]
    questions = []
    for q, t in zip(record["questions"], texts["questions"], strict=True):
        words = {"question": t["question"], "answers": t["answers"]}
        questions.append({**q, "value": {**q["value"], **words}} if "value" in q else q | words)
    title = texts["title"]
    return status | {"title": title, "record": record | {"title": title, "questions": questions}}


def card_key(status: dict[str, Any], lang: str) -> tuple[Any, ...]:
    """What a card depends on: the referendum, its phase, every region's board height (a
    board that changed is a new card) and the language."""
    heights = tuple((r.get("name"), r.get("status"), r.get("height")) for r in status["regions"])
    return (status["id"], status["phase"], heights, lang)


class CardCache:
    """The cards drawn, at most ``size`` (least recently used dropped), and the drawings under
    way: a key asked again while it is drawn waits for that drawing."""

    def __init__(self, size: int = CACHE_SIZE, at_once: int = DRAWING_AT_ONCE) -> None:
        self.size = size
        self.done: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.pending: dict[tuple[Any, ...], asyncio.Future[bytes]] = {}
        self.drawings = 0  # how many cards were drawn: the tests count them
        self.at_once = at_once
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        """The limit of drawings at once, of the running event loop."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.at_once))
        return self._slots[1]

    async def get(self, status: dict[str, Any], lang: str) -> bytes:
        key = card_key(status, lang)
        if (png := self.done.get(key)) is not None:
            self.done.move_to_end(key)
            return png
        if (waiting := self.pending.get(key)) is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.pending[key] = future
        try:
            async with self._semaphore():
                shown = in_language(status, lang)
                card = render_card.card_of_status(shown, catalogue(lang), lang)
                png = await anyio.to_thread.run_sync(render_card.draw, card)
            self.drawings += 1
            self.done[key] = png
            while len(self.done) > self.size:
                self.done.popitem(last=False)
            future.set_result(png)
            return png
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        finally:
            del self.pending[key]


def cards_of(app: FastAPI) -> CardCache:
    if not hasattr(app.state, "cards"):
        app.state.cards = CardCache()
    out: CardCache = app.state.cards
    return out


router = APIRouter(prefix="/api/referendums", tags=["referendums"])


@router.get(
    "/{rid}/card.png",
    summary="A referendum's result card (PNG, for link previews)",
    response_class=Response,
    responses=answers(
        200,
        None,
        "the card, 1200×630",
        404,
        422,
        503,
        content={"image/png": {"schema": schemas.BINARY}},
    ),
)
async def card(rid: str, request: Request, lang: str | None = None) -> Response:
    """A 1200×630 PNG of the referendum's public status: its title; before the close its state
    (``open until ...``) and turnout, the result being encrypted until then; after the close
    the bars of each question's counts and shares, all regions pooled, and the verdict of the
    decision rule if there is one. ``lang`` (``en``, ``uk`` or ``ru``; by default the request's
    ``Accept-Language``) is the language of the card's own words. Cached by the server per
    referendum, board heights and language; clients may keep it a minute (an hour once the
    result is published)."""
    lang = _card_language(request, lang)
    status = await referendums_of(request).status(rid)
    return await _card_response(request, status, lang)


def _card_language(request: Request, lang: str | None) -> str:
    """The card's language: ``lang`` if it is one of :data:`LANGUAGES` (else refused), by
    default the request's."""
    if lang is None:
        return language_of(request.headers.get("accept-language"))
    if lang not in LANGUAGES:
        raise ApiError(422, "bad_parameter", f"query parameter lang: one of {', '.join(LANGUAGES)}")
    return lang


async def _card_response(request: Request, status: dict[str, Any], lang: str) -> Response:
    """The card of ``status`` in ``lang`` with its caching headers (a minute; an hour once the
    result is published) and ETag."""
    png = await cards_of(request.app).get(status, lang)
    etag = '"' + hashlib.sha256(png).hexdigest()[:32] + '"'
    age = 3600 if status["phase"] == "done" else 60
    headers = {
        "cache-control": f"public, max-age={age}",
        "etag": etag,
        "vary": "accept-language",
    }
    if etag in (request.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers)
    return Response(png, media_type="image/png", headers=headers)


poll_router = APIRouter(prefix="/api/polls", tags=["polls"])


@poll_router.get(
    "/{pid}/card.png",
    summary="A poll's result card (PNG, for link previews)",
    response_class=Response,
    responses=answers(
        200,
        None,
        "the card, 1200×630",
        404,
        422,
        503,
        content={"image/png": {"schema": schemas.BINARY}},
    ),
)
async def poll_card(pid: str, request: Request, lang: str | None = None) -> Response:
    """A 1200×630 PNG of the poll's public status, as a referendum's card: its question;
    before the close its state and turnout, the result being encrypted until then; after the
    close the bars of each question's counts and shares, all shards pooled. ``lang`` (``en``,
    ``uk`` or ``ru``; by default the request's ``Accept-Language``): the card's language.
    Anything but a poll is 404."""
    lang = _card_language(request, lang)
    status = await referendums_of(request).status(pid)
    if status["record"].get("kind") != "poll":
        raise ApiError(404, "unknown_poll", f"no poll {pid!r} on this server")
    return await _card_response(request, status, lang)
