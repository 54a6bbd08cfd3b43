"""A voter of an open poll signs in with the identity provider in Chromium: the server's
``/signin/UUID``, the provider's own login page, back to the server, which lands the browser in
the booth with the credential in the URL's fragment (the booth fills it in where it reads the
fragment); the credential is one of the board's: a ballot made with it is accepted, and the
archive verifies. The booth is axe-core clean."""

from __future__ import annotations

import io

import httpx
import pytest

from plebiscite.client import Administrator, Trustee
from plebiscite.crypto.rand import DeterministicRandom, SystemRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.verifier import verify_archive
from server.test_lifecycle import record
from server.test_robustness import TOKEN, Server

pytestmark = pytest.mark.browser


@pytest.fixture
def signin_server(tmp_path, oidc_provider):
    server = Server(str(tmp_path / "board.db"), tmp_path)
    server.args = oidc_provider.args
    server.env = oidc_provider.env
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _axe(page) -> list[str]:
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return list(
        page.evaluate(
            "async () => (await axe.run()).violations"
            ".filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => v.id)"
        )
    )


def test_a_voter_signs_in_in_the_browser_and_lands_in_the_booth(
    page, shots, signin_server, oidc_provider
):
    base = signin_server.url
    rng = DeterministicRandom("browser sign-in")
    with httpx.Client(base_url=base, timeout=120) as http:
        admin = Administrator(http, TOKEN)
        created = admin.create(
            record(id="poll"), {"North": {"pool": 3}, "South": ["b1"]}, sign_in="oidc"
        )
        trustees = [Trustee(http, "poll", t["index"], t["token"], rng) for t in created["trustees"]]
        for step in ("send_certificate", "send_polynomial", "send_voutput"):
            for t in trustees:
                getattr(t, step)()
        opened = admin.open("poll")
    uuid = next(r for r in opened["regions"] if r["name"] == "North")["election"]

    page.goto(f"{base}/signin/{uuid}")
    assert page.url.startswith(oidc_provider.issuer)  # the provider's own login page
    page.fill("#login", "voter7")
    page.fill("#password", "password-voter7")
    shots.take(page, "provider-login")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/booth/{uuid}*")
    # the booth took the credential from the fragment, out of the address bar at once
    page.wait_for_selector("#credential-next:focus")
    shots.take(page, "booth")
    credential = page.input_value("#credential")
    assert credential
    assert "#" not in page.url
    assert _axe(page) == []
    assert page.js_errors == []

    # the credential is one of the board's: a ballot made with it is accepted
    with httpx.Client(base_url=base, timeout=120) as http:
        raw = http.get("/api/referendums/poll/regions/North/election").content
        election = parse_election(raw)
        ballot = make_ballot(election, credential, [[0, 1, 0], [1, 0, 0]], SystemRandom())
        r = http.post(f"/api/elections/{uuid}/ballots", content=ballot)
        assert r.status_code == 200, r.text
        data = http.get(f"/api/elections/{uuid}/archive").content
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid and report.ballots == 1
    # signing in again in the same browser: the same credential
    page.goto(f"{base}/signin/{uuid}")
    if page.url.startswith(oidc_provider.issuer) and page.locator("#login").count():
        page.fill("#login", "voter7")
        page.fill("#password", "password-voter7")
        page.click("button[type=submit]")
    page.wait_for_url(f"{base}/booth/{uuid}*")
    page.wait_for_selector("#credential-next:focus")
    assert page.input_value("#credential") == credential
    log = "".join(p.read_text() for p in signin_server.workdir.glob("server-*.log"))
    assert credential not in log
