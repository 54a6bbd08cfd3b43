"""A real OpenID Connect provider for the tests (panva's ``oidc-provider`` run by
``provider.mjs``, Node from Debian, the package from ``web/node_modules``), and the browser's
part of the authorization code flow driven with httpx: the sign-in at ``/signin/UUID``, the
provider's login form, back to the server's callback."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SCRIPT = HERE / "provider.mjs"
PACKAGE = ROOT / "web" / "node_modules" / "oidc-provider"
CLIENT_ID = "plebiscite-tests"
#: the redirect URI registered: any port of the loopback address (a native client)
REDIRECT_URI = "http://127.0.0.1/signin/callback"


def subject_of(login: str) -> str:
    """The ``sub`` the provider gives the account ``login`` (as provider.mjs makes it)."""
    return hashlib.sha256(f"plebiscite test account {login}".encode()).hexdigest()[:32]


def password_of(login: str) -> str:
    return f"password-{login}"


class ProviderError(Exception):
    pass


@dataclass
class Provider:
    """A running provider: its ``issuer`` URL and this server's client at it."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    proc: subprocess.Popen[str] = field(repr=False)
    output: list[str] = field(default_factory=list, repr=False)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a ``plebiscite serve`` signing in with this provider."""
        return {"PLEBISCITE_OIDC_CLIENT_SECRET": self.client_secret}

    @property
    def args(self) -> list[str]:
        return ["--oidc-issuer", self.issuer, "--oidc-client-id", self.client_id]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start(
    accounts: int = 40, timeout: float = 60, *, port: int = 0, secret: str | None = None
) -> Provider:
    """Start provider.mjs on a free port (or ``port``) and wait for its issuer URL; the
    client's secret is random unless given. Each start signs with a new key."""
    node = shutil.which("node")
    if node is None:
        raise ProviderError("node is not installed (./dev test installs it with npm)")
    if not PACKAGE.is_dir():
        raise ProviderError(f"{PACKAGE} is missing: run web/setup.sh (./dev test does)")
    secret = secret or os.urandom(24).hex()
    proc = subprocess.Popen(
        [
            node,
            str(SCRIPT),
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            secret,
            "--redirect-uri",
            REDIRECT_URI,
            "--accounts",
            str(accounts),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    found: list[str] = []
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:  # its output, kept for the failures' messages
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if not found and line.startswith("http://"):
                found.append(line.strip())
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(timeout) or not found:
        proc.kill()
        raise ProviderError(f"the provider did not start: {''.join(output)[-2000:]}")
    return Provider(found[0], CLIENT_ID, secret, proc, output)


_FORM = re.compile(r'<form method="post" action="([^"]+)"')


@dataclass
class SignedIn:
    """Where a sign-in ended: the server's last answer and, if it went to the booth, the
    credential of the fragment."""

    response: httpx.Response
    location: str | None
    credential: str | None


def sign_in(
    server: httpx.Client,
    browser: httpx.Client,
    uuid: str,
    login: str,
    password: str | None = None,
    *,
    tamper: dict[str, str] | None = None,
    callback_params: dict[str, str] | None = None,
) -> SignedIn:
    """The browser's part of a sign-in: ``GET /signin/UUID`` on ``server`` (a client whose
    base URL is the server's; it keeps the server's cookie), the provider's login form filled
    with ``login`` through ``browser`` (it keeps the provider's cookies), and back to the
    server's callback, whatever address the redirect URI names. ``tamper``: parameters of the
    authorization request changed on the way to the provider; ``callback_params``: of the
    callback's query."""
    r = server.get(f"/signin/{uuid}")
    if r.status_code != 303:
        return SignedIn(r, None, None)
    url = r.headers["location"]
    if tamper:
        url = str(httpx.URL(url).copy_merge_params(tamper))
    params = provider_answer(browser, url, login, password)
    if callback_params:
        params |= callback_params
    r = server.get("/signin/callback", params=params)
    location = r.headers.get("location") if r.status_code == 303 else None
    credential = None
    if location and "#credential=" in location:
        credential = location.split("#credential=", 1)[1]
    return SignedIn(r, location, credential)


def provider_answer(
    browser: httpx.Client, url: str, login: str, password: str | None = None
) -> dict[str, str]:
    """Follow the authorization request ``url`` at the provider, sign in to its form as
    ``login``: the query of the redirect back to the client (code, state, iss)."""
    for _ in range(10):  # the provider's redirects, to its login form
        r = browser.get(url)
        if r.status_code not in (302, 303):
            break
        url = urljoin(url, r.headers["location"])
    m = _FORM.search(r.text)
    assert r.status_code == 200 and m, r.text[:2000]
    url = urljoin(url, m.group(1))
    r = browser.post(url, data={"login": login, "password": password or password_of(login)})
    for _ in range(10):
        assert r.status_code in (302, 303), r.text[:2000]
        url = urljoin(url, r.headers["location"])
        if httpx.URL(url).path == "/signin/callback":
            return dict(httpx.URL(url).params)
        r = browser.get(url)
    raise AssertionError("the provider did not send the browser back")
