"""The administrator's pages in Debian's Chromium against a real, empty server: sign in with
the administrator token, create a poll in the browser (questions, a voter list uploaded as
CSV, two trustees), let the trustees run the very commands the page shows them (on their own,
with plebiscite and curl), open it, take the voters' credentials from the page, let the voters
vote, close and tally, let the trustees decrypt, and find the result and the decision on the
administrator's and the observer's pages."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election

from .live import LiveServer, empty_server
from .test_a11y import _serious

__all__ = ["empty_server"]

pytestmark = pytest.mark.browser

VOTERS_CSV = b"login,weight\nann\nben\ncid,2\n"
#: the blank-allowed question: [blank, Yes, No]
VOTES = {"ann": [[0, 1, 0]], "ben": [[0, 0, 1]], "cid": [[0, 1, 0]]}


def _run(commands: str, cwd: Path) -> None:
    """Run a trustee's commands as shown on the page, with this plebiscite on the PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    p = subprocess.run(
        ["bash", "-e", "-c", commands],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, f"{commands}\n---\n{p.stdout}\n{p.stderr}"


def _sign_in(page, server: LiveServer) -> None:
    page.goto(f"{server.base}/admin/")
    page.wait_for_selector("#sign-in:not([hidden])")
    page.fill("#admin-token", server.token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#signed-in:not([hidden])")


def test_a_wrong_token_is_refused_and_nothing_is_kept(page, empty_server: LiveServer):
    page.goto(f"{empty_server.base}/admin/")
    page.wait_for_selector("#sign-in:not([hidden])")
    page.fill("#admin-token", "not-the-token")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#status.error")
    assert page.locator("#signed-in").is_hidden()
    assert page.evaluate("() => sessionStorage.length") == 0
    page.goto(f"{empty_server.base}/admin/new")
    page.wait_for_selector("#need-sign-in:not([hidden])")
    assert page.locator("#create-form").is_hidden()
    assert page.js_errors == []


def test_the_form_explains_what_is_wrong(page, empty_server: LiveServer):
    _sign_in(page, empty_server)
    page.goto(f"{empty_server.base}/admin/new")
    page.wait_for_selector("#create-form:not([hidden])")
    page.fill("#title", "Broken poll")
    page.fill("#questions .q-text", "Anything?")
    page.fill("#regions .r-voters", "ann\nben\nann\n")
    page.fill("#trustees", "Tess")
    page.click("#create")
    page.wait_for_selector("#form-errors:not([hidden])")
    assert "line 3" in page.inner_text("#form-errors")
    assert page.get_attribute("#regions .r-voters", "aria-invalid") == "true"
    assert page.evaluate("() => document.activeElement.classList.contains('r-voters')")
    assert empty_server.get("/api/referendums") == []
    assert page.js_errors == []


def test_the_administrator_runs_a_poll_from_creation_to_result(
    page, shots, empty_server: LiveServer, tmp_path: Path
):
    server = empty_server
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.base + "/", "blob:")) else foreign.append(r.url),
    )
    _sign_in(page, server)

    # -- creation, in the browser
    page.click("#new-link")
    page.wait_for_selector("#create-form:not([hidden])")
    page.fill("#title", "Sunday opening of the library")
    page.press("#title", "Tab")
    rid = page.input_value("#rid")
    assert rid.startswith("sunday-opening-of-the-library-")
    page.fill("#questions .q-text", "Open the library on Sundays?")
    page.set_input_files(
        "#regions .r-file",
        files=[{"name": "voters.csv", "mimeType": "text/csv", "buffer": VOTERS_CSV}],
    )
    page.wait_for_function(
        "() => document.querySelector('#regions .r-voters').value.includes('cid')"
    )
    page.fill("#trustees", "Tess\nTom")
    page.fill("#threshold", "2")
    shots.take(page, "form-filled")
    page.click("#create")
    page.wait_for_selector("#created:not([hidden])", timeout=30_000)
    shots.take(page, "created")
    status = server.get(f"/api/referendums/{rid}")
    assert status["phase"] == "ceremony"
    assert [r["roll"] for r in status["regions"]] == [3]

    # the commands each trustee got, run by the trustees on their own machines
    def block(index: int, step: int) -> str:
        return page.locator(f'pre[data-trustee="{index}"][data-step="{step}"]').text_content()

    commands = {(i, s): block(i, s) for i in (1, 2) for s in (1, 2, 3, 4)}
    # each trustee also gets the link to their own page (the token in the fragment)
    for i in (1, 2):
        href = page.locator(f'section.trustee[data-index="{i}"] a[href*="/trustee/"]')
        assert href.get_attribute("href").startswith(f"{server.base}/trustee/{rid}/{i}#token=")
    for i in (1, 2):
        assert server.token not in commands[(i, 1)]  # the trustee's own token, not the admin's
    homes = {i: tmp_path / f"trustee-{i}" for i in (1, 2)}
    for home in homes.values():
        home.mkdir()
    for step in (1, 2, 3):
        for i in (1, 2):
            _run(commands[(i, step)], homes[i])

    # -- the ceremony is done: open, and take the voters' credentials (shown once)
    page.click("#continue")
    page.wait_for_selector("#open:not([disabled])", timeout=30_000)
    shots.take(page, "ceremony-done")
    page.click("#open")
    page.wait_for_selector("#credentials-once a[download]", timeout=60_000)
    with page.expect_download() as download:
        page.click("#credentials-once a[download]")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(r["login"] for r in rows) == ["ann", "ben", "cid"]
    assert {r["login"]: r["weight"] for r in rows}["cid"] == "2"
    shots.take(page, "opened")

    # -- the voters vote (through the API, as the booth does)
    (region,) = server.get(f"/api/referendums/{rid}")["regions"]
    raw = httpx.get(
        f"{server.base}/api/referendums/{rid}/regions/{region['name']}/election", timeout=30
    ).content
    election = parse_election(raw)
    rng = SystemRandom()
    for row in rows:
        ballot = make_ballot(election, row["credential"], VOTES[row["login"]], rng)
        r = httpx.post(f"{server.base}/api/elections/{election.uuid}/ballots", content=ballot)
        assert r.status_code == 200, r.text
    page.wait_for_function(
        "() => document.querySelector('#turnout tbody td.num').textContent.startsWith('3')",
        timeout=20_000,
    )

    # -- close and tally, then the trustees decrypt
    page.click("#close")
    page.click("#close-confirm")
    page.wait_for_selector("#step-decrypt.current", timeout=60_000)
    shots.take(page, "closed")
    for i in (1, 2):
        _run(commands[(i, 4)], homes[i])
    page.wait_for_selector("#verdict", timeout=60_000)
    assert "Passed" in page.inner_text("#verdict")
    shots.take(page, "published")
    final = server.get(f"/api/referendums/{rid}")
    assert final["phase"] == "done" and final["outcome"]["verdict"] == "passed"
    # Yes 1 + 2 (weighted), No 1
    assert final["regions"][0]["result"] == [[0, 3, 1]]

    # -- the observer's page shows the result and the decision
    page.goto(f"{server.base}/observe/{rid}")
    page.wait_for_selector("#outcome")
    assert page.locator("#outcome .badge.ok").count() == 1
    assert page.locator("#result table").count() >= 2
    assert page.js_errors == []
    assert foreign == []


def test_a_referendum_has_regions_and_an_independent_authority(page, empty_server: LiveServer):
    server = empty_server
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/new")
    page.wait_for_selector("#create-form:not([hidden])")
    page.check("#kind-referendum")
    assert page.locator("#regions .region").count() == 2
    page.fill("#title", "Regional charter")
    page.press("#title", "Tab")
    page.fill("#questions .q-text", "Adopt the charter?")
    names = ["Upland", "Lowland"]
    for k, name in enumerate(names):
        box = page.locator("#regions .region").nth(k)
        box.locator(".r-name").fill(name)
        box.locator(".r-voters").fill(f"{name.lower()}1\n{name.lower()}2\n")
    page.locator("#regions .region").nth(1).locator(".r-authority").select_option("external")
    page.fill("#trustees", "Tess")
    page.fill("#threshold", "1")
    page.select_option("#rule-type", "double-majority")
    page.select_option("#rule-regions-mode", "count")
    page.fill("#rule-regions-value", "2")
    page.click("#create")
    page.wait_for_selector("#created:not([hidden])", timeout=30_000)
    rid = page.input_value("#rid")
    status = server.get(f"/api/referendums/{rid}")
    assert [r["name"] for r in status["regions"]] == names
    assert [r["credential_authority"] for r in status["regions"]] == ["server", "external"]
    assert status["record"]["rule"]["type"] == "double-majority"
    assert status["record"]["rule"]["regions"] == {"count": 2}
    authority = page.locator('.authority[data-region="Lowland"] pre').text_content()
    assert "/regions/Lowland/credentials" in authority
    assert page.js_errors == []


def test_an_administrator_account_signs_in_and_out(page, empty_server: LiveServer):
    server = empty_server
    password = "correct horse battery staple"
    env = dict(os.environ, PLEBISCITE_ADMIN_PASSWORD=password)
    p = subprocess.run(
        [
            *(sys.executable, "-m", "plebiscite.cli.main", "admin-account", "add", "alex"),
            *("--database", str(server.database)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    page.goto(f"{server.base}/admin/")
    page.wait_for_selector("#sign-in:not([hidden])")
    page.fill("#account-name", "alex")
    page.fill("#account-password", "wrong password, surely")
    page.click("#account-form button[type=submit]")
    page.wait_for_selector("#status.error")
    assert page.locator("#signed-in").is_hidden()
    page.fill("#account-password", password)
    page.click("#account-form button[type=submit]")
    page.wait_for_selector("#signed-in:not([hidden])")
    assert "alex" in page.inner_text("#session")
    token = page.evaluate("() => sessionStorage.getItem('plebiscite.admin-token')")
    assert token and token != server.token
    # the session token works for the administrator's routes, until signing out
    ok = httpx.get(f"{server.base}/api/session", headers={"authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["name"] == "alex"
    page.click("#sign-out")
    page.wait_for_selector("#sign-in:not([hidden])")
    assert page.evaluate("() => sessionStorage.length") == 0
    gone = httpx.get(f"{server.base}/api/session", headers={"authorization": f"Bearer {token}"})
    assert gone.status_code == 401
    assert page.js_errors == []


#: the poll with a ranking: question 0 [blank, Yes, No], question 1 a ranking of three
RANKED_VOTES = {
    "ann": [[0, 1, 0], [1, 2, 3]],
    "ben": [[0, 0, 1], [3, 1, 2]],
    "cid": [[0, 1, 0], [2, 3, 1]],
}


def _verify(server: LiveServer, election: str, directory: Path) -> None:
    """The region's archive as anyone downloads it passes ``plebiscite verify``."""
    directory.mkdir()
    archive = directory / f"{election}.bel"
    archive.write_bytes(
        httpx.get(f"{server.base}/api/elections/{election}/archive", timeout=60).content
    )
    p = subprocess.run(
        [sys.executable, "-m", "plebiscite.cli.main", "verify", str(archive)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0 and p.stdout.endswith("VALID\n"), p.stdout + p.stderr


def test_a_poll_with_a_ranking_is_shuffled_then_decrypted(
    page, shots, empty_server: LiveServer, tmp_path: Path
):
    server = empty_server
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/new")
    page.wait_for_selector("#create-form:not([hidden])")
    page.fill("#title", "Which site for the new library")
    page.press("#title", "Tab")
    rid = page.input_value("#rid")
    page.fill("#questions .q-text", "Build a new library?")
    page.click("#add-question")
    ranking = page.locator("#questions .question").nth(1)
    ranking.locator(".q-text").fill("Rank the sites")
    ranking.locator(".q-type").select_option("rank")
    assert ranking.locator(".q-min").is_hidden() and ranking.locator(".rank-only").is_visible()
    ranking.locator(".q-answers").fill("Harbour\nStation\nPark\n")
    # the rule is about the question where one answer is ticked, never the ranking
    assert page.locator("#rule-question option").count() == 1
    # weights are refused while a question is a ranking: every voter weighs 1
    page.fill("#regions .r-voters", "ann\nben\ncid,2\n")
    assert "line 3" in page.inner_text("#regions .r-count")
    page.fill("#trustees", "Tess\nTom")
    page.fill("#threshold", "2")
    page.click("#create")
    page.wait_for_selector("#form-errors:not([hidden])")
    assert "weighs 1" in page.inner_text("#form-errors")
    assert page.get_attribute("#regions .r-voters", "aria-invalid") == "true"
    assert rid not in [r["id"] for r in server.get("/api/referendums")]
    assert _serious(page) == []  # the ranking question, the refused list
    shots.take(page, "weights-refused")
    page.fill("#regions .r-voters", "ann\nben\ncid\n")
    shots.take(page, "form-filled")
    page.click("#create")
    page.wait_for_selector("#created:not([hidden])", timeout=30_000)
    status = server.get(f"/api/referendums/{rid}")
    assert status["group"] == "Ed25519"
    assert status["record"]["questions"][1] == {
        "type": "NonHomomorphic",
        "value": {"answers": ["Harbour", "Station", "Park"], "question": "Rank the sites"},
    }

    def block(index: int, step: int | str) -> str:
        return page.locator(f'pre[data-trustee="{index}"][data-step="{step}"]').text_content()

    commands = {(i, s): block(i, s) for i in (1, 2) for s in (1, 2, 3, "shuffle", 4)}
    homes = {i: tmp_path / f"trustee-{i}" for i in (1, 2)}
    for home in homes.values():
        home.mkdir()
    for step in (1, 2, 3):
        for i in (1, 2):
            _run(commands[(i, step)], homes[i])

    page.click("#continue")
    page.wait_for_selector("#open:not([disabled])", timeout=30_000)
    page.click("#open")
    page.wait_for_selector("#credentials-once a[download]", timeout=60_000)
    with page.expect_download() as download:
        page.click("#credentials-once a[download]")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    (region,) = server.get(f"/api/referendums/{rid}")["regions"]
    raw = httpx.get(
        f"{server.base}/api/referendums/{rid}/regions/{region['name']}/election", timeout=30
    ).content
    election = parse_election(raw)
    rng = SystemRandom()
    for row in rows:
        ballot = make_ballot(election, row["credential"], RANKED_VOTES[row["login"]], rng)
        r = httpx.post(
            f"{server.base}/api/elections/{election.uuid}/ballots", content=ballot, timeout=60
        )
        assert r.status_code == 200, r.text
    page.wait_for_function(
        "() => document.querySelector('#turnout tbody td.num').textContent.startsWith('3')",
        timeout=20_000,
    )

    # -- closed: the server shuffled, the trustees' shuffles are due
    page.click("#close")
    page.click("#close-confirm")
    page.wait_for_selector("#step-decrypt.current #shuffles", timeout=60_000)
    row = page.locator(f'#shuffles tr[data-region="{region["name"]}"]')
    assert "0 of 2" in row.locator(".shuffle-count").inner_text()
    assert row.locator(".shuffle-server").inner_text() == "made"
    page.click("#step-decrypt details summary")
    assert _serious(page) == []  # the shuffles table and the commands
    shots.take(page, "shuffles-due")
    # trustee 1 runs the commands of the page of creation; trustee 2 those of this page,
    # with INDEX and TOKEN set as the page says
    _run(commands[(1, "shuffle")], homes[1])
    page.wait_for_function(
        "() => document.querySelector('#shuffles .shuffle-count').textContent.includes('1 of 2')",
        timeout=20_000,
    )
    shown = page.locator('#step-decrypt pre[data-step="shuffle"]').text_content()
    assert "$((INDEX + 1))" in shown and "$TOKEN" in shown
    token = commands[(2, 1)].split("Bearer ", 1)[1].split('"', 1)[0]
    _run(f"INDEX=2\nTOKEN={token}\n{shown}", homes[2])
    page.wait_for_function(
        "() => document.querySelector('#shuffles .shuffle-state .badge.ok') !== null",
        timeout=20_000,
    )
    assert "Tess" in row.locator(".shuffle-by").inner_text()
    assert "Tom" in row.locator(".shuffle-by").inner_text()
    shots.take(page, "shuffled")

    # -- the decryptions, then the result
    for i in (1, 2):
        _run(commands[(i, 4)], homes[i])
    page.wait_for_selector("#verdict", timeout=60_000)
    assert "Passed" in page.inner_text("#verdict")
    shots.take(page, "published")
    final = server.get(f"/api/referendums/{rid}")
    assert final["phase"] == "done"
    yes_no, ranks = final["regions"][0]["result"]
    assert yes_no == [0, 2, 1]
    assert sorted(ranks) == sorted(v[1] for v in RANKED_VOTES.values())
    _verify(server, election.uuid, tmp_path / "verify")
    assert page.js_errors == []


def test_voters_logging_in_by_e_mail_need_e_mail_logins(page, shots, empty_server: LiveServer):
    server = empty_server
    _sign_in(page, server)
    page.goto(f"{server.base}/admin/new")
    page.wait_for_selector("#create-form:not([hidden])")
    page.fill("#title", "Staff council")
    page.press("#title", "Tab")
    rid = page.input_value("#rid")
    page.fill("#questions .q-text", "Approve the budget?")
    page.fill("#regions .r-voters", "ann@example.org\nben\n")
    page.fill("#trustees", "Tess")
    page.fill("#threshold", "1")
    hint = page.get_attribute("#voter-authentication", "aria-describedby")
    assert "--outbox-dir" in page.inner_text(f"#{hint}")
    page.focus("#voter-authentication")
    page.keyboard.press("Space")  # the checkbox works from the keyboard
    assert page.is_checked("#voter-authentication")
    assert "“ben”" in page.inner_text("#regions .r-count")
    page.click("#create")
    page.wait_for_selector("#form-errors:not([hidden])")
    assert "line 2" in page.inner_text("#form-errors")
    assert "e-mail" in page.inner_text("#form-errors")
    assert page.get_attribute("#regions .r-voters", "aria-invalid") == "true"
    assert rid not in [r["id"] for r in server.get("/api/referendums")]
    assert _serious(page) == []
    shots.take(page, "login-refused")

    sent: list[dict] = []
    page.on(
        "request",
        lambda r: (
            sent.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/api/referendums")
            else None
        ),
    )
    page.fill("#regions .r-voters", "ann@example.org\nben@example.org\n")
    page.click("#create")
    page.wait_for_selector("#created:not([hidden])", timeout=30_000)
    assert sent and sent[0]["voter_authentication"] is True
    assert sent[0]["voters"] == {
        sent[0]["referendum"]["regions"][0]["name"]: [
            "ann@example.org",
            "ben@example.org",
        ]
    }
    assert server.get(f"/api/referendums/{rid}")["voter_authentication"] is True
    page.click("#continue")
    page.wait_for_selector("#voter-login")
    assert "e-mail" in page.inner_text("#voter-login")
    assert page.js_errors == []
