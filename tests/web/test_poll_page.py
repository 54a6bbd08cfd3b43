"""The poll in the browser (Debian's Chromium against a real server): created from the home
page's form in one submit, landing on the poll's page with its share link, its QR code, who
holds which power and the voters' credentials shown once; the live turnout while open, the
result encrypted until the close; once closed the result as charts with the same numbers as
tables; every state of the pages axe-clean."""

from __future__ import annotations

import httpx
import pytest

from plebiscite.client import Voter
from plebiscite.crypto.rand import DeterministicRandom

from .live import LiveServer, empty_server
from .test_a11y import _serious, _watch

__all__ = ["empty_server"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mailless_server(tmp_path_factory: pytest.TempPathFactory):
    """A server that cannot send mail: a poll's credentials go to its organiser."""
    server = LiveServer(tmp_path_factory.mktemp("mailless-server"), demo=False, mail=False)
    try:
        yield server
    finally:
        server.stop()


def test_a_poll_created_from_the_home_page(page, shots, mailless_server: LiveServer):
    server = mailless_server
    foreign, no_csp = _watch(page, server.base)
    page.goto(f"{server.base}/")
    page.wait_for_selector("#poll-answers li >> nth=1")
    assert _serious(page) == []
    # an error first: the question is empty, the form says so where it is
    page.click("#poll-create")
    page.wait_for_selector("#poll-form-status.error")
    assert page.get_attribute("#poll-question", "aria-invalid") == "true"
    assert _serious(page) == []

    page.fill("#poll-question", "Where shall we eat?")
    page.fill("#poll-answers li >> nth=0 >> input", "Pizza")
    page.fill("#poll-answers li >> nth=1 >> input", "Sushi")
    page.click("#poll-add-answer")
    page.fill("#poll-answers li >> nth=2 >> input", "Noodles")
    page.click("#poll-add-answer")
    page.click("#poll-answers li >> nth=3 >> button")  # added, then removed
    assert page.locator("#poll-answers li").count() == 3
    page.fill("#poll-voters", "ann@example.org\nbob@example.org, cy@example.org\n")
    page.fill("#poll-token", server.token)
    page.click("#poll-create")
    page.wait_for_url(f"{server.base}/poll/**", timeout=30_000)
    page.wait_for_selector("#poll:not([hidden])")
    pid = page.url.rsplit("/", 1)[1]
    shots.take(page, "poll-page")

    assert page.text_content("#title") == "Where shall we eat?"
    assert page.input_value("#share-link") == f"{server.base}/poll/{pid}"
    page.wait_for_function("() => document.querySelector('#qr').naturalWidth > 0")
    assert page.get_attribute("#qr", "alt")
    assert "server can decrypt every ballot" in page.text_content("#powers")
    assert "Open until" in page.text_content("#state")
    assert page.get_attribute("#vote-link", "href").startswith("/booth/")
    # the credentials, shown once in this tab
    assert page.is_visible("#download-credentials")
    assert "3 voters' credentials" in page.text_content("#created")
    assert _serious(page) == []
    page.click("#copy")
    page.wait_for_selector("#copied:not(:empty)")

    page.reload()
    page.wait_for_selector("#poll:not([hidden])")
    assert page.is_hidden("#created")  # shown once only

    # open: the live turnout, the result encrypted until the close
    assert "0 of 3 voters have voted" in page.text_content("#turnout")
    assert page.get_attribute("#turnout-bar", "value") == "0"
    assert "stays encrypted" in page.text_content("#result")
    assert page.locator("#result canvas").count() == 0
    card = page.locator("#result a.card-link").get_attribute("href")
    assert card == f"/api/polls/{pid}/card.png?lang=en"

    # closed: the result as charts with the same numbers as tables
    st = httpx.get(f"{server.base}/api/polls/{pid}").json()
    assert st["state"] == "open" and len(st["shards"]) == 1
    r = httpx.post(
        f"{server.base}/api/polls/{pid}/close",
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    page.reload()
    page.wait_for_selector("#result table.chart-table")
    assert page.locator("#result canvas").count() >= 1
    assert page.locator("#charts-scope").count() == 0  # one shard: no shard to choose
    rows = page.locator("#result table.chart-table tbody tr")
    assert rows.count() == 3 and "Pizza" in rows.nth(0).text_content()
    counts = page.locator("#result td[data-count]")
    assert counts.evaluate_all("c => c.map(x => x.dataset.count)") == ["0", "0", "0"]
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    page.set_viewport_size({"width": 360, "height": 740})
    shots.take(page, "poll-closed-uk-phone")
    assert _serious(page) == []
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    assert page.js_errors == []
    # the observer dashboard shows a poll too: no decision rule, the counts
    page.goto(f"{server.base}/observe/{pid}")
    page.wait_for_selector("#outcome")
    page.wait_for_selector("#checkpoints .card")
    assert _serious(page) == []
    assert page.js_errors == []
    assert foreign == [] and no_csp == []


def test_an_unknown_poll(page, empty_server: LiveServer):
    page.goto(f"{empty_server.base}/poll/nope")
    page.wait_for_selector("#status.error")
    assert "nope" in page.text_content("#status")
    assert _serious(page) == []


def _with_fields(page, base: str, pid: str, fields: dict) -> None:
    """The poll's real status with ``fields`` set, as a server that reports who may vote
    answers it."""

    def handle(route):
        response = route.fetch()
        route.fulfill(response=response, json=response.json() | fields)

    page.route(f"{base}/api/polls/{pid}", handle)


def test_who_may_vote_and_the_powers_as_the_server_states_them(page, empty_server: LiveServer):
    server = empty_server
    r = httpx.post(
        f"{server.base}/api/polls",
        json={
            "question": "Tea or coffee?",
            "answers": ["Tea", "Coffee"],
            "closing": "2099-01-01T00:00:00Z",
            "voters": {"emails": ["ann@example.org", "bob@example.org"]},
        },
        headers={"authorization": f"Bearer {server.token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    statements = ["The server can decrypt every ballot.", "Anyone can verify the count."]
    powers = {"server_can_decrypt": True, "summary": "...", "statements": statements}
    voters = {"mode": "list", "count": 2, "delivery": "mail", "login_codes": False}
    _with_fields(page, server.base, pid, {"voters": voters, "powers": powers, "vote_link": None})
    page.goto(f"{server.base}/poll/{pid}")
    page.wait_for_selector("#poll:not([hidden])")
    items = page.locator("#powers li")
    assert items.all_text_contents() == statements
    assert "sent each voter their own link by e-mail" in page.text_content("#voters-mode")
    assert "link in the message you received" in page.text_content("#vote-message")
    assert _serious(page) == []

    page.unroute(f"{server.base}/api/polls/{pid}")
    link = f"{server.base}/signin/poll/{pid}"
    pools = [{"shard": "shard-1", "size": 50, "handed_out": 3}]
    voters = {
        "mode": "open",
        "count": 50,
        "delivery": None,
        "login_codes": False,
        "sign_in": {"issuer": "https://id.example.org"},
        "pools": pools,
    }
    _with_fields(page, server.base, pid, {"voters": voters, "powers": powers, "vote_link": link})
    page.reload()
    page.wait_for_selector("#poll:not([hidden])")
    assert "https://id.example.org" in page.text_content("#voters-mode")
    assert "3 of 50" in page.text_content("#voters-pools")
    assert page.get_attribute("#vote-link", "href") == link
    assert page.locator("#vote-message").count() == 0
    assert _serious(page) == []
    assert page.js_errors == []


def test_the_form_offers_what_the_server_offers(page, empty_server: LiveServer):
    server = empty_server
    offered = {"mail": False, "sign_in": ["oidc"], "max_shard_size": 1000}
    page.route(f"{server.base}/api/polls/options", lambda route: route.fulfill(json=offered))
    page.goto(f"{server.base}/")
    page.wait_for_selector("#poll-mode:not([hidden])")
    # a list: this server cannot mail, the links go to the organiser, said plainly
    assert "shown to you once" in page.text_content("#poll-delivery")
    assert page.is_hidden("#poll-pool-field")
    assert _serious(page) == []
    page.check("#poll-mode input[value=open]")
    assert page.is_visible("#poll-pool") and page.is_hidden("#poll-voters")
    page.fill("#poll-question", "Tea or coffee?")
    page.fill("#poll-answers li >> nth=0 >> input", "Tea")
    page.fill("#poll-answers li >> nth=1 >> input", "Coffee")
    page.fill("#poll-pool", "0")
    page.fill("#poll-token", server.token)
    page.click("#poll-create")
    page.wait_for_selector("#poll-form-status.error")
    assert page.get_attribute("#poll-pool", "aria-invalid") == "true"
    page.fill("#poll-pool", "25")
    with page.expect_request(f"{server.base}/api/polls") as sent:
        page.click("#poll-create")
    assert sent.value.post_data_json["voters"] == {"open": {"pool": 25}}
    # this server has no sign-in provider: it refuses, the form says so
    page.wait_for_selector("#poll-form-status.error")
    assert "identity provider" in page.text_content("#poll-form-status")
    assert _serious(page) == []
    assert page.js_errors == []


def test_a_poll_of_two_shards_shows_every_vote_and_each_shard(page, empty_server: LiveServer):
    server = empty_server
    admin = {"authorization": f"Bearer {server.token}"}
    r = httpx.post(
        f"{server.base}/api/polls",
        json={
            "question": "Red or blue?",
            "answers": ["Red", "Blue"],
            "closing": "2099-01-01T00:00:00Z",
            "voters": {
                "emails": [f"v{i}@example.org" for i in range(4)],
                "delivery": "organiser",
            },
            "shard_size": 2,
        },
        headers=admin,
        timeout=60,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    pid = created["id"]
    assert len(created["poll"]["shards"]) == 2
    rng = DeterministicRandom("two-shards")
    choices = [[[1, 0]], [[1, 0]], [[0, 1]], [[1, 0]]]
    for cred, choice in zip(created["credentials"], choices, strict=True):
        Voter.of_election(server.base, cred["election"], cred["credential"], rng).vote(choice)
    page.goto(f"{server.base}/poll/{pid}")
    page.wait_for_selector("#poll:not([hidden])")
    assert "4 of 4 voters have voted" in page.text_content("#turnout")
    assert "stays encrypted" in page.text_content("#result")
    r = httpx.post(f"{server.base}/api/polls/{pid}/close", headers=admin, timeout=60)
    assert r.status_code == 200, r.text
    page.reload()
    page.wait_for_selector("#result table.chart-table")
    assert page.locator("#result canvas").count() >= 1
    counts = page.locator("#result td[data-count]")
    assert counts.evaluate_all("c => c.map(x => x.dataset.count)") == ["3", "1"]
    # each shard on its own: its counts sum to its voters
    options = page.locator("#charts-scope option").evaluate_all("o => o.map(x => x.value)")
    assert options == ["", "shard-1", "shard-2"]
    total = 0
    for shard in ("shard-1", "shard-2"):
        page.select_option("#charts-scope", shard)
        page.wait_for_function(
            "s => document.querySelector('#result table.chart-table caption')"
            ".textContent.includes(s)",
            arg=shard,
        )
        total += sum(int(x) for x in counts.evaluate_all("c => c.map(x => x.dataset.count)"))
    assert total == 4
    assert _serious(page) == []
    assert page.js_errors == []
