"""``plebiscite poll create --language TAG --translations FILE`` against a real ``plebiscite
serve`` (a child process on a free port, SQLite): the texts in other languages reach the poll's
record and status; a file that is not a JSON object, or a translation the record refuses, is
an error naming what is wrong, and no poll is made."""

from __future__ import annotations

import json

import httpx
import pytest

from cli_run import cli
from web.live import LiveServer

UK = {
    "title": "Ухвалити план?",
    "questions": [{"question": "Ухвалити план?", "answers": ["Так", "Ні"]}],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = LiveServer(tmp_path_factory.mktemp("poll-translations-server"), demo=False)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def admin(monkeypatch, server):
    monkeypatch.setenv("PLEBISCITE_ADMIN_TOKEN", server.token)
    return server


def create(server, tmp_path, *more):
    return cli(
        [
            "poll", "create", "--server", server.base, "--question", "Adopt the plan?",
            "--answer", "Yes", "--answer", "No", "--voter", "ann@example.org",
            "--delivery", "organiser", "--credentials-out", str(tmp_path / "secrets.json"),
            *more,
        ]
    )  # fmt: skip


def test_translations_from_a_file(admin, tmp_path):
    path = tmp_path / "texts.json"
    path.write_text(json.dumps({"uk": UK}, ensure_ascii=False), encoding="utf-8")
    rc, text = create(admin, tmp_path, "--language", "en", "--translations", str(path))
    assert rc == 0, text
    pid = text.splitlines()[0].rsplit("/", 1)[1]
    st = httpx.get(f"{admin.base}/api/polls/{pid}", timeout=30).json()
    assert st["language"] == "en" and st["translations"] == {"uk": UK}


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        ('["uk"]', 2, "expected a JSON object"),
        ('{"uk": 1,}', 2, "texts.json"),
        (json.dumps({"uk": {**UK, "questions": []}}), 1, "request.translations.uk.questions"),
    ],
)
def test_bad_translations(admin, tmp_path, content, status, message):
    before = httpx.get(f"{admin.base}/api/polls", timeout=30).json()
    path = tmp_path / "texts.json"
    path.write_text(content, encoding="utf-8")
    rc, text = create(admin, tmp_path, "--translations", str(path))
    assert rc == status and message in text, text
    assert not (tmp_path / "secrets.json").exists()
    assert httpx.get(f"{admin.base}/api/polls", timeout=30).json() == before


def test_a_missing_file(admin, tmp_path):
    rc, text = create(admin, tmp_path, "--translations", str(tmp_path / "none.json"))
    assert rc == 2 and "none.json" in text
