"""The result card over HTTP (``GET /api/referendums/ID/card.png``) and the link previews of
the observer dashboard (``/observe/ID``): in process, on a real SQLite board, a referendum
played to its outcome by its parties (plebiscite.cli.demo_server)."""

from __future__ import annotations

import asyncio
import html
import io
import re
import threading
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import play_referendum
from plebiscite.client import Administrator, Observer
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.app import create_app
from plebiscite.server.cards import CardCache, language_of
from plebiscite.server.web import STATIC

TOKEN = "test-admin-token"
PUBLIC = "https://vote.example.org"
HOSTILE = "</title><script>alert(1)</script><meta content=\"x\" name='y'> & <b>Рада</b>"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server (``--public-url`` set) with a referendum played to its outcome, and one open."""
    board = SQLiteBoard(tmp_path_factory.mktemp("cards") / "board.db")
    app = create_app(
        board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x03" * 32), public_url=PUBLIC
    )
    with TestClient(app, base_url=PUBLIC) as c:
        rng = DeterministicRandom("cards")
        final = play_referendum(c, TOKEN, voters=4, regions=2, rng=rng, log=lambda _: None)
        assert final["phase"] == "done"
        c.done = final["id"]
        c.open = _open_referendum(c, HOSTILE)
        yield c
    board.close()


def _open_referendum(c, title: str) -> str:
    now = time.time()
    rid = "hostile"
    Administrator(c, TOKEN).create(
        {
            "version": 1,
            "id": rid,
            "title": title,
            "questions": [{"question": "Да?", "answers": ["Да", "Нет"], "min": 1, "max": 1}],
            "regions": [{"name": "North"}],
            "trustees": {"names": ["Alice"], "threshold": 1},
            "opening": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "closing": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 86400)),
            "rule": {"type": "majority", "question": 0, "answer": 0},
        },
        {"North": ["a", "b"]},
    )
    return rid


def test_the_card_is_a_png_cached_by_the_server_and_the_client(server):
    c = server
    r = c.get(f"/api/referendums/{c.done}/card.png")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=3600"  # the result is final
    assert Image.open(io.BytesIO(r.content)).size == (1200, 630)
    cards = c.app.state.cards
    drawn = cards.drawings
    again = c.get(f"/api/referendums/{c.done}/card.png")
    assert again.content == r.content and cards.drawings == drawn  # from the cache
    # the client's copy is still good
    same = c.get(
        f"/api/referendums/{c.done}/card.png", headers={"if-none-match": r.headers["etag"]}
    )
    assert same.status_code == 304 and same.content == b""
    uk = c.get(f"/api/referendums/{c.done}/card.png?lang=uk")
    assert uk.status_code == 200 and uk.content != r.content and cards.drawings == drawn + 1
    by_header = c.get(f"/api/referendums/{c.done}/card.png", headers={"accept-language": "uk"})
    assert by_header.content == uk.content and cards.drawings == drawn + 1
    # the client names the route
    assert Observer(c).card(c.done, "uk") == uk.content


def test_before_the_close_the_card_is_kept_a_minute(server):
    r = server.get(f"/api/referendums/{server.open}/card.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=60"


def test_an_unknown_referendum_or_language_is_refused_in_json(server):
    r = server.get("/api/referendums/no-such-thing/card.png")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == "unknown_referendum"
    r = server.get(f"/api/referendums/{server.done}/card.png?lang=fr")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "bad_parameter"
    assert "lang" in r.json()["error"]["message"]


def test_the_card_route_is_documented(server):
    spec = server.get("/openapi.json").json()
    op = spec["paths"]["/api/referendums/{rid}/card.png"]["get"]
    assert "image/png" in op["responses"]["200"]["content"]
    assert {"404", "422"} <= set(op["responses"])


def _meta(page: str) -> dict[str, str]:
    out = {}
    for m in re.finditer(r'<meta (name|property)="([^"]+)" content="([^"]*)">', page):
        out[m[2]] = html.unescape(m[3])
    return out


def test_the_dashboard_has_its_link_preview(server):
    c = server
    status = c.get(f"/api/referendums/{c.done}").json()
    r = c.get(f"/observe/{c.done}")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    meta = _meta(r.text)
    assert meta["og:image"] == f"{PUBLIC}/api/referendums/{c.done}/card.png"
    assert meta["og:url"] == f"{PUBLIC}/observe/{c.done}"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:title"] == f"{status['title']} · plebiscite"
    assert f'<title data-i18n="observe.title">{status["title"]} · plebiscite</title>' in r.text
    # the verdict and the first question's counts
    verdict = {"passed": "Passed", "failed": "Rejected"}[status["outcome"]["verdict"]]
    assert meta["description"].startswith(f"{verdict}. Do you approve the proposal?: Yes ")
    assert meta["og:description"] == meta["description"]
    # the rest of the page is the file's
    page = (STATIC / "observe.html").read_text()
    strip = re.compile(r"<title.*?</title>\n(<meta [^\n]*>\n)*", re.S)
    assert strip.sub("", r.text) == strip.sub("", page)
    # in Ukrainian, with the Ukrainian card
    uk = _meta(c.get(f"/observe/{c.done}", headers={"accept-language": "uk,en;q=0.5"}).text)
    assert uk["og:image"] == f"{PUBLIC}/api/referendums/{c.done}/card.png?lang=uk"
    assert uk["description"].startswith("Ухвалено" if verdict == "Passed" else "Відхилено")


def test_a_hostile_title_is_escaped(server):
    r = server.get(f"/observe/{server.open}")
    assert r.status_code == 200
    assert "<script>" not in r.text and "</title><script>" not in r.text
    assert r.text.count("</title>") == 1
    assert r.text.count("<script") == 1  # the page's own module only
    meta = _meta(r.text)
    assert meta["og:title"] == f"{HOSTILE} · plebiscite"
    assert meta["description"].startswith("Voting opens ")  # the ceremony is not done
    assert "Turnout 0.0% (0 of 2)" in meta["description"]
    title = re.search(r"<title[^>]*>(.*?)</title>", r.text, re.S)[1]
    assert html.unescape(title) == f"{HOSTILE} · plebiscite"


def test_an_unknown_referendum_gets_the_page_with_generic_metadata(server):
    r = server.get("/observe/no-such-referendum")
    assert r.status_code == 200
    meta = _meta(r.text)
    assert meta["og:title"] == "plebiscite"
    assert meta["twitter:card"] == "summary"
    assert "og:image" not in meta
    assert meta["og:url"] == f"{PUBLIC}/observe/no-such-referendum"
    head = server.head(f"/observe/{server.done}")
    assert head.status_code == 200
    # a hostile id in the address is escaped where the page names it
    r = server.get("/observe/%22%3E%3Cscript%3Ealert(1)%3C%5Cscript%3E")
    assert r.status_code == 200
    assert r.text.count("<script") == 1
    assert _meta(r.text)["og:url"].startswith(f'{PUBLIC}/observe/"><script>alert(1)<')


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "en"),
        ("uk", "uk"),
        ("fr-FR,ru;q=0.8,uk;q=0.9", "uk"),
        ("ru-RU, en;q=0.1", "ru"),
        ("en;q=0.5, ru;q=0.5", "en"),
        ("uk;q=abc, ru", "ru"),
        ("x" * 5000, "en"),
    ],
)
def test_the_language_of_a_request(header, lang):
    assert language_of(header) == lang


def test_concurrent_requests_for_one_card_cost_one_drawing():
    status = {
        "id": "r",
        "title": "T",
        "phase": "open",
        "record": {"questions": [{"question": "Q?", "answers": ["a", "b"]}], "closing": "x"},
        "regions": [{"name": "N", "status": "open", "height": 3, "roll": 2, "voted": 1}],
        "outcome": None,
    }
    cache = CardCache(size=2)

    async def main():
        pngs = await asyncio.gather(*(cache.get(status, "en") for _ in range(10)))
        assert len(set(pngs)) == 1
        assert cache.drawings == 1
        for lang in ("uk", "ru", "en"):  # en was dropped (the least recently used), drawn again
            await cache.get(status, lang)
        assert cache.drawings == 4 and len(cache.done) == 2
        status["regions"][0]["height"] = 4  # the board changed: a new card
        await cache.get(status, "ru")
        assert cache.drawings == 5

    asyncio.run(main())


def test_a_card_is_drawn_off_the_event_loop(monkeypatch):
    from plebiscite.render import card as render_card

    threads = []
    draw = render_card.draw

    def recording(card):
        threads.append(threading.current_thread())
        return draw(card)

    monkeypatch.setattr(render_card, "draw", recording)
    status = {
        "id": "r",
        "title": "T" * 10_000,  # a title of the longest a record takes
        "phase": "ceremony",
        "record": {"questions": [{"question": "Q" * 10_000, "answers": ["a"]}], "opening": "x"},
        "regions": [],
        "outcome": None,
    }
    png = asyncio.run(CardCache().get(status, "ru"))
    assert Image.open(io.BytesIO(png)).size == (1200, 630)
    assert threads and threads[0] is not threading.main_thread()
