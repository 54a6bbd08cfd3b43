"""The voting booth (/booth/UUID) in Debian's Chromium against a real server with the demo
referendum: a voter enters the credential, chooses, sees the tracker, casts and sees it
confirmed; votes again; audits a ballot (Benaloh's challenge), which is then not cast, and
casts a fresh encryption; belenios-tool and plebiscite verify the board afterwards."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from cli_run import cli
from peers import peer_verifies
from plebiscite.protocol.verifier import Verifier
from plebiscite.server.web import CSP

from .live import LiveServer, demo_server, empty_server

__all__ = ["demo_server", "empty_server"]

pytestmark = pytest.mark.browser


def _voter(server: LiveServer, index: int) -> tuple[str, str]:
    """(election uuid, credential) of a demo voter counted from the end of the list (the
    dashboard's tests cast for the first ones)."""
    region, _login, cred = server.credentials()[-index]
    raw = httpx.get(
        f"{server.base}/api/referendums/{server.rid}/regions/{region}/election", timeout=30
    ).content
    return json.loads(raw)["uuid"], cred


def _open_booth(page, server: LiveServer, uuid: str, credential: str) -> None:
    response = page.goto(f"{server.base}/booth/{uuid}")
    assert response.headers["content-security-policy"] == CSP
    page.wait_for_selector("#credential:focus")  # the booth puts the focus where to type
    page.keyboard.type(credential)
    page.keyboard.press("Enter")
    page.wait_for_selector("#step-questions:not([hidden])")


def _choose(page, picks: list[str]) -> None:
    """Tick the inputs ``#q1-a2``... by keyboard-less clicks on their labels."""
    for pick in picks:
        page.click(f"label[for='{pick}']")


def _encrypt(page) -> str:
    page.click("#encrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    return page.text_content("#review-tracker")


def _cast(page) -> tuple[str, str]:
    page.click("#cast")
    page.wait_for_selector("#step-done:not([hidden])", timeout=30_000)
    return page.text_content("#done-tracker"), page.text_content("#done-height")


def _axe(page) -> list[str]:
    """The accessibility violations axe-core finds on the page (ids)."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return list(page.evaluate("async () => (await axe.run()).violations.map((v) => v.id)"))


def _on_board(server: LiveServer, uuid: str, tracker: str) -> bool:
    r = httpx.get(f"{server.base}/api/elections/{uuid}/ballots/{quote(tracker, safe='')}")
    return r.status_code == 200


def test_a_voter_casts_votes_again_and_the_board_verifies(
    page, shots, demo_server: LiveServer, tmp_path
):
    server = demo_server
    uuid, credential = _voter(server, 1)
    _open_booth(page, server, uuid, credential)
    assert page.text_content("#q1 legend") == "Do you approve the proposal?"
    shots.take(page, "questions")
    assert _axe(page) == []
    _choose(page, ["q1-a1", "q2-a3"])  # Yes, Option C
    tracker = _encrypt(page)
    shots.take(page, "review")
    assert "Yes" in page.text_content("#review-choices")
    assert _axe(page) == []
    assert page.evaluate("document.activeElement.id") == "review-heading"
    done, height = _cast(page)
    shots.take(page, "cast")
    assert done == tracker and int(height) > 0
    assert _on_board(server, uuid, tracker)

    # a revote: the same credential, other choices; the last ballot counts
    page.click("#vote-again")
    page.wait_for_selector("#step-questions:not([hidden])")
    _choose(page, ["q1-a0", "q2-a1"])  # blank, Option A
    second = _encrypt(page)
    assert second != tracker
    assert "Blank vote" in page.text_content("#review-choices")
    assert _cast(page)[0] == second
    assert page.js_errors == []

    # the archive with both ballots verifies in belenios-tool and plebiscite
    archive = httpx.get(f"{server.base}/api/elections/{uuid}/archive", timeout=60).content
    (tmp_path / f"{uuid}.bel").write_bytes(archive)
    peer_verifies(tmp_path)
    v = Verifier(lambda: io.BytesIO(archive))
    report = v.run()
    assert report.valid, [f.describe() for f in report.findings]
    rc, out = cli(["voter", "check", second, "--archive", str(tmp_path / f"{uuid}.bel")])
    assert rc == 0, out
    rc, out = cli(["voter", "check", tracker, "--archive", str(tmp_path / f"{uuid}.bel")])
    assert rc == 1 and "replaces it" in out


def test_the_audit_path(page, shots, demo_server: LiveServer, tmp_path):
    server = demo_server
    uuid, credential = _voter(server, 2)
    _open_booth(page, server, uuid, credential)
    _choose(page, ["q1-a2", "q2-a2"])  # No, Option B
    audited = _encrypt(page)
    page.click("#audit-ballot")
    page.wait_for_selector("#audit-status.ok", timeout=30_000)
    shots.take(page, "audit")
    assert page.text_content("#audit-tracker") == audited
    audit = json.loads(page.input_value("#audit-json"))
    ballot = page.input_value("#audit-ballot-json")
    assert [a["choices"] for a in audit["answers"]] == [[0, 0, 1], [0, 1, 0]]

    # the independent check: plebiscite voter-audit on the audit file the booth offers
    with page.expect_download() as info:
        page.click("#audit-save")
    bundle = tmp_path / "audit.json"
    info.value.save_as(bundle)
    saved = json.loads(bundle.read_text())
    assert saved["ballot"] == ballot and saved["audit"] == audit
    rc, out = cli(["voter-audit", str(bundle)])  # the file as the booth saved it
    assert rc == 0, out

    # then the booth encrypts again: a new ballot, cast; the audited one never is
    page.click("#reencrypt")
    page.wait_for_selector("#step-review:not([hidden])", timeout=30_000)
    fresh = page.text_content("#review-tracker")
    assert fresh != audited
    assert _cast(page)[0] == fresh
    shots.take(page, "cast-after-audit")
    assert _on_board(server, uuid, fresh)
    assert not _on_board(server, uuid, audited)
    assert page.js_errors == []


def test_choices_and_credential_are_checked_before_encrypting(page, shots, demo_server):
    server = demo_server
    uuid, credential = _voter(server, 3)
    page.goto(f"{server.base}/booth/{uuid}")
    page.wait_for_selector("#credential:focus")
    page.fill("#credential", credential[:-1])  # a character missing
    page.click("#credential-next")
    assert page.get_attribute("#credential", "aria-invalid") == "true"
    assert "typing error" in page.text_content("#credential-error")
    page.fill("#credential", credential)
    page.click("#credential-next")
    page.wait_for_selector("#step-questions:not([hidden])")
    page.click("#encrypt")  # nothing chosen
    page.wait_for_selector("#status.error")
    shots.take(page, "problems")
    assert page.get_attribute("#q1", "aria-invalid") == "true"
    assert page.get_attribute("#q2", "aria-invalid") == "true"
    assert page.text_content("#q1-error") == "Choose one answer."
    assert page.evaluate("document.activeElement.id") == "q1-a1"
    # keyboard: arrows move within a question's radio group, the choice follows
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "q1-a2"
    page.select_option("[data-lang-select]", "ru")
    page.locator("html[lang=ru]").wait_for(state="attached")
    shots.take(page, "ru")
    assert page.text_content("label[for='q1-a0']") == "Пустой голос"
    assert page.is_checked("#q1-a2")  # the choices survive the change of language
    assert page.text_content("#status") == "2 вопроса требуют внимания."
    assert page.get_attribute("#q2", "aria-invalid") == "true"
    assert page.text_content("#q2-error") == "Выберите один ответ."


def test_every_message_of_the_booth_is_in_the_catalogues():
    """The booth says its status with tell("key"), which the catalogue test does not see, and
    the questions name their texts with message("key") (static/js/belenios/questions/)."""
    static = Path(__file__).parents[2] / "src" / "plebiscite" / "server" / "static"
    js = static / "js"
    sources = [js / "booth.js", js / "audit.js", js / "booth-forms.js"]
    sources += sorted((js / "belenios" / "questions").glob("*.js"))
    text = "".join(f.read_text() for f in sources)
    keys = set(re.findall(r"""\b(?:tell|t|message)\(\s*["']([\w.-]+)["']""", text))
    keys |= set(re.findall(r'"(booth\.hint-[\w-]+)"', text))
    assert len(keys) > 50
    assert {"booth.hint-lists", "booth.lists-other-list", "audit.candidate-slot"} <= keys
    for lang in ("en", "uk", "ru"):
        catalogue = json.loads((static / "i18n" / f"{lang}.json").read_text())
        assert keys <= set(catalogue), (lang, sorted(keys - set(catalogue)))


@pytest.fixture(scope="module")
def login_server(tmp_path_factory):
    """A demo server that sends voters' one-time codes to a local outbox directory."""
    import os
    import sys

    from .live import ADMIN_TOKEN, free_port

    directory = tmp_path_factory.mktemp("booth-login")
    server = LiveServer.__new__(LiveServer)
    server.directory = directory
    server.port = free_port()
    server.base = f"http://127.0.0.1:{server.port}"
    server.token = ADMIN_TOKEN
    server.database = directory / "board.db"
    server.demo_dir = directory / "demo"
    server.voted = 0
    server._log = directory / "server.log"
    server.outbox = directory / "outbox"
    args = [
        sys.executable,
        "-m",
        "plebiscite.cli.main",
        "serve",
        "--database",
        str(server.database),
        "--port",
        str(server.port),
        "--demo",
        "--demo-voters",
        "4",
        "--demo-dir",
        str(server.demo_dir),
        "--outbox-dir",
        str(server.outbox),
        "--public-url",
        server.base,
    ]
    env = dict(os.environ, PLEBISCITE_ADMIN_TOKEN=ADMIN_TOKEN)
    with server._log.open("wb") as out:
        server.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        server._wait()
        (ref,) = server.get("/api/referendums")
        server.rid = ref["id"]
        yield server
    finally:
        server.proc.terminate()
        server.proc.wait(timeout=30)


def _body(eml: bytes) -> str:
    import email

    message = email.message_from_bytes(eml)
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def _messages(outbox: Path, count: int) -> list[str]:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        files = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
        if len(files) >= count:
            return [_body(f.read_bytes()) for f in files]
        time.sleep(0.2)
    raise AssertionError("no message in the outbox")


def test_a_voter_logs_in_by_code_then_by_link(page, shots, login_server):
    server = login_server
    region, _login, credential = server.credentials()[0]
    login = "voter@example.org"
    raw = httpx.get(
        f"{server.base}/api/referendums/{server.rid}/regions/{region}/election", timeout=30
    ).content
    uuid = json.loads(raw)["uuid"]
    r = httpx.post(
        f"{server.base}/api/elections/{uuid}/voter-authentication",
        json={"voters": [login]},
        headers={"authorization": f"Bearer {server.token}", "origin": server.base},
        timeout=30,
    )
    assert r.status_code == 200, r.text

    page.goto(f"{server.base}/booth/{uuid}")
    page.wait_for_selector("#step-login:not([hidden])")
    shots.take(page, "login")
    page.fill("#login", login)
    page.click("#send-code")
    page.wait_for_selector("#code:focus")
    (message,) = _messages(server.outbox, 1)
    code = re.search(r"^\s+([0-9A-Z]{5}-[0-9A-Z]{5})\s*$", message, re.M)[1]
    page.fill("#code", code)
    page.click("#log-in")
    page.wait_for_selector("#step-credential:not([hidden])")
    page.fill("#credential", credential)
    page.click("#credential-next")
    _choose(page, ["q1-a1", "q2-a1"])
    tracker = _encrypt(page)
    assert _cast(page)[0] == tracker
    shots.take(page, "cast-with-session")

    # the link of a second message logs in by itself (the booth serves /vote/ links too)
    r = httpx.post(
        f"{server.base}/api/elections/{uuid}/login-code",
        json={"login": login},
        headers={"origin": server.base},
        timeout=30,
    )
    assert r.status_code == 202, r.text
    link = re.search(r"(http://\S+#login=\S+)", _messages(server.outbox, 2)[-1])[1]
    page.goto("about:blank")  # (the same page with another fragment would not reload)
    page.goto(link.replace("/vote/", "/booth/"))
    page.wait_for_selector("#credential:focus")
    assert "#login" not in page.url  # the spent token is out of the address bar
    assert page.js_errors == []


def test_every_kind_of_question_in_the_booth(page, shots, static_site, vector_election):
    """The booth on a mock API (page.route) with the known-answer election: RFC-3526-2048,
    a yes/no question with blank, an approval question (0 to 2 answers, checkboxes) and a
    ranking (non-homomorphic); the ballot it casts verifies in Python."""
    from plebiscite.crypto.context import Context
    from plebiscite.crypto.hashing import h_json
    from plebiscite.protocol.ballot import parse_ballot, verify_ballot
    from plebiscite.protocol.messages import parse_election

    raw, creds = vector_election("plebiscite")
    election = parse_election(raw)
    cast: list[bytes] = []

    def api(route) -> None:
        url, method = route.request.url, route.request.method
        path = url.split("://", 1)[1].split("/", 1)[1]
        if path == f"api/elections/{election.uuid}":
            route.fulfill(json={"uuid": election.uuid, "status": "open"})
        elif path == f"api/elections/{election.uuid}/election":
            route.fulfill(body=raw, headers={"content-type": "application/json"})
        elif path.endswith("/voter-authentication"):
            route.fulfill(json={"required": False, "codes": False})
        elif path.endswith("/ballots") and method == "POST":
            body = route.request.post_data_buffer
            ctx = Context(election.group, election.public_key)
            verify_ballot(parse_ballot(body, election), election, ctx)
            cast.append(body)
            route.fulfill(json={"tracker": h_json(body), "height": 42})
        else:
            route.fulfill(status=404, json={"error": {"code": "not_found", "message": path}})

    page.route(f"{static_site}/api/**", api)
    page.goto(f"{static_site}/booth/{election.uuid}")
    page.wait_for_selector("#credential:focus")
    page.fill("#credential", creds[2])
    page.click("#credential-next")
    page.wait_for_selector("#step-questions:not([hidden])")
    # approval: checkboxes; a blank vote elsewhere is a radio; ranks are numbers
    assert page.get_attribute("#q2-a1", "type") == "checkbox"
    assert page.get_attribute("#q1-a0", "type") == "radio"
    _choose(page, ["q1-a0", "q2-a1", "q2-a2", "q2-a3"])  # blank; three of "up to two"
    for j, rank in enumerate(["2", "3", "1"], start=1):
        page.fill(f"#q3-a{j}", rank)
    page.click("#encrypt")
    page.wait_for_selector("#status.error")
    shots.take(page, "too-many")
    assert page.get_attribute("#q2", "aria-invalid") == "true"
    assert page.get_attribute("#q1", "aria-invalid") is None
    _choose(page, ["q2-a2"])  # untick one: A and C
    tracker = _encrypt(page)
    review = page.text_content("#review-choices")
    assert "Blank vote" in review and "X: 2" in review
    assert _cast(page)[0] == tracker
    shots.take(page, "cast")
    (ballot,) = cast
    assert h_json(ballot) == tracker
    assert page.js_errors == []


def _region_election(server: LiveServer, region: str) -> dict:
    raw = httpx.get(
        f"{server.base}/api/referendums/{server.rid}/regions/{region}/election", timeout=30
    ).content
    return json.loads(raw)


def test_the_credential_of_the_link_fills_the_step_and_the_done_step_links_the_ballot(
    page, shots, demo_server: LiveServer
):
    """/booth/UUID#credential=CRED: the credential fills the step, leaves the address bar at
    once and is never sent; one "Vote" leads to the questions; once cast, the done step links
    to the ballot in the ballot box, which opens at it."""
    server = demo_server
    uuid, credential = _voter(server, 4)
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(f"{r.url} {r.post_data or ''} {r.headers.get('referer', '')}"),
    )
    page.goto(f"{server.base}/booth/{uuid}#credential={quote(credential, safe='')}")
    page.wait_for_selector("#credential-next:focus")
    assert "#" not in page.url and page.url == f"{server.base}/booth/{uuid}"
    assert page.input_value("#credential") == credential
    assert page.is_visible("#credential-from-link")
    assert page.text_content("#credential-next") == "Vote"
    shots.take(page, "from-link")
    assert _axe(page) == []
    page.keyboard.press("Enter")  # the one "Vote"
    page.wait_for_selector("#step-questions:not([hidden])")
    _choose(page, ["q1-a1", "q2-a2"])
    tracker = _encrypt(page)
    done, _height = _cast(page)
    assert done == tracker
    href = page.get_attribute("#done-ballot-box", "href")
    assert href == f"/ballots/{uuid}?tracker={quote(tracker, safe='')}"
    shots.take(page, "done-link")
    page.click("#done-ballot-box")
    page.wait_for_selector("#this-ballot")
    assert tracker in page.text_content("#this-ballot")
    assert "counted" in page.text_content("#this-ballot")
    assert not any(credential in s for s in sent)
    assert page.js_errors == []


def test_a_credential_of_another_region_is_refused_naming_it(page, shots, demo_server: LiveServer):
    """The booth derives the public credential and asks the server: a credential of another
    region is refused at the credential step with that region's name and a link to its booth;
    one of no election of the server is refused as not on the list."""
    from plebiscite.crypto.credentials import generate_credential
    from plebiscite.crypto.rand import SystemRandom

    server = demo_server
    voters = server.credentials()
    region, _login, credential = voters[0]
    other = next(r for r, _, _ in voters if r != region)
    mine, theirs = _region_election(server, region), _region_election(server, other)
    page.goto(f"{server.base}/booth/{theirs['uuid']}")
    page.wait_for_selector("#credential:focus")
    page.fill("#credential", credential)
    page.click("#credential-next")
    page.wait_for_selector("#credential-elsewhere:not([hidden])")
    shots.take(page, "other-region")
    error = page.text_content("#credential-error")
    assert f"not for this election but for “{mine['name']}”" in error
    assert page.get_attribute("#credential", "aria-invalid") == "true"
    assert page.get_attribute("#credential-elsewhere", "href") == f"/booth/{mine['uuid']}"
    assert mine["name"] in page.text_content("#credential-elsewhere")
    assert page.is_hidden("#step-questions")
    assert page.evaluate("document.activeElement.id") == "credential"
    assert _axe(page) == []

    page.fill("#credential", generate_credential(SystemRandom()))
    page.click("#credential-next")
    page.wait_for_function(
        "() => document.querySelector('#credential-error').textContent.includes('voter list')"
    )
    assert f"not on the voter list of “{theirs['name']}”" in page.text_content("#credential-error")
    assert page.is_hidden("#credential-elsewhere")
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert "немає у списку виборців" in page.text_content("#credential-error")
    assert page.js_errors == []


def test_a_closed_election_s_booth_says_so(page, shots, empty_server: LiveServer):
    """An election whose board is closed: the booth says so at once, asks for no credential,
    and links to the ballot box."""
    from conftest import peer_vector
    from tamper import Archive

    server = empty_server
    path, _meta = peer_vector("open")
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    admin = {"authorization": f"Bearer {server.token}", "origin": server.base}
    r = httpx.post(f"{server.base}/api/elections", json=texts, headers=admin, timeout=60)
    assert r.status_code in (201, 409), r.text
    uuid = json.loads(texts["election"])["uuid"]
    r = httpx.post(f"{server.base}/api/elections/{uuid}/close", headers=admin, timeout=60)
    assert r.status_code in (200, 409), r.text
    page.goto(f"{server.base}/booth/{uuid}")
    page.wait_for_selector("#step-closed:not([hidden])")
    shots.take(page, "closed")
    assert page.text_content("#status") == "Voting is closed in this election."
    assert page.is_hidden("#step-credential")
    assert page.is_hidden("#closed-dashboard-item")  # no referendum: no dashboard
    assert page.get_attribute("#closed-ballots", "href") == f"/ballots/{uuid}"
    assert _axe(page) == []
    page.select_option("[data-lang-select]", "uk")
    page.wait_for_function("() => document.documentElement.lang === 'uk'")
    assert page.text_content("#status") == "Голосування в цих виборах закрите."
    assert page.js_errors == []


def test_a_booth_before_the_opening_gives_the_time(page, static_site, vector_election):
    """The voting hours as the server gives them (a mock API): the opening time in the
    voter's language, and a link to the referendum's dashboard."""
    raw, _creds = vector_election("plebiscite")
    uuid = json.loads(raw)["uuid"]

    def api(route) -> None:
        path = route.request.url.split("://", 1)[1].split("/", 1)[1]
        if path == f"api/elections/{uuid}":
            route.fulfill(json={"uuid": uuid, "status": "open"})
        elif path == f"api/elections/{uuid}/election":
            route.fulfill(body=raw, headers={"content-type": "application/json"})
        elif path == f"api/elections/{uuid}/voting":
            route.fulfill(
                json={
                    "election": uuid,
                    "accepting": False,
                    "refusal": {"code": "not_yet_open", "message": "voting opens at ..."},
                    "opening": "2030-06-01T09:00:00Z",
                    "closing": "2030-06-02T09:00:00Z",
                    "closed_at": None,
                    "now": "2030-05-01T00:00:00Z",
                    "referendum": {"id": "r-1", "title": "T", "region": "A", "regions": []},
                }
            )
        else:
            route.fulfill(status=404, json={"error": {"code": "not_found", "message": path}})

    page.route(f"{static_site}/api/**", api)
    page.goto(f"{static_site}/booth/{uuid}")
    page.wait_for_selector("#step-closed:not([hidden])")
    assert page.text_content("#status").startswith("Voting opens on Jun 1, 2030")
    assert page.get_attribute("#closed-dashboard", "href") == "/observe/r-1"
    page.select_option("[data-lang-select]", "ru")
    page.wait_for_function("() => document.documentElement.lang === 'ru'")
    assert page.text_content("#status").startswith("Голосование откроется 1 июн. 2030")
    assert page.js_errors == []
