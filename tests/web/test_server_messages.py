"""The server's refusals in the page's language: the server writes its messages in English
with a stable code; a page in another language says what the code means (``api.CODE`` of the
catalogue) and keeps the server's own words, which name the field at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .live import LiveServer, empty_server

__all__ = ["empty_server"]


I18N = Path(__file__).resolve().parents[2] / "src" / "plebiscite" / "server" / "static" / "i18n"
CATALOGUES = {lang: json.loads((I18N / f"{lang}.json").read_text()) for lang in ("en", "uk", "ru")}

REFUSAL = """
const { api } = await import("/static/js/api.js");
const { initI18n, setLanguage } = await import("/static/js/i18n.js");
await initI18n();
await setLanguage(args[0]);
try {
  await api("/api/elections/NoSuchElection1234");
  return null;
} catch (e) {
  return { status: e.status, code: e.code, message: e.message };
}
"""


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "uk", "ru"])
def test_a_refusal_is_said_in_the_pages_language(page, empty_server: LiveServer, lang):
    page.goto(f"{empty_server.base}/")
    page.wait_for_load_state()
    got = page.evaluate(f"async (args) => {{ {REFUSAL} }}", [lang])
    assert got["status"] == 404 and got["code"] == "unknown_election"
    english = "NoSuchElection1234"
    assert english in got["message"]  # the server's own words are kept
    if lang == "en":
        assert not got["message"].startswith(CATALOGUES["en"]["api.unknown_election"])
    else:
        assert got["message"].startswith(CATALOGUES[lang]["api.unknown_election"])
    assert page.js_errors == []


def test_every_code_the_booth_meets_is_in_every_catalogue():
    for code in (
        "voting_closed",
        "not_yet_open",
        "rate_limited",
        "wrong_credential",
        "credential_taken",
        "not_on_roll",
        "login_failed",
        "proof",
        "unknown_election",
        "board_unavailable",
    ):
        for lang, messages in CATALOGUES.items():
            assert f"api.{code}" in messages, (lang, code)
