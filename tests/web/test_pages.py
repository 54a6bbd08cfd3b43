"""The web pages without a browser: security headers, content types, the page conventions
(no inline script or style, no HTML built from data, nothing from another origin) and the
message catalogue (the same keys in every language, every key the pages use)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.crypto.signing import SigningKey
from plebiscite.server.app import create_app
from plebiscite.server.web import CSP, PAGES, STATIC

LANGUAGES = ("en", "uk", "ru")
#: another engineer's code, with its own conventions (no page texts)
NOT_PAGES = ("js/belenios/", "vendor/")
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _ours(pattern: str) -> list[Path]:
    return [
        p
        for p in sorted(STATIC.rglob(pattern))
        if not any(p.relative_to(STATIC).as_posix().startswith(x) for x in NOT_PAGES)
    ]


@pytest.fixture
def client(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(board, admin_token="t", key=SigningKey.from_seed(b"\x02" * 32))
    with TestClient(app) as c:
        yield c
    board.close()


def _example(path: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda m: "x/y" if m[2] else "x", path)


def test_the_csp_is_strict():
    assert CSP == EXPECTED_CSP
    assert "unsafe" not in CSP


def test_every_page_is_html_with_the_csp(client):
    served = 0
    for path, file in PAGES.items():
        r = client.get(_example(path))
        if not (STATIC / file).exists():
            assert r.status_code == 404
            continue
        served += 1
        assert r.status_code == 200, path
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert r.headers["content-security-policy"] == EXPECTED_CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.text.startswith("<!doctype html>")
    assert served >= 1


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/static/js/i18n.js", "text/javascript; charset=utf-8"),
        ("/static/css/site.css", "text/css; charset=utf-8"),
        ("/static/i18n/uk.json", "application/json"),
        ("/static/favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_have_their_content_type(client, path, ctype):
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"] == ctype
    assert r.headers["content-security-policy"] == EXPECTED_CSP
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/js/..%2f..%2fapp.py",
        "/static/.hidden",
        "/static/js/",
        "/static/nope.js",
        "/static/i18n",
    ],
)
def test_nothing_outside_the_static_tree(client, path):
    r = client.get(path)
    assert r.status_code == 404, path
    assert "import" not in r.text


def test_the_api_is_unchanged_and_documented(client):
    assert client.get("/api/referendums").json() == []
    spec = client.get("/openapi.json").json()
    assert "/api/referendums/{rid}/turnout" in spec["paths"]
    assert not any(p.startswith(("/static", "/observe", "/admin")) for p in spec["paths"])
    assert client.get("/api/referendums/nope/turnout").status_code == 404


# -- conventions of the page sources ---------------------------------------------------------------


def test_no_inline_script_style_or_handler():
    for page in _ours("*.html"):
        text = page.read_text()
        for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S | re.I):
            assert 'src="/static/' in m[1] and not m[2].strip(), f"{page.name}: inline script"
        assert not re.search(r"<style\b", text, re.I), f"{page.name}: <style>"
        assert not re.search(r"\sstyle\s*=", text, re.I), f"{page.name}: style attribute"
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), f"{page.name}: event handler"
        assert not re.search(r"javascript:", text, re.I), page.name


def test_no_html_from_strings_and_no_eval():
    for js in _ours("*.js"):
        text = js.read_text()
        for bad in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert bad not in text, f"{js.name}: {bad}"
        assert not re.search(r"new Function\s*\(", text), js.name


def test_nothing_from_another_origin():
    for f in [*_ours("*.html"), *_ours("*.js"), *_ours("*.css")]:
        text = f.read_text()
        # a quoted address of another origin ("https://…", "//host/…"), or url(https://…)
        for m in re.finditer(r"""["'`](?:https?:)?//[A-Za-z0-9]|url\(\s*(?:https?:)?//""", text):
            raise AssertionError(f"{f.name}: external reference {m[0]!r}")
        assert "@import" not in text or f.suffix != ".css"


# -- the message catalogue ---------------------------------------------------------------------


def _catalogue(lang: str) -> dict[str, object]:
    out: dict[str, object] = json.loads((STATIC / "i18n" / f"{lang}.json").read_text())
    return out


def _placeholders(message: object) -> set[str]:
    texts = message.values() if isinstance(message, dict) else [message]
    return {p for t in texts for p in re.findall(r"\{(\w+)\}", str(t))}


def test_the_catalogues_have_the_same_keys_and_placeholders():
    en = _catalogue("en")
    for lang in LANGUAGES:
        cat = _catalogue(lang)
        assert set(cat) == set(en), (
            f"{lang}: missing {sorted(set(en) - set(cat))}, extra {sorted(set(cat) - set(en))}"
        )
        for key, message in cat.items():
            if isinstance(message, dict):
                assert "other" in message and set(message) <= {
                    "zero",
                    "one",
                    "two",
                    "few",
                    "many",
                    "other",
                }, f"{lang} {key}"
                assert all(isinstance(v, str) and v for v in message.values()), f"{lang} {key}"
            else:
                assert isinstance(message, str) and message, f"{lang} {key}"
            assert _placeholders(message) == _placeholders(en[key]), f"{lang} {key}"


def _used_keys() -> dict[str, str]:
    """Every catalogue key the pages name: data-i18n, data-i18n-attr, t("...") and i18n: "..."."""
    used: dict[str, str] = {}
    for page in _ours("*.html"):
        text = page.read_text()
        for k in re.findall(r'data-i18n="([^"]+)"', text):
            used[k] = page.name
        for spec in re.findall(r'data-i18n-attr="([^"]+)"', text):
            for pair in spec.split(";"):
                used[pair.split(":", 1)[1].strip()] = page.name
    namespaces = {k.split(".", 1)[0] for k in _catalogue("en")}
    for js in _ours("*.js"):
        text = js.read_text()
        for k in re.findall(r"""\bt\(\s*["']([\w.-]+)["']""", text):
            used[k] = js.name
        for k in re.findall(r"""\bi18n:\s*["']([\w.-]+)["']""", text):
            used[k] = js.name
        # any other string literal that looks like a key ("observe.turnout", passed around)
        for k in re.findall(r"""["']([a-z]+\.[\w-]+)["']""", text):
            if k.split(".", 1)[0] in namespaces:
                used[k] = js.name
    return used


def test_every_key_the_pages_use_is_in_the_catalogue():
    en = _catalogue("en")
    used = _used_keys()
    assert used
    missing = {k: f for k, f in used.items() if k not in en}
    assert not missing, missing


def test_no_text_outside_the_catalogue_in_the_pages():
    """Every text node of the pages' HTML is the default of an element with data-i18n."""
    for page in _ours("*.html"):
        text = page.read_text()
        body = re.sub(r"<script\b.*?</script>", "", text, flags=re.S | re.I)
        # drop the elements translated by data-i18n (their text is only the English default)
        body = re.sub(r"<(\w+)[^>]*\bdata-i18n=\"[^\"]+\"[^>]*>[^<]*</\1>", "", body)
        leftover = [
            t.strip()
            for t in re.findall(r">([^<]+)<", body)
            if t.strip() and t.strip() not in ("plebiscite",)
        ]
        assert not leftover, f"{page.name}: untranslated text {leftover}"


# -- JavaScript dependencies ---------------------------------------------------------------------

WEB = Path(__file__).parents[2] / "web"


def test_javascript_dependencies_are_pinned_by_the_lockfile():
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    wanted = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
    assert wanted
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version}: not an exact version"
        locked = lock["packages"][f"node_modules/{name}"]
        assert locked["version"] == version and locked["integrity"].startswith("sha512-")


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/static/vendor/uplot/uPlot.esm.js", "text/javascript; charset=utf-8"),
        ("/static/vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
        ("/static/vendor/axe-core/axe.min.js", "text/javascript; charset=utf-8"),
    ],
)
def test_vendored_files_are_served(client, path, ctype):
    assert (STATIC / path.removeprefix("/static/")).is_file(), (
        "the set-up copies them: run web/setup.sh (./dev test does)"
    )
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"] == ctype
