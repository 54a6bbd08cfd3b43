"""A poll from the first click to the verified result, in Debian's Chromium against a real
server and the test's real SMTP server: created from the home page for a list of voters, every
voter's letter received and its link followed to the booth (the credential filled in from the
fragment), every vote cast there, the result shown as charts, and every shard's archive
accepted by belenios-tool 3.0. And the booth of a mail poll not open yet: it says when it
opens and links the poll's page."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from mailserver import SmtpServer
from peers import peer_verifies

from .live import LiveServer
from .test_a11y import _serious

pytestmark = pytest.mark.browser

LINK = re.compile(r"(http://\S+/booth/[1-9A-HJ-NP-Za-km-z]+#credential=[1-9A-HJ-NP-Za-km-z-]+)")
VOTERS = [f"voter{i}@example.org" for i in range(5)]


@pytest.fixture
def smtp():
    s = SmtpServer()
    yield s
    s.stop()


@pytest.fixture
def mail_server(tmp_path, smtp):
    server = LiveServer(
        tmp_path,
        demo=False,
        args=("--smtp-url", smtp.url, "--mail-backoff", "0.2", "--poll-shard-size", "2"),
    )
    try:
        yield server
    finally:
        server.stop()


def _link(message) -> str:
    m = LINK.search(message.get_content())
    assert m is not None, message.get_content()
    return m.group(1)


def _vote_through(page, link: str, answer: int) -> str:
    """Follow a letter's link, vote for answer ``answer`` (from 1), return the tracker."""
    page.goto("about:blank")  # a link to the same booth is a new page load, as from a letter
    page.goto(link)
    page.wait_for_selector("#credential-next:focus")  # filled in from the fragment
    assert "#" not in page.url  # and taken out of the address at once
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")
    page.click(f"label[for='q1-a{answer}']")
    page.click("#encrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    page.click("#cast")
    page.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    return page.text_content("#done-tracker") or ""


def test_a_mail_poll_from_the_home_page_to_the_verified_result(
    page, shots, smtp, mail_server: LiveServer, tmp_path
):
    server = mail_server
    page.goto(f"{server.base}/")
    page.wait_for_selector("#poll-answers li >> nth=1")
    page.wait_for_function(
        "() => document.querySelector('#poll-delivery').textContent.includes('e-mail')"
    )
    page.fill("#poll-question", "Where shall we eat?")
    page.fill("#poll-answers li >> nth=0 >> input", "Pizza")
    page.fill("#poll-answers li >> nth=1 >> input", "Sushi")
    page.fill("#poll-voters", "\n".join(VOTERS))
    page.fill("#poll-token", server.token)
    page.click("#poll-create")
    page.wait_for_url(f"{server.base}/poll/**", timeout=60_000)
    page.wait_for_selector("#poll:not([hidden])")
    pid = page.url.rsplit("/", 1)[1]
    assert "sent each voter their own link by e-mail" in page.text_content("#voters-mode")
    assert _serious(page) == []
    st = httpx.get(f"{server.base}/api/polls/{pid}", timeout=30).json()
    assert st["voters"]["delivery"] == "mail" and len(st["shards"]) >= 2

    # every voter receives one letter and votes through its link
    letters = smtp.wait(len(VOTERS))
    assert sorted(m["To"] for m in letters) == sorted(VOTERS)
    choices = [1, 2, 1, 1, 2]  # Pizza 3, Sushi 2
    trackers = []
    for message, answer in zip(letters, choices, strict=True):
        assert "Where shall we eat?" in message.get_content()
        trackers.append(_vote_through(page, _link(message), answer))
    shots.take(page, "voted")
    assert len(set(trackers)) == len(VOTERS)
    assert page.js_errors == []

    page.goto(f"{server.base}/poll/{pid}")
    page.wait_for_selector("#poll:not([hidden])")
    assert f"{len(VOTERS)} of {len(VOTERS)} voters have voted" in page.text_content("#turnout")
    r = httpx.post(
        f"{server.base}/api/polls/{pid}/close",
        headers={"authorization": f"Bearer {server.token}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    page.reload()
    page.wait_for_selector("#result table.chart-table")
    assert page.locator("#result canvas").count() >= 1
    shots.take(page, "result")
    counts = page.locator("#result table.chart-table >> nth=0 >> td[data-count]")
    assert counts.evaluate_all("c => c.map(x => x.dataset.count)") == ["3", "2"]
    assert _serious(page) == []
    assert page.js_errors == []

    # every shard's archive is an ordinary Belenios record: belenios-tool 3.0 accepts it
    st = httpx.get(f"{server.base}/api/polls/{pid}", timeout=30).json()
    assert st["result"]["pooled"]["result"] == [[3, 2]]
    for shard in st["shards"]:
        d = tmp_path / shard["name"]
        d.mkdir()
        uuid = shard["election"]
        archive = httpx.get(f"{server.base}/api/elections/{uuid}/archive", timeout=60)
        (d / f"{uuid}.bel").write_bytes(archive.content)
        peer_verifies(d)


def test_the_booth_of_a_mail_poll_not_open_yet(page, smtp, mail_server: LiveServer):
    server = mail_server
    opening = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    r = httpx.post(
        f"{server.base}/api/polls",
        json={
            "question": "Tea or coffee?",
            "answers": ["Tea", "Coffee"],
            "opening": opening,
            "closing": "2099-01-01T00:00:00Z",
            "voters": {"emails": ["early@example.org"]},
        },
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    (letter,) = smtp.wait(1)
    page.goto(_link(letter))
    page.wait_for_selector("#step-closed:not([hidden])")
    assert "Voting opens on" in page.text_content("#status")
    assert page.get_attribute("#closed-dashboard", "href") == f"/poll/{pid}"
    assert page.is_hidden("#closed-ballots")
    assert _serious(page) == []
    assert page.js_errors == []
