"""Every party of plebiscite.client against a real ``plebiscite serve`` (SQLite): a referendum
from its creation to its outcome, a poll whose voters log in by code, the administrator's
accounts, and the server's refusals raised as :class:`PartyError` with its status and code."""

from __future__ import annotations

import io
import json
import queue
import threading

import pytest

from plebiscite import strictjson
from plebiscite.cli.demo_server import demo_record
from plebiscite.client import (
    Administrator,
    CredentialAuthority,
    Observer,
    PartyError,
    Trustee,
    Voter,
    connect,
    routes,
)
from plebiscite.crypto.groups import BELENIOS_2048
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import VerifyKey
from plebiscite.errors import StateError
from plebiscite.protocol.checkpoints import SignedCheckpoint, verify_checkpoint
from plebiscite.protocol.election_setup import (
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.verifier import verify_archive
from server.test_access import code_and_token, messages

from .conftest import ACCOUNT, PASSWORD, TOKEN

YES, NO = [1, 0, 0], [0, 1, 0]  # the first demo question (blank allowed)
A, B = [1, 0, 0], [0, 1, 0]


def test_a_wrong_token_is_refused_with_the_servers_code(served):
    with Administrator(served.url, "not-the-token") as admin:
        with pytest.raises(PartyError) as e:
            admin.create(demo_record("nope", ["North"]), {"North": ["v1"]})
        assert (e.value.status, e.value.code) == (401, "unauthorized")
        assert "administrator token" in e.value.message
        assert "POST /api/referendums" in str(e.value)
        with pytest.raises(PartyError) as e:  # no token at all
            Administrator(admin.http).open("nope")
        assert (e.value.status, e.value.code) == (401, "unauthorized")
    with Observer(served.url) as anyone, pytest.raises(PartyError) as e:
        anyone.status("no-such-referendum")
    assert e.value.status == 404


def test_a_referendum_through_every_party(served, tmp_path):
    rng = DeterministicRandom("client referendum")
    http = connect(served.url)
    admin = Administrator(http, TOKEN)
    observer = Observer(served.url)
    assert observer.health()
    names = ["North", "South"]
    roll = {"North": ["n1", "n2"], "South": ["s1", "s2"]}
    created = admin.create(
        demo_record("client-ref", names), roll, {"North": "server", "South": "external"}
    )
    rid = created["id"]
    assert rid in {r["id"] for r in observer.referendums()}

    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    with pytest.raises(StateError):  # no certificate yet: nothing to make a polynomial from
        trustees[0].send_polynomial()
    with pytest.raises(PartyError) as e:  # a trustee's token is good for its own index only
        Trustee(http, rid, trustees[1].index, trustees[0].token or "", rng).send_certificate()
    assert e.value.status in (401, 403)
    for t in trustees:
        t.send_certificate()
    for t in trustees:
        t.send_polynomial()
    for t in trustees:
        assert t.vinput()
        cer = t.send_voutput()
    assert cer["phase"] == "done"
    for t in trustees:  # the seed stayed with the trustee: the server never had it
        assert t.secret is not None and t.secret.seed not in t.dkey()

    south = next(r for r in created["regions"] if r["name"] == "South")
    ca = CredentialAuthority(http, rid, "South", south["authority_token"], rng)
    assert sorted(v["login"] for v in ca.voters()["voters"]) == roll["South"]
    private = {"South": ca.make_credentials()}
    opened = admin.open(rid)
    for reg in opened["regions"]:
        if reg["credentials"] is not None:
            private[reg["name"]] = {c["login"]: c["credential"] for c in reg["credentials"]}
    uuids = {name: observer.region_uuid(rid, name) for name in names}
    assert {e["uuid"] for e in observer.elections()} >= set(uuids.values())

    feed: queue.SimpleQueue[dict] = queue.SimpleQueue()

    def follow() -> None:
        with Observer(served.url) as o:
            for event in o.referendum_events(rid):
                feed.put(event)
                if event["type"] == "Ballot":
                    return

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    voters = [Voter(http, rid, n, cred, rng) for n in names for cred in private[n].values()]
    trackers = [v.vote([YES if k % 2 == 0 else NO, A]) for k, v in enumerate(voters)]
    assert voters[0].find(trackers[0]) is not None
    assert observer.find_ballot(uuids["North"], "no-such-tracker") is None
    first: dict = {}
    for _ in range(30):  # revotes until the feed (connected meanwhile) shows one
        try:
            first = feed.get(timeout=1)
            break
        except queue.Empty:
            voters[0].vote([NO, B])
    assert first["type"] == "Ballot" and first["region"] in names
    follower.join(30)
    # the public ballot box, a public credential looked up, the voting hours
    north = observer.ballot_box(uuids["North"])
    assert north["ballots"] == observer.election_status(uuids["North"])["ballots"]
    mine = observer.ballot_box(uuids["North"], tracker=trackers[0])["entries"]
    assert [e["tracker"] for e in mine] == [trackers[0]]
    voting = observer.voting(uuids["North"])
    assert voting["accepting"] and voting["referendum"]["id"] == rid
    assert voting["referendum"]["region"] == "North"
    from plebiscite.crypto.credentials import credential_secret

    g = voters[0].election.group
    public = g.encode(g.gpow(credential_secret(voters[0].credential, uuids["North"], g)))
    found = observer.find_credential(uuids["North"], public)
    assert found is not None and found["voted"] is True
    assert observer.find_credential(uuids["South"], public) is None
    assert observer.credential_home(uuids["South"], public) == {
        "uuid": uuids["North"],
        "name": observer.election_status(uuids["North"])["name"],
    }
    assert observer.turnout(rid)["regions"][0]["samples"]
    assert observer.election_status(uuids["North"])["ballots"] >= 2

    admin.close(rid)
    for name in names:
        for t in trustees[:2]:
            t.decrypt(name)
    final = observer.status(rid)
    assert final["phase"] == "done" and final["outcome"] is not None

    key = VerifyKey.from_base64(observer.server_key())
    for name, uuid in uuids.items():
        path = observer.download_archive(uuid, tmp_path)
        assert path == tmp_path / f"{uuid}.bel"
        data = path.read_bytes()
        assert data == observer.archive(uuid)
        assert verify_archive(lambda data=data: io.BytesIO(data)).valid, name
        for c in observer.checkpoints(uuid):
            verify_checkpoint(key, SignedCheckpoint.from_json(json.dumps(c)))
    observer.disconnect()
    http.close()


def test_voters_of_a_poll_log_in_by_code(served):
    rng = DeterministicRandom("client poll")
    admin = Administrator(served.url, TOKEN)
    uuid = generate_uuid(rng)
    _, server_key = make_trustee_key(BELENIOS_2048, rng)
    trustees = make_trustees([("Single", server_key)], BELENIOS_2048)
    template = {
        "description": "a poll",
        "name": "client poll",
        "questions": [{"answers": ["Yes", "No"], "min": 1, "max": 1, "question": "Approve?"}],
    }
    election = make_election(strictjson.dumps_compact(template), uuid, BELENIOS_2048, trustees)
    creds = generate_credentials([("ann", None), ("bob", None)], uuid, BELENIOS_2048, rng)
    assert admin.create_election(election, trustees, public_credentials_json(creds))["uuid"] == uuid
    ann_address = "ann@poll.example"
    admin.require_voter_login(uuid, {ann_address: str(creds[0].public)})

    ann = Voter.of_election(served.url, uuid, creds[0].private, rng)
    assert ann.voter_authentication(uuid) == {"required": True, "codes": True}
    with pytest.raises(PartyError) as e:  # no session, no ballot
        ann.vote([[1, 0]])
    assert (e.value.status, e.value.code) == (401, "voter_session")
    seen = len(list(served.outbox.glob("*.eml"))) if served.outbox.exists() else 0
    assert ann.ask_code(ann_address)["status"] == "accepted"
    code, _ = code_and_token(messages(served.outbox, seen + 1)[seen])
    with pytest.raises(PartyError) as e:
        ann.log_in(ann_address, "WRONG-CODE0")
    assert (e.value.status, e.value.code) == (401, "login_failed")
    ann.log_in(ann_address, code)
    tracker = ann.vote([[1, 0]])
    assert ann.find(tracker) is not None
    assert ann.log_out() is True
    with pytest.raises(PartyError) as e:  # the session is over
        ann.vote([[0, 1]])
    assert e.value.status == 401

    assert admin.close_election(uuid)["status"] != "open"
    with pytest.raises(PartyError) as e:
        Voter.of_election(served.url, uuid, creds[1].private, rng).vote([[0, 1]])
    assert e.value.status in (401, 409)
    admin.disconnect()
    ann.disconnect()


def test_administrators_sign_in_and_out(served):
    with pytest.raises(PartyError) as e:
        Administrator.sign_in(served.url, ACCOUNT, "not the password")
    assert (e.value.status, e.value.code) == (401, "login_failed")
    admin = Administrator.sign_in(served.url, ACCOUNT, PASSWORD)
    assert admin.session is not None and admin.token == admin.session["token"]
    assert admin.whoami()["name"] == ACCOUNT
    assert Administrator(admin.http, TOKEN).whoami()["bootstrap"] is True
    assert admin.sign_out() is True
    with pytest.raises(PartyError) as e:
        admin.whoami()
    assert (e.value.status, e.value.code) == (401, "unauthorized")
    admin.disconnect()


def test_the_routes_reach_the_server(served):
    with Observer(served.url) as o:
        assert o.call("GET", routes.HEALTH).text == "ok"
        assert o.server_key()
