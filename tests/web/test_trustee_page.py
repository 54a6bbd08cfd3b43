"""The trustee page in Debian's Chromium against a real server: three trustees, each in their
own browser, run the whole 2-of-3 key ceremony with /trustee/RID/INDEX#token=... (the key
generated in the page and downloaded, loaded back through the file input at each later step);
the administrator opens the referendum, voters cast ballots and the administrator closes it,
all through the API; two trustees decrypt every region's tally in the page; the result is
published, and every region's archive passes ``plebiscite verify`` and ``belenios-tool
election verify``. No key file ever reaches the server, and the token never appears in a
request line."""

from __future__ import annotations

import json
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli_run import cli
from peers import peer_verifies
from plebiscite.cli.demo_server import demo_record
from plebiscite.crypto.channel import check_seed
from plebiscite.crypto.rand import SystemRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.server.web import CSP

from .live import LiveServer, empty_server

PLEBISCITE = [sys.executable, "-m", "plebiscite.cli.main"]

__all__ = ["empty_server"]

pytestmark = pytest.mark.browser

REGIONS = ["North", "South"]
VOTERS = {"North": ["n1", "n2", "n3"], "South": ["s1", "s2"]}
YES, NO, BLANK = [0, 1, 0], [0, 0, 1], [1, 0, 0]
A, B, C = [1, 0, 0], [0, 1, 0], [0, 0, 1]
#: the choices of each voter, and the result of each region they make
VOTES = {
    "North": {"n1": [YES, A], "n2": [YES, C], "n3": [NO, A]},
    "South": {"s1": [BLANK, B], "s2": [NO, B]},
}
RESULTS = {"North": [[0, 2, 1], [2, 0, 1]], "South": [[1, 0, 1], [0, 2, 0]]}
WAIT = 60_000


class Trustee:
    """One trustee's own browser (a context of its own: its own sessionStorage and
    downloads), its page and its directory for the key file."""

    def __init__(
        self,
        browser: Any,
        shots: Any,
        server: LiveServer,
        rid: str,
        index: int,
        token: str,
        directory: Path,
    ) -> None:
        self.index, self.token, self.shots = index, token, shots
        self.context = browser.new_context(viewport={"width": 1000, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[tuple[str, str, bytes]] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if "i18n: no message" in m.text else None,
        )
        self.page.on("request", self._record)
        self.url = f"{server.base}/trustee/{rid}/{index}"
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.key_file: Path | None = None

    def _record(self, request: Any) -> None:
        body = request.post_data_buffer or b""
        # what goes on the wire: the URL without its fragment
        self.requests.append((request.method, request.url.split("#")[0], body))

    def shot(self, label: str) -> None:
        self.shots.take(self.page, f"trustee{self.index}-{label}")

    def wait_task(self, *names: str) -> str:
        sel = ", ".join(f'#task-section[data-task="{n}"]' for n in names)
        self.page.wait_for_selector(sel, timeout=WAIT)
        return str(self.page.get_attribute("#task-section", "data-task"))

    def close(self) -> None:
        self.context.close()


def _vote(server: LiveServer, rid: str, credentials: dict[str, dict[str, str]]) -> None:
    rng = SystemRandom()
    for region, votes in VOTES.items():
        raw = httpx.get(
            f"{server.base}/api/referendums/{rid}/regions/{region}/election", timeout=30
        ).content
        election = parse_election(raw)
        for login, choices in votes.items():
            ballot = make_ballot(election, credentials[region][login], choices, rng)
            r = httpx.post(
                f"{server.base}/api/elections/{election.uuid}/ballots", content=ballot, timeout=60
            )
            assert r.status_code == 200, r.text


def _belenios_verify(directory: Path) -> None:
    peer_verifies(directory)


def test_three_trustees_run_the_ceremony_and_decrypt_in_the_page(
    browser, shots, empty_server: LiveServer, tmp_path: Path
):
    server = empty_server
    admin = httpx.Client(
        base_url=server.base, headers={"authorization": f"Bearer {server.token}"}, timeout=300
    )
    rid = f"trustees-{secrets.token_hex(3)}"
    created = admin.post(
        "/api/referendums", json={"referendum": demo_record(rid, REGIONS), "voters": VOTERS}
    )
    assert created.status_code == 201, created.text
    tokens = {t["index"]: t["token"] for t in created.json()["trustees"]}
    trustees = [
        Trustee(browser, shots, server, rid, i, tokens[i], tmp_path / f"trustee{i}")
        for i in (1, 2, 3)
    ]
    try:
        _ceremony(trustees)
        _open_vote_close(admin, server, rid)
        _decrypt(trustees[:2])
        _check_the_result(admin, server, rid, tmp_path)
        # the third trustee's page says the result is out
        t3 = trustees[2]
        t3.page.reload()
        assert t3.wait_task("done") == "done"
        t3.shot("done")
        # in the other languages: every text of every state seen is in the catalogue
        for t, lang in ((t3, "uk"), (trustees[0], "ru")):
            t.page.select_option("[data-lang-select]", lang)
            t.page.wait_for_function("l => document.documentElement.lang === l", arg=lang)
            t.shot(f"done-{lang}")
        _the_key_file_works_with_the_cli(server, rid, trustees[2], tmp_path)
        _nothing_secret_was_sent(trustees)
        for t in trustees:
            assert t.errors == [], t.errors
    finally:
        for t in trustees:
            t.shot("end")
            t.close()
        admin.close()


def _ceremony(trustees: list[Trustee]) -> None:
    # -- step 1: each trustee generates the key, downloads the key file, sends the certificate
    for t in trustees:
        page = t.page
        response = page.goto(f"{t.url}#token={t.token}")
        assert response is not None and response.headers["content-security-policy"] == CSP
        assert t.wait_task("certificate") == "certificate"
        # the token went from the address bar into this tab's sessionStorage
        assert "token" not in page.url
        assert page.evaluate("() => Object.values(sessionStorage)") == [t.token]
        assert page.is_hidden("#key-section")
        t.shot("step1")
        if t.index == 1:
            _step1_with_the_keyboard(t)
        else:
            page.click("#generate")
            page.wait_for_selector("#download-key")
            assert page.is_disabled("#key-saved") and page.is_disabled("#send-certificate")
            with page.expect_download() as download:
                page.click("#download-key")
            _keep_key_file(t, download.value)
            page.check("#key-saved")
            t.shot("step1-generated")
            if t.index == 2:
                assert _axe(page) == []
            page.click("#send-certificate")
        t.wait_task("wait-certificates", "polynomial")
        assert t.key_file is not None
        assert t.key_file.stem in page.inner_text("#facts")

    # -- step 3: each trustee, the page reloaded (nothing secret kept), loads the key file
    for t in trustees:
        page = t.page
        page.reload()
        assert t.wait_task("polynomial") == "polynomial"
        assert page.is_visible("#key-section")
        # the button without a key file: asked for it, the focus on the file input
        page.click("#send-polynomial")
        assert _focused(page) == "key-file"
        assert t.key_file is not None
        if t.index == 1:  # another trustee's key file is refused, with the reason
            other = trustees[1].key_file
            assert other is not None
            page.set_input_files("#key-file", str(other))
            page.wait_for_selector("#status.error")
            assert other.stem in page.inner_text("#status")
            assert page.input_value("#key-file") == ""
        page.set_input_files("#key-file", str(t.key_file))
        page.wait_for_function(
            "n => document.querySelector('#key-state').textContent.includes(n)",
            arg=t.key_file.name,
        )
        t.shot("step3")
        page.click("#send-polynomial")
        t.wait_task("wait-polynomials", "voutput")

    # -- step 5: each trustee checks the shares it received and sends its voutput
    for t in trustees:
        page = t.page
        page.reload()
        assert t.wait_task("voutput") == "voutput"
        assert t.key_file is not None
        page.set_input_files("#key-file", str(t.key_file))
        page.wait_for_function(
            "n => document.querySelector('#key-state').textContent.includes(n)",
            arg=t.key_file.name,
        )
        page.click("#send-voutput")
        t.wait_task("wait-voutputs", "keep")
        t.shot("step5")
    for t in trustees:
        assert t.wait_task("keep") == "keep"


def _keep_key_file(t: Trustee, download: Any) -> None:
    name = download.suggested_filename
    assert name.endswith(".key")
    t.key_file = t.directory / name
    download.save_as(t.key_file)
    seed = check_seed(t.key_file.read_text())
    assert t.key_file.read_text() == seed + "\n"


def _focused(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.id"))


def _step1_with_the_keyboard(t: Trustee) -> None:
    """Generate, download, confirm and send with the keyboard alone, in the focus order."""
    page = t.page
    page.focus("#generate")
    page.keyboard.press("Enter")
    page.wait_for_selector("#download-key")
    assert _focused(page) == "download-key"  # the focus goes to the download
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    _keep_key_file(t, download.value)
    page.keyboard.press("Tab")
    assert _focused(page) == "key-saved"
    page.keyboard.press("Space")
    assert page.is_checked("#key-saved")
    page.keyboard.press("Tab")
    assert _focused(page) == "send-certificate"
    t.shot("step1-generated")
    page.keyboard.press("Enter")


def _axe(page: Any) -> list[str]:
    """axe-core's violations on the page (none checked when the set-up did not copy it)."""
    if not page.evaluate("() => fetch('/static/vendor/axe-core/axe.min.js').then((r) => r.ok)"):
        return []
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return list(page.evaluate("async () => (await axe.run()).violations.map((v) => v.id)"))


def _open_vote_close(admin: httpx.Client, server: LiveServer, rid: str) -> None:
    st = admin.get(f"/api/referendums/{rid}").json()
    assert st["ceremony"]["phase"] == "done" and st["phase"] == "ready"
    opened = admin.post(f"/api/referendums/{rid}/open")
    assert opened.status_code == 200, opened.text
    credentials = {
        r["name"]: {c["login"]: c["credential"] for c in r["credentials"]}
        for r in opened.json()["regions"]
    }
    _vote(server, rid, credentials)
    closed = admin.post(f"/api/referendums/{rid}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["phase"] == "decrypting"


def _decrypt(trustees: list[Trustee]) -> None:
    for t in trustees:
        page = t.page
        page.reload()
        assert t.wait_task("decrypt") == "decrypt"
        assert t.key_file is not None
        page.set_input_files("#key-file", str(t.key_file))
        page.wait_for_function(
            "n => document.querySelector('#key-state').textContent.includes(n)",
            arg=t.key_file.name,
        )
        t.shot("decrypt")
        if t.index == 1:
            assert _axe(page) == []
        page.click("#decrypt")
        t.wait_task("wait-decryption", "done")
        t.shot("decrypted")


def _check_the_result(admin: httpx.Client, server: LiveServer, rid: str, tmp_path: Path) -> None:
    st = admin.get(f"/api/referendums/{rid}").json()
    assert st["phase"] == "done", st
    assert st["outcome"] is not None
    for region in st["regions"]:
        assert region["status"] == "done"
        assert region["decrypted_by"] == [1, 2]
        assert region["result"] == RESULTS[region["name"]]
        uuid = region["election"]
        d = tmp_path / "archives" / uuid
        d.mkdir(parents=True)
        archive = d / f"{uuid}.bel"
        archive.write_bytes(admin.get(f"/api/elections/{uuid}/archive").content)
        rc, out = cli(["verify", str(archive), "--json"])
        assert rc == 0, out
        _belenios_verify(d)


def _the_key_file_works_with_the_cli(
    server: LiveServer, rid: str, t: Trustee, tmp_path: Path
) -> None:
    """The key file the page made and the .dkey fetched with the link token, as the page's
    commands fetch it: ``plebiscite trustee decrypt`` decrypts each region's archive with them
    (the same trustee number found from the key)."""
    assert t.key_file is not None
    r = httpx.get(
        f"{server.base}/api/referendums/{rid}/trustees/{t.index}/dkey",
        headers={"authorization": f"Bearer {t.token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    dkey = t.directory / f"{t.key_file.stem}.dkey"
    dkey.write_bytes(r.content)
    for archive in sorted((tmp_path / "archives").glob("*/*.bel")):
        rc, out = cli(
            [
                "trustee",
                "decrypt",
                "--archive",
                str(archive),
                "--key",
                str(t.key_file),
                "--decryption-key",
                str(dkey),
            ]
        )
        assert rc == 0, out
        pd, owned = out.strip().splitlines()[:2]
        assert json.loads(owned)["owner"] == t.index + 1
        assert set(json.loads(pd)) == {"decryption_factors", "decryption_proofs"}
        # as the page's commands run it: the partial decryption alone, in a new file
        partial = archive.with_suffix(".partial.json")
        p = subprocess.run(
            [
                *PLEBISCITE,
                "trustee",
                "decrypt",
                "--archive",
                str(archive),
                "--key",
                str(t.key_file),
                "--decryption-key",
                str(dkey),
                "--out",
                str(partial),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert p.returncode == 0 and "Broken pipe" not in p.stderr, p.stderr
        (line,) = partial.read_text().splitlines()
        assert set(json.loads(line)) == {"decryption_factors", "decryption_proofs"}
        # the two lines read by a command that stops after the first: no error either
        p = subprocess.run(
            [
                "bash",
                "-c",
                f'{shlex.join(PLEBISCITE)} trustee decrypt --archive "$1" --key "$2" '
                '--decryption-key "$3" | head -n 1',
                "sh",
                str(archive),
                str(t.key_file),
                str(dkey),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert p.returncode == 0 and p.stderr == "", p.stderr


def _nothing_secret_was_sent(trustees: list[Trustee]) -> None:
    """No request of any page carries a seed or a token in its URL; the token goes only in
    the Authorization header, which the server checks."""
    seeds = []
    for t in trustees:
        assert t.key_file is not None
        seeds.append(t.key_file.read_text().strip())
    posted = 0
    for t in trustees:
        for method, url, body in t.requests:
            for seed in seeds:
                assert seed.encode() not in body, (method, url)
                assert seed not in url
            for other in trustees:
                assert other.token not in url
            if method == "POST":
                posted += 1
                json.loads(body)  # every message sent is the JSON of a protocol message
    assert posted >= 3 * 3 + 2 * len(REGIONS)


def test_a_wrong_or_missing_link_token_is_explained_and_can_be_pasted(
    page, shots, empty_server: LiveServer
):
    server = empty_server
    rid = f"links-{secrets.token_hex(3)}"
    r = httpx.post(
        f"{server.base}/api/referendums",
        headers={"authorization": f"Bearer {server.token}"},
        json={"referendum": demo_record(rid, ["North"]), "voters": {"North": ["v1"]}},
        timeout=120,
    )
    assert r.status_code == 201, r.text
    tokens = {t["index"]: t["token"] for t in r.json()["trustees"]}
    url = f"{server.base}/trustee/{rid}/1"

    # no token at all
    page.goto(url)
    page.wait_for_selector("#token-section:not([hidden])")
    assert "#token=" in page.inner_text("#status")
    # another trustee's token: refused by the server, and said so
    page.goto(f"{url}#token={tokens[2]}")
    page.reload()
    page.wait_for_selector("#status.error")
    assert page.is_visible("#token-section")
    assert "trustee 2" in page.inner_text("#status")
    shots.take(page, "wrong-token")
    # the whole link pasted: accepted, kept for the tab, and the first step shown
    page.fill("#token-input", f"{url}#token={tokens[1]}")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#status.ok")
    assert page.is_hidden("#token-section")
    page.wait_for_selector('#task-section[data-task="certificate"]')
    assert page.evaluate("() => Object.values(sessionStorage)") == [tokens[1]]
    assert page.js_errors == []
