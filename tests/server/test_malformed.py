"""Every malformed request is a 4xx with the documented JSON error, never a 500.

A whole life is played through the API (an election's board with voter login, an
administrator session, a referendum in Ed25519: its 3.x ceremony, an external credential
authority, ballots, shuffles, partial decryptions; the 2.0 ceremony of one in BELENIOS-2048),
and before each request that has a body the client first sends malformed variants of that
very body (:mod:`mutations`: lone surrogates, wrong JSON types and deep nesting at every
place, JSON texts inside strings included, damaged bytes), with the party's credentials and
without: each is answered at the moment the real request would be, so it reaches the parser
of that route in that state. Then every route of ``/openapi.json`` is sent malformed headers
(``Origin``, ``Host``, ``Content-Length``, ``Authorization``, ...), malformed path
parameters and wrong methods.

Each answer must be below 500 and, when it is a refusal, ``{"error": {"code", "message"}}``.
Each request gets 24 variants, drawn at random with every kind of damage represented (times
``PLEBISCITE_FUZZ_SCALE``: ``./dev fuzz`` tries 480).
"""

from __future__ import annotations

import email
import email.policy
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import peer_vector
from mutations import examples, mutants
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import demo_record, play_referendum
from plebiscite.client import Administrator, Trustee
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.server import accounts
from plebiscite.server.app import create_app
from plebiscite.server.outbox import LocalOutbox
from plebiscite.server.ratelimit import RateLimits
from tamper import Archive

TOKEN = "malformed-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MUTANTS = examples(24)


@dataclass
class Tally:
    """What was sent and how it was answered."""

    sent: Counter[str] = field(default_factory=Counter)  # by kind of damage
    statuses: Counter[int] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)  # mutants by route template
    failures: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)  # variants that changed nothing wrong

    def check(self, r: httpx.Response, what: str) -> None:
        self.statuses[r.status_code] += 1
        if r.status_code < 300:
            self.accepted.append(what)
        if r.status_code >= 500:
            self.failures.append(f"{what}: {r.status_code} {r.text[:300]}")
            return
        if r.status_code < 400 or not r.request.url.path.startswith("/api/"):
            return
        try:
            body = r.json()
            error = body["error"]
            ok = (
                set(body) == {"error"}
                and isinstance(error["code"], str)
                and error["code"]
                and isinstance(error["message"], str)
                and error["message"]
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            self.failures.append(
                f"{what}: {r.status_code} not the documented error: {r.text[:300]}"
            )


class Templates:
    """The path template of ``/openapi.json`` that serves a concrete path."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.patterns = [
            (t, re.compile(re.sub(r"\\\{(\w+)\\\}", "[^/]+", re.escape(t)) + r"\Z"))
            for t in spec["paths"]
        ]

    def of(self, path: str) -> str | None:
        found = [t for t, p in self.patterns if p.match(path)]
        return max(found, key=lambda t: len(re.sub(r"\{\w+\}", "", t))) if found else None


class FuzzingClient(TestClient):
    """A test client that, before each POST or PUT with a body to the API, sends malformed
    variants of that body (with the request's headers, and without its credentials)."""

    tally: Tally
    templates: Templates
    seen: dict[str, str]  # a concrete path of each template, from the real requests
    fuzzing = False

    def send(self, request: httpx.Request, **kw: Any) -> httpx.Response:  # type: ignore[override]
        path = request.url.path
        template = self.templates.of(path) if path.startswith("/api/") else None
        if template is not None:
            self.seen.setdefault(template, path)
        body = request.read()
        if self.fuzzing and template is not None and request.method in ("POST", "PUT") and body:
            self.fuzzing = False
            try:
                self._mutate(request, template, body)
            finally:
                self.fuzzing = True
        return super().send(request, **kw)

    @staticmethod
    def _identity(template: str, body: bytes) -> bytes | None:
        """The id a creation asks for (a referendum's, an election's uuid), if it is one: each
        variant asks for another, so that one accepted (a title changed, ...) does not take
        it from the real request."""
        pattern = {
            "/api/referendums": rb'"id": ?"([A-Za-z0-9._-]+)"',
            "/api/elections": rb'uuid\\?": ?\\?"([1-9A-HJ-NP-Za-km-z]{14,64})',
        }.get(template)
        found = re.search(pattern, body) if pattern else None
        return found[1] if found else None

    def _mutate(self, request: httpx.Request, template: str, body: bytes) -> None:
        rng = random.Random(f"{request.method} {template} {self.tally.routes[template]}")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        bare = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        identity = self._identity(template, body)
        for i, m in enumerate(mutants(body, rng, MUTANTS)):
            self.tally.sent[m.kind] += 1
            self.tally.routes[template] += 1
            sent = headers if i % 4 else bare  # one in four without the party's credentials
            content = m.body
            if identity is not None:
                other = identity[:-3] + "".join(BASE58[i // 58**k % 58] for k in range(3)).encode()
                content = content.replace(identity, other)
            r = super().send(
                self.build_request(request.method, request.url, content=content, headers=sent)
            )
            self.tally.check(r, f"{request.method} {template} ({m.kind}: {m.where})")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("malformed")
    board = SQLiteBoard(tmp / "board.db")
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x07" * 32),
        rate_limits=RateLimits.off(),
        outbox=LocalOutbox(tmp / "outbox"),
    )
    c = FuzzingClient(app, raise_server_exceptions=False)  # a 500 is counted, not raised
    c.tally, c.seen = Tally(), {}
    with c:
        c.templates = Templates(c.get("/openapi.json").json())
        c.fuzzing = True
        t0 = time.monotonic()
        _play(c, tmp / "outbox")
        c.elapsed = time.monotonic() - t0
        c.fuzzing = False
        yield c
    board.close()


def _code(outbox: Path) -> str:
    for _ in range(200):
        for sent in sorted(outbox.glob("*.eml")):
            message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
            found = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", message.get_body().get_content())
            if found:
                return found[1]
        time.sleep(0.05)
    raise AssertionError("no message in the outbox")


def _play(c: FuzzingClient, outbox: Path) -> None:
    """An election with voter login and an administrator session, then a whole referendum."""
    path, meta = peer_vector("open")
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    election = parse_election(texts["election"].encode())
    creds = meta["private_credentials"]
    uuid = election.uuid
    assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
    ballot = make_ballot(election, creds[0], [[1, 0], [0, 1, 0]], DeterministicRandom("m0"))
    assert c.post(f"/api/elections/{uuid}/ballots", content=ballot).status_code == 200
    roll = {"voters": {"ann@example.org": None, "bob@example.org": None}}
    r = c.post(f"/api/elections/{uuid}/voter-authentication", json=roll, headers=ADMIN)
    assert r.status_code == 200, r.text
    login = {"login": "ann@example.org"}
    assert c.post(f"/api/elections/{uuid}/login-code", json=login).status_code == 202
    code = _code(outbox)
    r = c.post(f"/api/elections/{uuid}/login", json={"login": "ann@example.org", "code": code})
    assert r.status_code == 200, r.text
    voter = {"authorization": f"Bearer {r.json()['token']}"}
    ballot = make_ballot(election, creds[1], [[0, 1], [1, 0, 0]], DeterministicRandom("m1"))
    r = c.post(f"/api/elections/{uuid}/ballots", content=ballot, headers=voter)
    assert r.status_code == 200, r.text
    assert c.post(f"/api/elections/{uuid}/logout", headers=voter).status_code == 200

    fast = accounts.Scrypt(16, 1, 1)
    accounts.add_account(c.app.state.private, "admin", "a long password", params=fast)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(accounts, "DEFAULT", fast)
        r = c.post("/api/session", json={"name": "admin", "password": "a long password"})
    assert r.status_code == 200, r.text

    final = play_referendum(
        c, TOKEN, voters=2, regions=2, rng=DeterministicRandom("malformed"), log=lambda _: None,
        ranking=True,
    )  # fmt: skip
    assert final["phase"] == "done"
    assert c.post(f"/api/elections/{uuid}/close", headers=ADMIN).status_code == 200

    # the 2.0 ceremony (the finite-field group): its certificates have no context
    admin = Administrator(c, TOKEN)
    record = demo_record("malformed-ff", ["North"])
    created = admin.create(record, {"North": ["ann"]}, {"North": "server"}, group="BELENIOS-2048")
    rng = DeterministicRandom("malformed ff")
    trustees = [Trustee(c, record["id"], t["index"], t["token"], rng) for t in created["trustees"]]
    for step in (Trustee.send_certificate, Trustee.send_polynomial, Trustee.send_voutput):
        for t in trustees:
            step(t)
    assert admin.status(record["id"])["ceremony"]["phase"] == "done"

    # credentials sent by mail: a voter's reissued before the opening
    mailed = demo_record("malformed-mail", ["North"])
    roll = {"North": ["ann@example.org", "bob@example.org"]}
    admin.create(mailed, roll, credential_delivery="mail")
    admin.reissue("malformed-mail", "North", "bob@example.org")
    # a poll in one request
    closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    poll = admin.create_poll("Lunch?", ["Pizza", "Sushi"], closing=closing, emails=["a@x.org"])
    assert poll["poll"]["state"] == "open"
    # a mail poll opening later: a voter's credential reissued
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    mailed_poll = admin.create_poll(
        "Dinner?", ["Soup", "Salad"], closing=closing, opening=later, emails=["m@x.org"],
        delivery="mail",
    )  # fmt: skip
    admin.poll_reissue(mailed_poll["id"], "m@x.org")


def test_every_malformed_body_is_refused_at_every_step(world):
    t = world.tally
    bodies = {
        (m, p)
        for p, ms in world.templates.spec["paths"].items()
        for m, op in ms.items()
        if "requestBody" in op
    }
    reached = {p for p in t.routes}
    missing = {p for _, p in bodies} - reached
    print(
        f"\nmalformed bodies: {sum(t.sent.values())} sent to {len(reached)} routes in "
        f"{world.elapsed:.1f} s; by kind {dict(t.sent)}; answers {dict(sorted(t.statuses.items()))}"
    )
    print("accepted:", *t.accepted, sep="\n  ")
    assert not missing, f"no malformed body reached {sorted(missing)}"
    assert not t.failures, "\n".join(t.failures[:40])


# -- headers, parameters, methods on every route -------------------------------------------------

BAD_HEADERS: list[tuple[str, bytes]] = [
    ("origin", b"null"),
    ("origin", b"http://[::1"),
    ("origin", b"http://example.org:99999"),
    ("origin", b"http://exa mple.org"),
    ("origin", b""),
    ("origin", b"\xff\xfe"),
    ("origin", b"http://testserver:abc"),
    ("host", b"[bad"),
    ("host", b"testserver:99999"),
    ("host", b""),
    ("host", b"\xe9\xff"),
    ("host", b"a" * 8000),
    ("content-length", b"abc"),
    ("content-length", b"-1"),
    ("content-length", b"\xb2"),  # a superscript two: a digit to str.isdigit
    ("content-length", b"9" * 40),
    ("authorization", b"Bearer"),
    ("authorization", b"Bearer \xff\xfe\xfd"),
    ("authorization", b"Bearer " + b"x" * 10000),
    ("authorization", b"Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
    ("authorization", b"bearer  " + TOKEN.encode() + b"\xe9"),
    ("sec-fetch-site", b"cross-site"),
    ("sec-fetch-site", b"\xff"),
    ("content-type", b"application/json; charset=utf-16"),
    ("content-type", b"\xff/\xfe"),
    ("accept", b"\xff"),
    ("x-forwarded-for", b"[::1"),
]
BAD_PARAMETERS = [
    "%ED%A0%80",  # a surrogate, UTF-8 encoded: not UTF-8
    "%FF%FE",
    "%00",
    "%F0%9F%98%80",
    "a" * 3000,
    "..",
    "%2E%2E%2F%2E%2E",
    "-1",
    "99999999999999999999999",
    "1e3",
    " ",
    "%20%09",
    "null",
]


def _concrete(template: str, seen: dict[str, str]) -> str:
    """A path of ``template``: one of the real requests', else its parameters made up."""
    if template in seen:
        return seen[template]
    values = {"uuid": "NoSuchElection12345", "rid": "none", "index": "0", "name": "North"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], "x"), template)


def _raw_request(
    c: TestClient, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
):
    """A request whose headers are bytes as they are (httpx would refuse some)."""
    request = c.build_request(method, "http://testserver" + path, content=body)
    # replace the headers by raw ones: httpx keeps (name, value) bytes pairs
    kept = [(k, v) for k, v in request.headers.raw if k.lower() not in {h for h, _ in headers}]
    request.headers = httpx.Headers(kept + headers)
    return c.send(request)


def test_every_route_refuses_malformed_headers_parameters_and_methods(world):
    c, t = world, Tally()
    spec = c.templates.spec
    count = Counter[str]()
    admin = [(b"authorization", f"Bearer {TOKEN}".encode())]
    for template, methods in spec["paths"].items():
        # a live feed streams: sent to an election or referendum that does not exist
        path = _concrete(template, {} if template.endswith("/events") else c.seen)
        for method in methods:
            body = b"{}" if method in ("post", "put") else b""
            for name, value in BAD_HEADERS:
                for auth in (admin, []) if name != "authorization" else ([],):
                    r = _raw_request(c, method.upper(), path, [*auth, (name.encode(), value)], body)
                    count["headers"] += 1
                    t.check(r, f"{method} {template} with {name}: {value[:40]!r}")
            for param in re.findall(r"\{(\w+)\}", template):
                for bad in BAD_PARAMETERS:
                    parts = path.split("/")
                    parts[template.split("/").index(f"{{{param}}}")] = bad
                    concrete = "/".join(parts)
                    for auth in (admin, []):
                        r = _raw_request(c, method.upper(), concrete, auth, body)
                        count["parameters"] += 1
                        t.check(r, f"{method} {template} with {param}={bad[:40]}")
        for wrong in {"get", "post", "put", "delete", "patch"} - set(methods):
            r = _raw_request(c, wrong.upper(), path, [], b"{}")
            count["methods"] += 1
            t.check(r, f"{wrong} {template}")
            assert r.status_code == 405, (wrong, template, r.status_code)
    for path in ("/nope", "/api/nope", "/api/elections/x/nope", "/%ED%A0%80", "/api/" + "a" * 5000):
        r = _raw_request(c, "GET", path, [], b"")
        count["unknown routes"] += 1
        t.check(r, f"GET {path[:40]}")
        assert r.status_code == 404
    print(f"\nmalformed headers, parameters, methods: {dict(count)}; answers {dict(t.statuses)}")
    assert not t.failures, "\n".join(t.failures[:40])


@pytest.mark.parametrize(
    "headers",
    [
        [(b"origin", b"http://[::1")],
        [(b"origin", b"http://testserver:99999")],
        [(b"origin", b"testserver")],
        [(b"origin", b"null")],
        [(b"origin", b"http://testserver"), (b"host", b"[bad")],
        [(b"origin", b"http://"), (b"host", b"")],
    ],
)
def test_a_malformed_origin_or_host_is_a_cross_origin_write(world, headers):
    r = _raw_request(world, "POST", "/api/session", headers, b"{}")
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin", r.text
    good = [(b"origin", b"http://testserver")]
    assert _raw_request(world, "POST", "/api/session", good, b"{}").status_code == 422


def test_a_bug_is_a_500_in_the_documented_shape_and_its_message_is_not_logged(tmp_path, caplog):
    """A route that fails (a bug) answers 500 ``internal``, with the security headers; the log
    names the route, the exception's type and where it was raised, never its message (it may
    quote the request), and the exception goes no further (the server would log it whole). An
    error of the library raised outside the routes (a middleware's store) keeps its answer."""
    from plebiscite.errors import BoardError

    board = SQLiteBoard(tmp_path / "board.db")
    app = create_app(board, admin_token=TOKEN, key=SigningKey.from_seed(b"\x08" * 32))

    async def boom() -> None:
        raise RuntimeError("secret-token-in-the-message")

    app.add_api_route("/api/boom/{token}", boom)

    class Failing:
        def __init__(self, app) -> None:
            self.app = app

        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] == "http" and scope["path"] == "/api/store-down":
                raise BoardError("the database is down")
            await self.app(scope, receive, send)

    app.add_middleware(Failing)
    with TestClient(app) as c:  # the bug does not reach the server, which would log it
        r = c.get("/api/boom/abc")
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal", r.text
        assert "secret" not in r.text and r.headers["x-content-type-options"] == "nosniff"
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/store-down")
        assert r.status_code == 503 and r.json()["error"]["code"] == "board_unavailable"
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "/api/boom/{token}" in logged and "RuntimeError" in logged
    assert "secret" not in logged and "abc" not in logged
    board.close()
