"""Schema-driven fuzzing of the whole API (schemathesis over ``/openapi.json``).

Every operation gets requests generated from its description, bodies included, sent with the
administrator's credentials and without: valid ones to the parameters as generated and to the
election and referendum that exist on the server, and ones that break the schema (wrong
types, missing fields, strings where numbers go, ...) to these. Every answer must be below
500, declared for its route, of the declared media type and shape: a refusal is
``{"error": {"code", "message"}}``.

Each operation gets 5 requests of each kind (times ``PLEBISCITE_FUZZ_SCALE``: ``./dev fuzz``
sends 100).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import peer_vector
from mutations import examples
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.cli.demo_server import demo_record
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.messages import parse_election
from plebiscite.server.app import create_app
from plebiscite.server.outbox import LocalOutbox
from plebiscite.server.ratelimit import RateLimits
from tamper import Archive

TOKEN = "schemathesis-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
EXAMPLES = examples(5)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The application with an election (open) and a referendum (in its ceremony)."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    board = SQLiteBoard(tmp / "board.db")
    app = create_app(
        board,
        admin_token=TOKEN,
        key=SigningKey.from_seed(b"\x09" * 32),
        rate_limits=RateLimits.off(),
        outbox=LocalOutbox(tmp / "outbox"),
    )
    path, _ = peer_vector("open")
    a = Archive.load(path)
    sd = a.data(a.payload_index("Setup"))
    texts = {k: a.entries[a.index_of_hash(sd[k])].content.decode() for k in sd}
    uuid = parse_election(texts["election"].encode()).uuid
    with TestClient(app) as c:
        assert c.post("/api/elections", json=texts, headers=ADMIN).status_code == 201
        body = {
            "referendum": demo_record("fuzzed", ["North", "South"]),
            "voters": {"North": ["ann"], "South": ["bob"]},
            "credential_authority": {"North": "server", "South": "external"},
        }
        r = c.post("/api/referendums", json=body, headers=ADMIN)
        assert r.status_code == 201, r.text
        app.state.known = {"uuid": uuid, "rid": "fuzzed", "index": 0, "name": "North"}
        yield app
    board.close()


def _fuzz(op, mode, fixed, failures: list[str], sent: Counter[str]) -> None:
    """EXAMPLES requests generated for ``op`` in ``mode``, ``fixed`` path parameters."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=op.as_strategy(mode, path_parameters=fixed or None))
    def run(case):
        for headers in (ADMIN, {}):
            response = case.call(headers=headers)
            sent[mode.value] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Exception as e:  # every failure, reported together
                failures.append(f"{op.method.upper()} {op.path} ({mode.value}): {e}"[:1500])

    try:
        run()
    except Unsatisfiable:  # nothing of the operation can break its schema (no parameter)
        assert mode is GenerationMode.NEGATIVE, op.path


def test_every_operation_answers_as_documented(server):
    api = schemathesis.openapi.from_asgi("/openapi.json", server)
    operations = [r.ok() for r in api.get_all_operations()]
    assert len(operations) >= 30
    failures: list[str] = []
    sent = Counter[str]()
    for op in operations:
        if op.path.endswith("/events"):
            continue  # a live feed: its answer streams until the client leaves
        names = set(re.findall(r"\{(\w+)\}", op.path))
        known = {k: v for k, v in server.state.known.items() if k in names}
        # valid requests to the parameters as generated and to the resources that exist;
        # requests that break the schema to these resources (elsewhere: a 404 before the body)
        _fuzz(op, GenerationMode.POSITIVE, {}, failures, sent)
        if known:
            _fuzz(op, GenerationMode.POSITIVE, known, failures, sent)
        _fuzz(op, GenerationMode.NEGATIVE, known, failures, sent)
    print(f"\nschemathesis: {dict(sent)} requests over {len(operations)} operations")
    assert not failures, "\n\n".join(failures[:10])
