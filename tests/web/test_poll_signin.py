"""An open poll in Chromium, end to end: created with ``plebiscite poll create --open-pool``
on a real ``plebiscite serve`` signing in with the real provider (``tests/oidc/provider.mjs``),
its page says who may vote and offers "Sign in to vote"; the voter signs in on the provider's
own login page, lands in the booth with the credential filled in from the URL's fragment,
votes and gets the tracker, which the board holds; the page then counts the credential handed
out; once the poll is closed its page shows the result as charts and belenios-tool 3.0 accepts
every shard's archive. Every page axe-clean."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from cli_run import cli
from peers import peer_verifies
from plebiscite.service.referendum import MAX_VOTERS

from .live import LiveServer
from .test_a11y import _serious

pytestmark = pytest.mark.browser
STATIC = Path(__file__).parents[2] / "src" / "plebiscite" / "server" / "static"


@pytest.fixture
def open_server(tmp_path, oidc_provider):
    server = LiveServer(
        tmp_path,
        demo=False,
        args=(*oidc_provider.args, "--poll-shard-size", "3"),
        env=oidc_provider.env,
    )
    try:
        yield server
    finally:
        server.stop()


def test_a_voter_signs_in_from_the_poll_page_and_votes(
    page, shots, open_server: LiveServer, oidc_provider, monkeypatch, tmp_path
):
    server = open_server
    monkeypatch.setenv("PLEBISCITE_ADMIN_TOKEN", server.token)
    here = tmp_path / "organiser"
    here.mkdir()
    question = ["--question", "Tea or coffee?", "--answer", "Tea", "--answer", "Coffee"]
    create = ["poll", "create", "--server", server.base, *question, "--open-pool", "5"]
    rc, out = cli(create, cwd=here)
    assert rc == 0, out
    share = out.splitlines()[0]
    pid = share.rsplit("/", 1)[1]
    assert share == f"{server.base}/poll/{pid}"
    assert "5 credentials in 2 shard(s)" in out and oidc_provider.issuer in out
    assert list(here.iterdir()) == []  # no credentials file: the server holds them
    st = server.get(f"/api/polls/{pid}")
    assert [p["size"] for p in st["voters"]["pools"]] == [3, 2]

    page.goto(share)
    page.wait_for_selector("#poll:not([hidden])")
    assert oidc_provider.issuer in page.text_content("#voters-mode")
    assert "0 of 3" in page.text_content("#voters-pools")
    link = page.locator("#vote-link")
    assert link.text_content() == "Sign in to vote"
    assert link.get_attribute("href") == f"{server.base}/signin/poll/{pid}"
    assert "never two to one account" in page.text_content("#powers-sign-in")
    shots.take(page, "open-poll")
    assert _serious(page) == []

    link.click()
    page.wait_for_url(f"{oidc_provider.issuer}/**")  # the provider's own login page
    page.fill("#login", "voter11")
    page.fill("#password", "password-voter11")
    shots.take(page, "provider-login")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.base}/booth/*")
    uuid = page.url.rsplit("/", 1)[1]
    assert uuid in [s["election"] for s in st["shards"]]
    # the booth took the credential from the fragment, out of the address bar at once
    page.wait_for_selector("#credential-next:focus")
    credential = page.input_value("#credential")
    assert credential and "#" not in page.url
    shots.take(page, "booth")
    assert _serious(page) == []

    page.click("#credential-next")
    page.wait_for_selector("#step-questions:not([hidden])")
    assert page.text_content("#q1 legend") == "Tea or coffee?"
    page.click("label[for='q1-a2']")  # Coffee
    page.click("#encrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    tracker = page.text_content("#review-tracker")
    assert _serious(page) == []
    page.click("#cast")
    page.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    assert page.text_content("#done-tracker") == tracker
    shots.take(page, "cast")
    assert _serious(page) == []
    r = httpx.get(f"{server.base}/api/elections/{uuid}/ballots/{quote(tracker, safe='')}")
    assert r.status_code == 200, r.text
    assert page.js_errors == []

    # the poll's page counts the credential handed out and the vote
    st = server.get(f"/api/polls/{pid}")
    assert sum(p["handed_out"] for p in st["voters"]["pools"]) == 1
    assert st["turnout"]["voted"] == 1
    page.goto(share)
    page.wait_for_selector("#poll:not([hidden])")
    assert "1 of" in page.text_content("#voters-pools")
    assert _serious(page) == []
    assert credential not in server.log()
    rc, out = cli(["poll", "status", "--server", server.base, pid])
    assert rc == 0, out
    assert f"whoever signs in with {oidc_provider.issuer}, at {link.get_attribute('href')}" in out
    assert "pool:       shard-1: " in out and "pool:       shard-2: " in out
    assert "turnout:    1 of 5" in out

    # closed: the result as charts, and every shard's archive is one belenios-tool accepts
    r = httpx.post(
        f"{server.base}/api/polls/{pid}/close",
        headers={"authorization": f"Bearer {server.token}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    page.goto(share)
    page.wait_for_selector("#result table.chart-table")
    assert page.locator("#result canvas").count() >= 1
    counts = page.locator("#result table.chart-table >> nth=0 >> td[data-count]")
    assert counts.evaluate_all("c => c.map(x => x.dataset.count)") == ["0", "1"]
    shots.take(page, "result")
    assert _serious(page) == []
    for shard in st["shards"]:
        d = tmp_path / shard["name"]
        d.mkdir()
        archive = httpx.get(f"{server.base}/api/elections/{shard['election']}/archive", timeout=60)
        (d / f"{shard['election']}.bel").write_bytes(archive.content)
        peer_verifies(d)
    assert page.js_errors == []


def test_the_home_page_makes_an_open_poll_with_nothing_to_hand_on(page, open_server: LiveServer):
    """An open poll from the home page's form: its page offers the sign-in, and there is no
    credential to send (the server keeps them); with trustees, only their links."""
    server = open_server

    def create(question: str, trustees: str = "") -> str:
        page.goto(f"{server.base}/")
        page.wait_for_selector("#poll-mode:not([hidden])")  # this server offers a provider
        page.fill("#poll-question", question)
        page.fill("#poll-answers li >> nth=0 >> input", "Yes")
        page.fill("#poll-answers li >> nth=1 >> input", "No")
        page.check("#poll-mode input[value=open]")
        page.fill("#poll-pool", "5")  # more than a shard of 3: two shards
        if trustees:
            page.click("#poll-form summary")
            page.fill("#poll-trustees", trustees)
        if page.is_visible("#poll-token"):  # asked for once, then kept in this tab
            page.fill("#poll-token", server.token)
        page.click("#poll-create")
        page.wait_for_url(f"{server.base}/poll/**", timeout=30_000)
        page.wait_for_selector("#poll:not([hidden])")
        return page.url.rsplit("/", 1)[1]

    pid = create("Open the library on Sundays?")
    assert page.is_hidden("#created")  # no credential to send: the server holds them
    assert page.text_content("#vote-link") == "Sign in to vote"
    assert page.get_attribute("#vote-link", "href") == f"{server.base}/signin/poll/{pid}"
    st = server.get(f"/api/polls/{pid}")
    assert st["voters"]["count"] == 5 and st["voters"]["mode"] == "open"
    assert [p["size"] for p in st["voters"]["pools"]] == [3, 2]
    assert _serious(page) == []

    pid = create("And on holidays?", "Alice\nBob")
    assert page.text_content("#h-created") == "Send each trustee their link"
    assert page.is_hidden("#created-intro") and page.locator("#download-credentials").count() == 0
    assert f"/trustee/{pid}/1#token=" in page.text_content("#created")
    assert "Waiting for the trustees" in page.text_content("#state")
    assert "only while voting is open" in page.text_content("#vote")
    assert _serious(page) == []
    assert page.js_errors == []


def test_the_form_takes_as_many_credentials_as_the_server():
    form = (STATIC / "js" / "poll-form.js").read_text(encoding="utf-8")
    assert f"const MAX_POOL = {MAX_VOTERS};" in form
