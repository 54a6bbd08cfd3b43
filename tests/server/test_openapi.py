"""/openapi.json: a valid OpenAPI document that declares every request and response body, and
the server's real requests and answers match what it declares."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from conftest import peer_vector
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import play_referendum
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.server import accounts
from plebiscite.server.app import create_app
from plebiscite.server.outbox import LocalOutbox
from tamper import Archive

TOKEN = "test-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
WRITES = ("post", "put", "patch", "delete")
#: the writes that take no body
NO_BODY = {
    ("post", "/api/elections/{uuid}/close"),
    ("post", "/api/referendums/{rid}/open"),
    ("post", "/api/referendums/{rid}/close"),
    ("post", "/api/referendums/{rid}/letters/resend-failed"),
    ("post", "/api/polls/{pid}/close"),
    ("post", "/api/polls/{pid}/letters/resend-failed"),
    ("post", "/api/session/logout"),
    ("post", "/api/elections/{uuid}/logout"),
}
ERROR = "#/components/schemas/ErrorBody"


@pytest.fixture
def app(tmp_path):
    board = SQLiteBoard(tmp_path / "board.db")
    yield create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x03" * 32),
        outbox=LocalOutbox(tmp_path / "outbox"),
    )
    board.close()


@pytest.fixture
def spec(app):
    with TestClient(app) as c:
        r = c.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(spec):
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def _resolve(spec, ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, ref
        node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_the_document_is_valid_openapi(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_reference_resolves(spec):
    refs = set(_refs(spec))
    assert ERROR in refs
    for ref in refs:
        _resolve(spec, ref)
    for schema in spec["components"]["schemas"].values():  # each a valid JSON schema
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_request_body_is_declared(spec):
    seen = set()
    for path, method, op in _operations(spec):
        if method not in WRITES or (method, path) in NO_BODY:
            assert "requestBody" not in op, f"{method} {path}"
            seen.add((method, path))
            continue
        body = op.get("requestBody")
        assert body and body.get("required") is True, f"{method} {path}: no request body"
        assert body["content"], f"{method} {path}"
        for media, content in body["content"].items():
            assert media in ("application/json", "text/plain"), f"{method} {path}: {media}"
            assert content.get("schema"), f"{method} {path}: {media} without a schema"
            if media == "application/json":
                assert "$ref" in content["schema"], f"{method} {path}"
    assert seen >= NO_BODY  # the exceptions are real routes


def test_every_answer_and_error_is_declared(spec):
    for path, method, op in _operations(spec):
        where = f"{method} {path}"
        responses = op["responses"]
        ok = [s for s in responses if s in ("200", "201", "202")]
        assert len(ok) == 1, where
        content = responses[ok[0]].get("content")
        assert content and all(c.get("schema") is not None for c in content.values()), where
        if "application/json" in content:
            assert "$ref" in content["application/json"]["schema"], where
        errors = [s for s in responses if s[0] in "45"]
        assert errors or path == "/api/server-key", f"{where}: no error answer declared"
        for status in errors:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert set(_refs(schema)) == {ERROR}, f"{where}: {status}"
        if method in WRITES:
            assert {"403", "429"} <= set(responses), where  # cross-origin, rate limit
        if "requestBody" in op:
            assert {"413", "422"} <= set(responses), where
        if path.startswith(("/api/referendums/{rid}", "/api/elections/{uuid}")) and not (
            path.endswith("/logout")  # ends the session of its token, if any: never 404
        ):
            assert "404" in responses, where


# -- real requests and answers against the schemas ----------------------------------------------


def _parameter(m: re.Match[str]) -> str:
    return ".+" if m[1] == "tracker" else "[^/]+"  # a tracker may hold a slash


class Checker:
    """Checks every request body and answer a client exchanges against ``spec``."""

    def __init__(self, spec) -> None:
        self.spec = spec
        self.seen: set[tuple[str, str, int]] = set()

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The documented operation (its path template) that serves ``method path``."""
        found = []
        for template, methods in self.spec["paths"].items():
            pattern = re.sub(r"\\\{(\w+)\\\}", _parameter, re.escape(template))
            if method in methods and re.fullmatch(pattern, path):
                found.append(template)
        assert found, f"no documented route for {method} {path}"
        template = max(found, key=lambda t: len(re.sub(r"\{\w+\}", "", t)))
        return template, self.spec["paths"][template][method]

    def valid(self, schema: dict[str, Any], value: Any, where: str) -> None:
        root = {**schema, "components": self.spec["components"]}
        try:
            jsonschema.Draft202012Validator(root).validate(value)
        except jsonschema.ValidationError as e:
            raise AssertionError(f"{where}: {e.message} at {list(e.absolute_path)}") from None

    def request(self, request: httpx.Request, op: dict[str, Any], where: str) -> None:
        """A body the server accepted matches the declared request body."""
        body = request.read()
        if not body:
            assert "requestBody" not in op, f"{where}: no body sent"
            return
        assert "requestBody" in op, where
        content = op["requestBody"]["content"]
        try:
            value = json.loads(body)
        except ValueError:
            assert "text/plain" in content, where
            return
        self.valid(content["application/json"]["schema"], value, f"{where} (request)")

    def response(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        template, op = self.operation(request.method.lower(), request.url.path)
        status = response.status_code
        where = f"{request.method} {template} {status}"
        assert str(status) in op["responses"], f"{where}: status not declared"
        self.seen.add((request.method, template, status))
        if request.method in ("POST", "PUT") and status < 300:
            self.request(request, op, where)
        media = response.headers.get("content-type", "").split(";")[0]
        content = op["responses"][str(status)]["content"]
        assert media in content, f"{where}: {media} not declared"
        if media == "application/json":
            self.valid(content[media]["schema"], response.json(), where)


@pytest.fixture
def checked(app, spec):
    checker = Checker(spec)
    with TestClient(app) as c:
        c.event_hooks["response"].append(checker.response)
        c.checker = checker
        yield c


def _setup():
    path, meta = peer_vector("open")
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    return texts, meta["private_credentials"], parse_election(texts["election"].encode())


def _code(outbox: Path) -> str:
    """The one-time code of the message the outbox received (sent in the background)."""
    for _ in range(100):
        sent = sorted(outbox.glob("*.eml"))
        if sent:
            message = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
            text = message.get_body().get_content()
            found = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", text)
            assert found, text
            return found[1]
        time.sleep(0.05)
    raise AssertionError("no message in the outbox")


def test_an_election_s_answers_match_their_schemas(checked, tmp_path):
    c = checked
    texts, creds, election = _setup()
    uuid = election.uuid
    assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
    assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 409
    assert c.post("/api/elections", json={"election": "x"}, headers=ADMIN).status_code == 422
    assert c.post("/api/elections", json=texts).status_code == 401
    ballot = make_ballot(election, creds[0], [[1, 0], [0, 1, 0]], DeterministicRandom("o"))
    r = c.post(f"/api/elections/{uuid}/ballots", content=ballot)
    assert r.status_code == 200
    assert c.post(f"/api/elections/{uuid}/ballots", content=ballot).status_code == 409
    assert c.get(f"/api/elections/{uuid}/ballots/{r.json()['tracker']}").status_code == 200
    assert c.get(f"/api/elections/{uuid}/ballots/nope").status_code == 404
    for path in ("", "/election", "/checkpoints", "/voter-authentication"):
        assert c.get(f"/api/elections/{uuid}{path}").status_code == 200, path
    assert c.get("/api/elections/NoSuchElection1234").status_code == 404
    assert c.get("/api/elections").status_code == 200
    assert c.get("/api/server-key").status_code == 200
    assert c.get(f"/api/elections/{uuid}/archive").status_code == 200

    # voter login
    roll = {"voters": ["ann@example.org", "bob@example.org"]}
    r = c.post(f"/api/elections/{uuid}/voter-authentication", json=roll, headers=ADMIN)
    assert r.status_code == 200
    login = {"login": "ann@example.org"}
    assert c.post(f"/api/elections/{uuid}/login-code", json=login).status_code == 202
    wrong = {"login": "ann@example.org", "code": "0000000000"}
    assert c.post(f"/api/elections/{uuid}/login", json=wrong).status_code == 401
    assert c.post(f"/api/elections/{uuid}/login", json={"token": "x" * 43}).status_code == 401
    assert c.post(f"/api/elections/{uuid}/logout", headers=ADMIN).status_code == 200
    code = _code(tmp_path / "outbox")
    r = c.post(f"/api/elections/{uuid}/login", json={"login": "ann@example.org", "code": code})
    assert r.status_code == 200
    voter = {"authorization": f"Bearer {r.json()['token']}"}
    ballot = make_ballot(election, creds[1], [[0, 1], [1, 0, 0]], DeterministicRandom("ann"))
    assert (
        c.post(f"/api/elections/{uuid}/ballots", content=ballot, headers=voter).status_code == 200
    )
    assert c.post(f"/api/elections/{uuid}/logout", headers=voter).json() == {"ended": True}

    # administrators
    accounts.add_account(
        c.app.state.private, "admin", "a long password", params=accounts.Scrypt(16, 1, 1)
    )
    assert c.get("/api/session", headers=ADMIN).status_code == 200
    bad = {"name": "admin", "password": "wrong password"}
    assert c.post("/api/session", json=bad).status_code == 401
    good = {"name": "admin", "password": "a long password"}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(accounts, "DEFAULT", accounts.Scrypt(16, 1, 1))
        r = c.post("/api/session", json=good)
    assert r.status_code == 200
    session = {"authorization": f"Bearer {r.json()['token']}"}
    assert c.get("/api/session", headers=session).status_code == 200
    assert c.post("/api/session/logout", headers=session).status_code == 200
    assert c.get("/api/session", headers=session).status_code == 401

    assert c.post(f"/api/elections/{uuid}/close", headers=ADMIN).status_code == 200
    assert c.post(f"/api/elections/{uuid}/close", headers=ADMIN).status_code == 409
    assert len(c.checker.seen) >= 25


def test_a_referendum_s_requests_and_answers_match_their_schemas(checked):
    c = checked
    final = play_referendum(
        c, TOKEN, voters=2, regions=2, rng=DeterministicRandom("spec"), log=lambda _: None,
        ranking=True,
    )  # fmt: skip
    assert final["phase"] == "done"
    rid = final["id"]
    assert c.get(f"/api/referendums/{rid}/turnout").status_code == 200
    assert c.get("/api/referendums").status_code == 200
    assert c.get("/api/referendums/none").status_code == 404
    assert c.get(f"/api/referendums/{rid}/trustees/1/dkey").status_code == 401
    assert c.post(f"/api/referendums/{rid}/open", headers=ADMIN).status_code == 409
    seen = {(m, p) for m, p, _ in c.checker.seen}
    for route in (
        ("POST", "/api/referendums"),
        ("POST", "/api/referendums/{rid}/trustees/{index}/certificate"),
        ("POST", "/api/referendums/{rid}/trustees/{index}/polynomial"),
        ("GET", "/api/referendums/{rid}/trustees/{index}/vinput"),
        ("POST", "/api/referendums/{rid}/trustees/{index}/voutput"),
        ("POST", "/api/referendums/{rid}/open"),
        ("POST", "/api/referendums/{rid}/close"),
        ("GET", "/api/referendums/{rid}"),
        ("POST", "/api/referendums/{rid}/trustees/{index}/regions/{name}/shuffle"),
        ("POST", "/api/referendums/{rid}/trustees/{index}/regions/{name}/partial-decryption"),
    ):
        assert route in seen, route
