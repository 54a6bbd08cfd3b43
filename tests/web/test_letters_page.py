"""Credential letters in Debian's Chromium: the administrator's referendum page shows the
letters' delivery (counts, the failed addresses), sends the failed ones again and reissues a
voter's credential, axe-core clean in English and in Ukrainian on a phone's screen; the booth
takes the credential from a letter's link and takes it out of the address at once."""

from __future__ import annotations

import httpx
import pytest

from mailserver import SmtpServer
from plebiscite.cli.demo_server import demo_record

from .live import LiveServer, demo_server
from .test_a11y import _serious, _sign_in
from .test_booth_page import _voter

__all__ = ["demo_server"]

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp():
    s = SmtpServer()
    yield s
    s.stop()


def test_the_administrator_follows_and_mends_the_delivery(page, shots, smtp, tmp_path):
    smtp.box.refuse["bad@example.org"] = 550
    server = LiveServer(
        tmp_path, demo=False, args=("--smtp-url", smtp.url, "--mail-backoff", "0.2")
    )
    try:
        roll = {"North": ["ann@example.org", "bad@example.org", "cid@example.org"]}
        r = httpx.post(
            f"{server.base}/api/referendums",
            json={
                "referendum": demo_record("lettered", ["North"]),
                "voters": roll,
                "credential_delivery": "mail",
            },
            headers={"authorization": f"Bearer {server.token}"},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        smtp.wait(2)
        _sign_in(page, server)
        page.goto(f"{server.base}/admin/referendum/lettered")
        page.wait_for_selector("#letters-failed", timeout=20_000)
        assert page.text_content("#letter-counts [data-state=sent] td") == "2"
        assert page.text_content("#letter-counts [data-state=failed] td") == "1"
        row = page.text_content("#letters-failed tbody tr")
        assert "bad@example.org" in row and "smtp 550" in row
        shots.take(page, "letters-failed")
        assert _serious(page) == []

        # the address mended at the receiving side: sent again
        smtp.box.refuse.clear()
        page.click("#resend-failed")
        page.wait_for_selector("#letters-none-failed", timeout=20_000)
        smtp.wait(3)

        # a voter's credential reissued: a second letter
        page.fill("#reissue-login", "cid@example.org")
        page.click("#reissue")
        page.wait_for_selector("#status.ok", timeout=20_000)
        smtp.wait(4)
        assert len(smtp.box.to("cid@example.org")) == 2
        page.wait_for_function(
            "() => document.querySelector('#letter-counts [data-state=cancelled] td')"
            ".textContent === '0' && document.querySelector('#letter-counts [data-state=sent]"
            " td').textContent === '4'",
            timeout=20_000,
        )
        page.select_option("[data-lang-select]", "uk")
        page.wait_for_function("() => document.documentElement.lang === 'uk'")
        page.set_viewport_size({"width": 360, "height": 740})
        page.wait_for_timeout(300)
        shots.take(page, "letters-uk-phone")
        assert _serious(page) == []
        assert page.js_errors == []
    finally:
        server.stop()
    log = server.log()
    assert "@example.org" not in log


def test_the_booth_takes_the_credential_from_the_letters_link(page, demo_server: LiveServer):
    uuid, credential = _voter(demo_server, 2)
    page.goto(f"{demo_server.base}/booth/{uuid}#credential={credential}")
    page.wait_for_selector("#credential-next:focus")  # filled: one "Vote" to go
    assert page.input_value("#credential") == credential
    assert page.evaluate("() => location.hash") == ""  # out of sight at once
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")
    assert page.js_errors == []
