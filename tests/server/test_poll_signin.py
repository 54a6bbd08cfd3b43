"""Open polls: a poll whose voters are whoever signs in with the server's OpenID Connect
provider, ``"voters": {"open": {"pool": N}}``. Its shards are pool regions (the N credentials
split as evenly as can be), made by the server at the opening, handed to the accounts that sign
in through the real provider (``tests/oidc/provider.mjs``): one credential an account, the same
through the poll's link or any shard's, never two; the status counts those handed out; refused
before the opening, after the close and on a server without a provider."""

from __future__ import annotations

import io
import logging
import math
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import oidc
from cli_run import cli
from plebiscite.board.sqlite import SQLiteBoard
from plebiscite.client import Administrator, PartyError, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey
from plebiscite.protocol.verifier import verify_archive
from plebiscite.server.app import create_app
from plebiscite.server.ratelimit import RateLimits
from plebiscite.server.signin import OidcConfig
from plebiscite.service.poll import pool_sizes
from plebiscite.service.pool import Account, account_region

TOKEN = "open-poll-admin-token"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
KEY = SigningKey.from_seed(b"\x0b" * 32)
BASE = "http://testserver"
PIZZA, SUSHI = [[1, 0]], [[0, 1]]


def iso(seconds_from_now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


def make_app(tmp_path: Path, provider: oidc.Provider | None, shard_size: int = 4):
    board = SQLiteBoard(tmp_path / "board.db")
    config = None
    if provider is not None:
        config = OidcConfig(
            provider.issuer, provider.client_id, provider.client_secret, oidc.REDIRECT_URI
        )
    app = create_app(
        board,
        admin_token=TOKEN,
        key=KEY,
        rate_limits=RateLimits.off(),
        poll_shard_size=shard_size,
        oidc=config,
    )
    return board, app


@pytest.fixture
def client(tmp_path, oidc_provider):
    board, app = make_app(tmp_path, oidc_provider)
    with TestClient(app, follow_redirects=False) as c:
        yield c
    board.close()


def browser() -> httpx.Client:
    return httpx.Client(timeout=30, follow_redirects=False)


def open_poll(http, pool: int, **options) -> dict:
    return Administrator(http, TOKEN).create_poll(
        "Where shall we eat?", ["Pizza", "Sushi"], closing=iso(86400), open_pool=pool, **options
    )


def shard_of_account(provider: oidc.Provider, pid: str, login: str, shards: int) -> int:
    """The shard the server's rule gives the account ``login`` (the test knows its key)."""
    return account_region(KEY, pid, Account(provider.issuer, oidc.subject_of(login)), shards)


def signed_in(client, path: str, login: str) -> tuple[str, str]:
    """Sign in as ``login`` at ``/signin/PATH`` through the real provider: the booth's
    election uuid and the credential of the fragment."""
    with browser() as b:
        got = oidc.sign_in(client, b, path, login)
    assert got.response.status_code == 303, got.response.text
    assert got.location is not None and got.credential is not None, got.location
    uuid = got.location.removeprefix("/booth/").split("#", 1)[0]
    return uuid, got.credential


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 10])
def test_the_credentials_are_split_as_evenly_as_can_be(size):
    for total in range(1, 60):
        sizes = pool_sizes(total, size)
        assert len(sizes) == math.ceil(total / size) and sum(sizes) == total
        assert max(sizes) <= size and max(sizes) - min(sizes) <= 1


def test_accounts_of_the_provider_get_one_credential_each_and_vote(
    client, oidc_provider, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    rng = DeterministicRandom("open poll")
    assert client.get("/api/polls/options").json()["sign_in"] == ["oidc"]
    created = open_poll(client, 7)  # shards of at most 4: 4 and 3
    pid = created["id"]
    assert created["credentials"] == []  # the server keeps them, to hand out at sign-in
    st = created["poll"]
    assert st["state"] == "open" and [s["name"] for s in st["shards"]] == ["shard-1", "shard-2"]
    uuids = [s["election"] for s in st["shards"]]
    assert st["voters"] == {
        "mode": "open",
        "delivery": "sign_in",
        "count": 7,
        "login_codes": False,
        "sign_in": {"issuer": oidc_provider.issuer},
        "pools": [
            {"shard": "shard-1", "size": 4, "handed_out": 0},
            {"shard": "shard-2", "size": 3, "handed_out": 0},
        ],
    }
    assert st["vote_link"] == f"{BASE}/signin/poll/{pid}"
    assert "never two to one account" in st["powers"]["credentials"]
    assert st["turnout"] == {"roll": 7, "voted": 0, "share": "0"}
    # the pools' sizes are public: each shard's board holds its credentials
    for uuid, size in zip(uuids, (4, 3), strict=True):
        data = client.get(f"/api/elections/{uuid}/archive").content
        assert verify_archive(lambda data=data: io.BytesIO(data)).voters == size

    # two accounts of each shard (the server's rule, which the test knows the key of)
    logins: dict[int, list[str]] = {0: [], 1: []}
    for k in range(1, 41):
        login = f"voter{k}"
        here = logins[shard_of_account(oidc_provider, pid, login, 2)]
        if len(here) < 2:
            here.append(login)
    held: dict[str, tuple[str, str]] = {}
    for shard, names in logins.items():
        for login in names:
            held[login] = signed_in(client, f"poll/{pid}", login)
            assert held[login][0] == uuids[shard], login  # its own shard
    assert len({c for _, c in held.values()}) == 4
    # again, through the poll's link or either shard's: the same credential, never a second
    for login, got in held.items():
        assert signed_in(client, f"poll/{pid}", login) == got
        for uuid in uuids:
            assert signed_in(client, uuid, login) == got
    st = client.get(f"/api/polls/{pid}").json()
    assert [p["handed_out"] for p in st["voters"]["pools"]] == [2, 2]

    choices = [PIZZA, PIZZA, SUSHI, PIZZA]
    for (uuid, credential), choice in zip(held.values(), choices, strict=True):
        Voter.of_election(client, uuid, credential, rng).vote(choice)
    st = client.get(f"/api/polls/{pid}").json()
    assert st["turnout"] == {"roll": 7, "voted": 4, "share": "4/7"}

    r = client.post(f"/api/polls/{pid}/close", headers=ADMIN)
    assert r.status_code == 200, r.text
    st = r.json()
    assert st["state"] == "closed" and st["result"]["pooled"]["result"] == [[3, 1]]
    # once closed, nobody gets a credential
    r = client.get(f"/signin/poll/{pid}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "voting_closed"
    assert "no credential is handed out" in r.json()["error"]["message"]
    # the poll verifies from its public record alone
    record = tmp_path / f"{pid}.record.bel"
    record.write_bytes(client.get(f"/api/referendums/{pid}/record").content)
    archives = []
    for uuid in uuids:
        path = tmp_path / f"{uuid}.bel"
        path.write_bytes(client.get(f"/api/elections/{uuid}/archive").content)
        archives.append(str(path))
    rc, out = cli(["poll", "verify", str(record), *archives])
    assert rc == 0 and "VALID" in out, out
    # no credential, account or secret in the logs
    subjects = [oidc.subject_of(login) for login in held]
    for secret in [*(c for _, c in held.values()), *subjects, oidc_provider.client_secret]:
        assert secret not in caplog.text


def test_a_list_poll_has_no_sign_in_and_says_how_many_voters(client):
    created = Administrator(client, TOKEN).create_poll(
        "Tea?", ["Yes", "No"], closing=iso(3600), emails=["a@x.org", "b@x.org"]
    )
    st = created["poll"]
    assert st["vote_link"] is None
    assert st["voters"]["mode"] == "list" and st["voters"]["count"] == 2
    assert "pools" not in st["voters"] and "sign_in" not in st["voters"]
    r = client.get(f"/signin/poll/{created['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_pool"
    with pytest.raises(ValueError):
        Administrator(client, TOKEN).create_poll("Tea?", ["Yes", "No"], closing=iso(3600))


def test_no_sign_in_before_the_opening(client, oidc_provider):
    created = open_poll(client, 3, opening=iso(3600))
    pid, st = created["id"], created["poll"]
    assert st["state"] == "scheduled" and st["vote_link"] == f"{BASE}/signin/poll/{pid}"
    for path in (f"poll/{pid}", st["shards"][0]["election"]):
        r = client.get(f"/signin/{path}")
        assert r.status_code == 409, r.text
        e = r.json()["error"]
        assert e["code"] == "not_yet_open" and "voting opens at" in e["message"], e
        assert "sign in for your credential then" in e["message"]
        assert "set-cookie" not in r.headers
    # with trustees: not before their ceremony is done
    created = open_poll(client, 3, trustees=["Alice", "Bob"])
    assert created["poll"]["state"] == "ceremony" and len(created["trustees"]) == 2
    r = client.get(f"/signin/poll/{created['id']}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_yet_open"
    assert "ceremony" in r.json()["error"]["message"]
    pools = client.get(f"/api/polls/{created['id']}").json()["voters"]["pools"]
    assert pools == [{"shard": "shard-1", "size": 3, "handed_out": 0}]


def test_an_open_poll_needs_an_identity_provider(tmp_path):
    board, app = make_app(tmp_path, None)
    with TestClient(app) as c:
        assert c.get("/api/polls/options").json()["sign_in"] == []
        with pytest.raises(PartyError) as e:
            open_poll(c, 10)
        assert (e.value.status, e.value.code) == (409, "not_available")
        assert e.value.message.startswith("request.voters.open")
        assert "--oidc-issuer" in e.value.message
        assert c.get("/api/polls").json() == []  # nothing made
        assert c.get("/api/referendums").json() == []
    board.close()


def test_an_open_poll_and_its_accounts_survive_a_restart(tmp_path, oidc_provider):
    board, app = make_app(tmp_path, oidc_provider)
    with TestClient(app, follow_redirects=False) as c:
        created = open_poll(c, 6)
        pid = created["id"]
        first = signed_in(c, f"poll/{pid}", "voter21")
    board.close()
    board, app = make_app(tmp_path, oidc_provider)  # the same database and key
    with TestClient(app, follow_redirects=False) as c:
        st = c.get(f"/api/polls/{pid}").json()
        assert st["voters"]["mode"] == "open" and st["voters"]["count"] == 6
        assert sum(p["handed_out"] for p in st["voters"]["pools"]) == 1
        assert signed_in(c, f"poll/{pid}", "voter21") == first
        assert signed_in(c, f"poll/{pid}", "voter22")[1] != first[1]
    board.close()


def test_the_command_line_takes_an_open_pool_instead_of_voters(monkeypatch):
    monkeypatch.setenv("PLEBISCITE_ADMIN_TOKEN", TOKEN)
    base = ["poll", "create", "--server", "http://127.0.0.1:9", "--question", "Q?"]
    base += ["--answer", "A", "--answer", "B", "--open-pool"]
    for more, what in (
        (["3", "--voter", "a@x.org"], "--voter goes with a voter list"),
        (["3", "--login-codes"], "--login-codes goes with a voter list"),
        (["3", "--delivery", "mail"], "--delivery goes with a voter list"),
        (["0"], "at least one credential"),
    ):
        rc, out = cli([*base, *more])
        assert rc == 2 and what in out, out


def test_an_account_whose_shard_is_given_out_is_told_so(client, oidc_provider):
    created = open_poll(client, 2, shard_size=1)  # two shards of one credential each
    pid = created["id"]
    by_shard: dict[int, list[str]] = {0: [], 1: []}
    for k in range(1, 41):
        by_shard[shard_of_account(oidc_provider, pid, f"voter{k}", 2)].append(f"voter{k}")
    first, second = by_shard[0][:2]
    held = signed_in(client, f"poll/{pid}", first)
    with browser() as b:
        refused = oidc.sign_in(client, b, f"poll/{pid}", second)
    assert refused.response.status_code == 409, refused.response.text
    e = refused.response.json()["error"]
    assert e["code"] == "pool_exhausted" and "every credential of shard-1 (1)" in e["message"]
    # the other shard's accounts still get theirs, and the first keeps its own
    assert signed_in(client, f"poll/{pid}", by_shard[1][0])[0] != held[0]
    assert signed_in(client, f"poll/{pid}", first) == held


def test_two_processes_on_postgresql_give_an_account_one_credential_of_its_shard(
    pg_server, tmp_path, oidc_provider
):
    """Every account signs in at once through two ``plebiscite serve`` processes on one
    PostgreSQL database, through the poll's link and each shard's: one credential each, of the
    shard the rule gives it, never one to two accounts."""
    from server.test_robustness import TOKEN as SERVE_TOKEN
    from server.test_robustness import Server

    accounts = 8
    with pg_server.fresh_database() as dsn:
        dirs = [tmp_path / "a", tmp_path / "b"]
        servers = []
        for i, d in enumerate(dirs):
            d.mkdir()
            if i:  # one server: one key
                (d / "server.key").write_bytes((dirs[0] / "server.key").read_bytes())
            s = Server(dsn, d)
            s.args = oidc_provider.args
            s.env = oidc_provider.env
            s.start()
            servers.append(s)
        try:
            with httpx.Client(base_url=servers[0].url, timeout=120) as http:
                created = Administrator(http, SERVE_TOKEN).create_poll(
                    "Where shall we eat?",
                    ["Pizza", "Sushi"],
                    closing=iso(86400),
                    open_pool=20,
                    shard_size=10,  # two shards of 10: 8 accounts never run one out
                )
            pid = created["id"]
            uuids = [s["election"] for s in created["poll"]["shards"]]
            paths = [f"poll/{pid}", *uuids]
            results: list[tuple[str, int, str | None, str | None]] = []
            lock = threading.Lock()
            jobs = [
                (f"voter{k}", server, path)
                for k in range(1, accounts + 1)
                for server, path in zip([*servers, *servers], paths, strict=False)
            ]

            def run(login: str, server, path: str) -> None:
                with httpx.Client(base_url=server.url, timeout=120) as srv, browser() as b:
                    signed = oidc.sign_in(srv, b, path, login)
                with lock:
                    results.append(
                        (login, signed.response.status_code, signed.location, signed.credential)
                    )

            threads = [threading.Thread(target=run, args=job) for job in jobs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            assert len(results) == len(jobs)
            assert {code for _, code, _, _ in results} == {303}, results
            held: dict[str, set[tuple[str | None, str | None]]] = {}
            for login, _, location, credential in results:
                uuid = None if location is None else location.split("#")[0].rsplit("/", 1)[1]
                held.setdefault(login, set()).add((uuid, credential))
            assert all(len(h) == 1 for h in held.values()), held
            for login, h in held.items():
                ((uuid, _),) = h
                assert uuid == uuids[shard_of_account_key(servers[0], pid, login)], login
            creds = [next(iter(h))[1] for h in held.values()]
            assert len(set(creds)) == accounts
            with httpx.Client(base_url=servers[1].url, timeout=120) as http:
                st = http.get(f"/api/polls/{pid}").json()
            assert sum(p["handed_out"] for p in st["voters"]["pools"]) == accounts
        finally:
            for s in servers:
                s.stop()


def shard_of_account_key(server, pid: str, login: str) -> int:
    """The shard of ``login`` by the rule under the key of the ``plebiscite serve`` process."""
    key = SigningKey.from_base64((server.workdir / "server.key").read_text().strip())
    issuer = server.args[server.args.index("--oidc-issuer") + 1]
    return account_region(key, pid, Account(issuer, oidc.subject_of(login)), 2)
