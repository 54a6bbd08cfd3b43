"""A poll's result card (``GET /api/polls/ID/card.png``) and the link preview of its page
(``/poll/ID``): in process, on a real SQLite board, a two-shard poll voted in, closed and
counted."""

from __future__ import annotations

import html
import io
import re
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.client import Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.app import create_app

TOKEN = "poll-cards-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
PUBLIC = "https://vote.example.org"
QUESTION = "Where shall we <eat> & drink?"


def iso(seconds_from_now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    board = SQLiteBoard(tmp_path_factory.mktemp("poll-cards") / "board.db")
    app = create_app(
        board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x07" * 32), public_url=PUBLIC
    )
    with TestClient(app, base_url=PUBLIC) as c:
        body = {
            "title": "Lunch",
            "question": QUESTION,
            "answers": ["Pizza", "Sushi"],
            "closing": iso(86400),
            "voters": {"emails": [f"v{i}@example.org" for i in range(4)]},
            "shard_size": 2,
        }
        r = c.post("/api/polls", json=body, headers=ADMIN)
        assert r.status_code == 201, r.text
        created = r.json()
        c.pid = created["id"]
        c.credentials = created["credentials"]
        yield c
    board.close()


def _meta(text: str) -> dict[str, str]:
    out = {}
    for m in re.finditer(r'<meta (name|property)="([^"]+)" content="([^"]*)">', text):
        out[m[2]] = html.unescape(m[3])
    return out


def test_the_poll_card_and_preview_before_and_after_the_close(server):
    c = server
    st = c.get(f"/api/polls/{c.pid}").json()
    assert len(st["shards"]) == 2
    r = c.get(f"/api/polls/{c.pid}/card.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "public, max-age=60"
    assert Image.open(io.BytesIO(r.content)).size == (1200, 630)

    page = c.get(f"/poll/{c.pid}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<eat>" not in page.text
    meta = _meta(page.text)
    assert meta["og:title"] == f"{QUESTION} · plebiscite"  # the question, not the title
    assert meta["og:image"] == f"{PUBLIC}/api/polls/{c.pid}/card.png"
    assert meta["og:url"] == f"{PUBLIC}/poll/{c.pid}"
    assert meta["description"].startswith("Voting open until ")
    assert "(0 of 4)" in meta["description"]

    rng = DeterministicRandom("poll-cards")
    choices = [[[1, 0]], [[1, 0]], [[0, 1]], [[1, 0]]]
    for cred, ch in zip(c.credentials, choices, strict=True):
        Voter.of_election(c, cred["election"], cred["credential"], rng).vote(ch)
    r = c.post(f"/api/polls/{c.pid}/close", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "closed"

    done = c.get(f"/api/polls/{c.pid}/card.png?lang=uk")
    assert done.status_code == 200 and done.headers["cache-control"] == "public, max-age=3600"
    assert done.content != c.get(f"/api/polls/{c.pid}/card.png?lang=en").content
    meta = _meta(c.get(f"/poll/{c.pid}").text)
    assert meta["description"] == f"{QUESTION}: Pizza 3 (75.0%), Sushi 1 (25.0%)"
    uk = _meta(c.get(f"/poll/{c.pid}", headers={"accept-language": "uk"}).text)
    assert uk["og:image"] == f"{PUBLIC}/api/polls/{c.pid}/card.png?lang=uk"


def test_a_referendum_or_an_unknown_id_has_no_poll_card(server):
    c = server
    r = c.get("/api/polls/no-such-poll/card.png")
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    r = c.get(f"/api/polls/{c.pid}/card.png?lang=fr")
    assert r.status_code == 422 and "lang" in r.json()["error"]["message"]
    # an unknown poll's page: the generic preview, the page says it is not found
    meta = _meta(c.get("/poll/no-such-poll").text)
    assert meta["twitter:card"] == "summary" and "og:image" not in meta


def test_the_poll_card_route_is_documented(server):
    spec = server.get("/openapi.json").json()
    op = spec["paths"]["/api/polls/{pid}/card.png"]["get"]
    assert "image/png" in op["responses"]["200"]["content"]
