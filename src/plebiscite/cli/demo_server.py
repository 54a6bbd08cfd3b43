"""``plebiscite demo --server URL``: a whole referendum played against a running board server.

Each party is its own client object and holds only its own secrets: the administrator its
token (``PLEBISCITE_ADMIN_TOKEN``), each trustee its link token and the seed of its
certificate (never sent), each external credential authority its link token and the private
credentials it makes, each voter their own credential. Everything else comes from the server's
public routes, and each trustee shuffles (where the questions are not homomorphic) and
decrypts only the ciphertexts it recomputed itself from the region's archive.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gmpy2 import mpz

from plebiscite.cli.common import CommandError
from plebiscite.cli.demo import DEMO_QUESTIONS, RANKING
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import Group, group_by_name
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import RandomSource, SystemRandom
from plebiscite.protocol import ceremony
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.election_setup import generate_credentials, public_credentials_json
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.protocol.simulate import random_choices
from plebiscite.protocol.tally import (
    encrypted_tally_json,
    partial_decryption_json,
    shuffle_json,
)
from plebiscite.protocol.verifier import Verifier

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Administrator",
    "CredentialAuthority",
    "PartyError",
    "Trustee",
    "Voter",
    "add_arguments",
    "demo_record",
    "play_referendum",
    "run",
]

REGION_NAMES = ("North", "South", "East", "West", "Centre")
TRUSTEE_NAMES = ("Alice", "Bob", "Carol")


class PartyError(Exception):
    """The server refused a party's request: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message = status, code, message


class _Client:
    """One party's view of the server: its HTTP client and its own token, nothing else."""

    def __init__(self, http: httpx.Client, token: str | None = None) -> None:
        self.http = http
        self.token = token
        self._headers = {"authorization": f"Bearer {token}"} if token else {}

    def call(
        self, method: str, path: str, *, json: Any = None, content: bytes | None = None
    ) -> httpx.Response:
        r = self.http.request(method, path, json=json, content=content, headers=self._headers)
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                code, message = str(err["code"]), str(err["message"])
            except (ValueError, KeyError, TypeError):
                code, message = "http", r.text[:500]
            raise PartyError(r.status_code, code, f"{method} {path}: {message}")
        return r

    def get(self, path: str) -> Any:
        return self.call("GET", path).json()


def _quote(name: str) -> str:
    return quote(name, safe="")


class Administrator(_Client):
    """Holds the administrator token; sees the private credentials the server generated for
    the regions where it is the credential authority (to send them to the voters)."""

    def create(
        self,
        record: dict[str, Any],
        voters: dict[str, list[Any]],
        authorities: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        body = {"referendum": record, "voters": voters}
        if authorities:
            body["credential_authority"] = authorities
        out: dict[str, Any] = self.call("POST", "/api/referendums", json=body).json()
        return out

    def open(self, rid: str) -> dict[str, Any]:
        out: dict[str, Any] = self.call("POST", f"/api/referendums/{rid}/open").json()
        return out

    def close(self, rid: str) -> dict[str, Any]:
        out: dict[str, Any] = self.call("POST", f"/api/referendums/{rid}/close").json()
        return out


def status(http: httpx.Client, rid: str) -> dict[str, Any]:
    """The public status of a referendum (anyone)."""
    out: dict[str, Any] = _Client(http).get(f"/api/referendums/{rid}")
    return out


def verified_board(http: httpx.Client, uuid: str) -> Verifier:
    """Download a region's archive and verify it: the board as this party checked it."""
    data = _Client(http).call("GET", f"/api/elections/{uuid}/archive").content
    v = Verifier(lambda: io.BytesIO(data), name=uuid)
    report = v.run()
    if not report.valid:
        first = next(f for f in report.findings if f.severity == "error")
        raise CommandError(f"the archive of {uuid} does not verify: {first.describe()}")
    return v


class Trustee(_Client):
    """A threshold trustee: its link token and its seed (step 1), which never leaves it."""

    def __init__(
        self, http: httpx.Client, rid: str, index: int, token: str, rng: RandomSource
    ) -> None:
        super().__init__(http, token)
        self.rid, self.index, self.rng = rid, index, rng
        self._secret: ceremony.TrusteeSecret | None = None
        self._key: mpz | None = None

    @property
    def base(self) -> str:
        return f"/api/referendums/{self.rid}/trustees/{self.index}"

    def _state(self) -> tuple[Group, dict[str, Any]]:
        st = status(self.http, self.rid)
        return group_by_name(st["group"]), st["ceremony"]

    def send_certificate(self) -> dict[str, Any]:
        group, _ = self._state()
        self._secret = ceremony.make_certificate(group, self.rng)
        out: dict[str, Any] = self.call(
            "POST", f"{self.base}/certificate", content=self._secret.cert.encode()
        ).json()
        return out

    def _seed(self) -> str:
        if self._secret is None:
            raise CommandError(f"trustee {self.index} has no certificate yet")
        return self._secret.seed

    def send_polynomial(self) -> dict[str, Any]:
        group, cer = self._state()
        if cer["certificates"] is None:
            raise CommandError(f"the certificates are not all in (ceremony at {cer['phase']})")
        poly = ceremony.make_polynomial(
            group, cer["certificates"], self._seed(), cer["threshold"], self.rng
        )
        out: dict[str, Any] = self.call(
            "POST", f"{self.base}/polynomial", content=poly.encode()
        ).json()
        return out

    def send_voutput(self) -> dict[str, Any]:
        group, cer = self._state()
        vinput = self.call("GET", f"{self.base}/vinput").text
        voutput = ceremony.make_voutput(group, cer["certificates"], self._seed(), vinput, self.rng)
        out: dict[str, Any] = self.call(
            "POST", f"{self.base}/voutput", content=voutput.encode()
        ).json()
        return out

    def partial_decryption(self, region: str) -> bytes:
        """Its partial decryption of ``region``'s tally: the board verified here, its tally
        compared with the server's, its own key checked against the board's trustees."""
        st = status(self.http, self.rid)
        (reg,) = [r for r in st["regions"] if r["name"] == region]
        v = verified_board(self.http, reg["election"])
        if v.tally is None or v.election is None:
            raise CommandError(f"region {region!r} is not tallied")
        served = self.get(f"/api/referendums/{self.rid}/regions/{_quote(region)}/tally")
        if encrypted_tally_json(v.tally) != _compact(served["encrypted_tally"]):
            raise CommandError(f"the server's tally of {region!r} is not the board's")
        owner = self.index + 1  # owner 1 is the server's key
        vk = v.owners[owner - 1].key.public_key
        group = v.election.group
        if self._key is None:
            dkey = self.call("GET", f"{self.base}/dkey").text
            self._key = ceremony.threshold_decryption_key(
                group, self._seed(), dkey, verification_key=vk
            )
        elif Context(group).gpow(self._key) != vk:
            raise CommandError(f"trustee {self.index}'s key is not the one on {region!r}'s board")
        ctx = Context(group, v.election.public_key)
        return partial_decryption_json(ctx, v.election.fingerprint, self._key, v.tally, self.rng)

    def shuffle_of(self, region: str) -> bytes:
        """Its shuffle of ``region``'s non-homomorphic ciphertexts: the board verified here
        (every shuffle so far checked), the ciphertexts compared with those the server serves,
        then shuffled with a fresh permutation and re-encryption of its own."""
        st = status(self.http, self.rid)
        (reg,) = [r for r in st["regions"] if r["name"] == region]
        v = verified_board(self.http, reg["election"])
        if v.tally is None or v.election is None:
            raise CommandError(f"region {region!r} is not tallied")
        served = self.get(f"/api/referendums/{self.rid}/regions/{_quote(region)}/shuffle-input")
        mine = [json.loads(encrypted_tally_json([v.tally[i]]))[0] for i in served["questions"]]
        if mine != served["ciphertexts"]:
            raise CommandError(
                f"the server's ciphertexts to shuffle of {region!r} are not the board's"
            )
        ctx = Context(v.election.group, v.election.public_key)
        return shuffle_json(v.election, ctx, v.tally, self.rng)

    def shuffle(self, region: str) -> dict[str, Any]:
        sh = self.shuffle_of(region)
        out: dict[str, Any] = self.call(
            "POST", f"{self.base}/regions/{_quote(region)}/shuffle", content=sh
        ).json()
        return out

    def decrypt(self, region: str) -> dict[str, Any]:
        pd = self.partial_decryption(region)
        out: dict[str, Any] = self.call(
            "POST", f"{self.base}/regions/{_quote(region)}/partial-decryption", content=pd
        ).json()
        return out


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class CredentialAuthority(_Client):
    """An external credential authority of one region: its link token and the private
    credentials it makes (handed to the voters, never to the server)."""

    def __init__(
        self, http: httpx.Client, rid: str, region: str, token: str, rng: RandomSource
    ) -> None:
        super().__init__(http, token)
        self.rid, self.region, self.rng = rid, region, rng

    def make_credentials(self) -> dict[str, str]:
        """Generate every voter's credential, send the public list; login -> private."""
        path = f"/api/referendums/{self.rid}/regions/{_quote(self.region)}"
        info = self.get(f"{path}/voters")
        group = group_by_name(info["group"])
        voters = [(v["login"], v["weight"] if info["weighted"] else None) for v in info["voters"]]
        creds = generate_credentials(voters, info["election"], group, self.rng)
        self.call("PUT", f"{path}/credentials", content=public_credentials_json(creds))
        return {c.login: c.private for c in creds}


class Voter(_Client):
    """A voter: their own credential only (and, where voters log in, their session)."""

    def __init__(
        self,
        http: httpx.Client,
        rid: str,
        region: str,
        credential: str,
        rng: RandomSource,
        session: str | None = None,
    ) -> None:
        super().__init__(http, session)
        self.rid, self.region, self.credential, self.rng = rid, region, credential, rng
        self._election: Election | None = None

    @property
    def election(self) -> Election:
        if self._election is None:
            path = f"/api/referendums/{self.rid}/regions/{_quote(self.region)}/election"
            self._election = parse_election(self.call("GET", path).content)
        return self._election

    def vote(self, choices: list[list[int]]) -> str:
        """Cast a ballot; returns its smart ballot tracker, checked against the server's."""
        e = self.election
        ballot = make_ballot(e, self.credential, choices, self.rng)
        r = self.call("POST", f"/api/elections/{e.uuid}/ballots", content=ballot).json()
        tracker = h_json(ballot)
        if r["tracker"] != tracker:
            raise CommandError(f"the server answered tracker {r['tracker']}, not {tracker}")
        return tracker


# -- the whole referendum -----------------------------------------------------------------------


def region_names(n: int) -> list[str]:
    return [REGION_NAMES[i] if i < len(REGION_NAMES) else f"Region {i + 1}" for i in range(n)]


def demo_record(rid: str, regions: list[str], *, ranking: bool = False) -> dict[str, Any]:
    """A referendum record over ``regions`` (uuids left to the server): the demo questions
    (with ``ranking``, also a ranking, non-homomorphic, shuffled before decryption), a 2-of-3
    ceremony, and a double majority (pooled votes and half of the regions) when there are
    several regions, a simple majority otherwise."""
    rule: dict[str, Any] = {"type": "majority", "question": 0, "answer": 0}
    if len(regions) > 1:
        rule = {
            "type": "double-majority",
            "question": 0,
            "answer": 0,
            "regions": {"share": "1/2", "strict": True},
        }
    opening = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    return {
        "version": 1,
        "id": rid,
        "title": "plebiscite demo referendum",
        "questions": [*DEMO_QUESTIONS, RANKING] if ranking else DEMO_QUESTIONS,
        "regions": [{"name": name} for name in regions],
        "trustees": {"names": list(TRUSTEE_NAMES), "threshold": 2},
        "opening": opening,
        "closing": closing,
        "rule": rule,
    }


@dataclass
class DemoReferendum:
    """A referendum set up and open: what each party holds afterwards."""

    rid: str
    names: list[str]
    roll: dict[str, list[str]]
    trustees: list[Trustee]
    private: dict[str, dict[str, str]]  # region -> login -> secret credential
    admin: Administrator


def setup_referendum(
    http: httpx.Client,
    admin_token: str,
    *,
    voters: int,
    regions: int,
    rng: RandomSource,
    say: Callable[[str], None] = print,
    ranking: bool = False,
) -> DemoReferendum:
    """Create a referendum, run the trustees' ceremony, make the credentials and open every
    region, each party its own client. The first region has the server as credential
    authority, the others an external one."""
    names = region_names(regions)
    rid = f"demo-{secrets.token_hex(4)}"
    admin = Administrator(http, admin_token)
    roll: dict[str, list[str]] = {n: [] for n in names}
    for i in range(voters):
        roll[names[i % regions]].append(f"voter{i + 1}")
    authorities = {n: ("server" if k == 0 else "external") for k, n in enumerate(names)}
    created = admin.create(demo_record(rid, names, ranking=ranking), dict(roll), authorities)
    say(f"referendum {rid}: {voters} voters in {regions} region(s), trustees 2 of 3")

    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for t in trustees:
        t.send_certificate()
    for t in trustees:
        t.send_polynomial()
    for t in trustees:
        cer = t.send_voutput()
    if cer["phase"] != "done":
        raise CommandError(f"the ceremony did not finish: {cer['error']}")
    say(f"threshold ceremony done; trustees structure {cer['trustees_hash']}")

    private: dict[str, dict[str, str]] = {}
    for reg in created["regions"]:
        if reg["authority"] == "external":
            ca = CredentialAuthority(http, rid, reg["name"], reg["authority_token"], rng)
            private[reg["name"]] = ca.make_credentials()
            say(f"{reg['name']}: the credential authority sent the public credentials")
    opened = admin.open(rid)
    for reg in opened["regions"]:
        if reg["credentials"] is not None:
            private[reg["name"]] = {c["login"]: c["credential"] for c in reg["credentials"]}
            say(f"{reg['name']}: the server generated the credentials (it is the authority)")
    say("every region is open")
    return DemoReferendum(rid, names, roll, trustees, private, admin)


def play_referendum(
    http: httpx.Client,
    admin_token: str,
    *,
    voters: int,
    regions: int,
    rng: RandomSource,
    log: Callable[[str], None] = print,
    ranking: bool = False,
) -> dict[str, Any]:
    """The whole lifecycle, each party its own client; returns the final public status. With
    ``ranking`` a ranking question is added: the server and trustees 1 and 2 shuffle its
    ciphertexts before the decryption."""
    t0 = time.monotonic()

    def say(text: str) -> None:
        log(f"[{time.monotonic() - t0:6.1f} s] {text}")

    d = setup_referendum(
        http, admin_token, voters=voters, regions=regions, rng=rng, say=say, ranking=ranking
    )
    people = [
        Voter(http, d.rid, name, d.private[name][login], rng)
        for name in d.names
        for login in d.roll[name]
    ]
    for p in people:
        p.vote(random_choices(p.election, rng))
    revoters = max(1, voters // 10)
    for p in people[:revoters]:
        p.vote(random_choices(p.election, rng))
    say(f"{len(people) + revoters} ballots cast ({revoters} revotes)")

    d.admin.close(d.rid)
    say("voting closed, tallies on the boards")
    if ranking:
        for name in d.names:
            for t in d.trustees[:2]:
                t.shuffle(name)
        say("the ranking shuffled by the server and trustees 1 and 2")
    for name in d.names:
        for t in d.trustees[:2]:
            t.decrypt(name)
    final = status(http, d.rid)
    say(f"decrypted by trustees 1 and 2 and the server: {final['phase']}")
    return final


# -- the command ---------------------------------------------------------------------------------


def add_arguments(d: Any) -> None:
    d.add_argument(
        "--server",
        metavar="URL",
        help="run a referendum against this board server (administrator token from "
        "PLEBISCITE_ADMIN_TOKEN), each party its own client; --out is then not needed",
    )
    d.add_argument(
        "--regions", type=int, default=1, help="with --server: number of regions (default 1)"
    )


def run(args: Any) -> int:
    try:
        import httpx
    except ImportError:
        raise CommandError("--server needs httpx (pip install httpx)", status=2) from None
    token = os.environ.get("PLEBISCITE_ADMIN_TOKEN")
    if not token:
        raise CommandError("--server needs the administrator token in PLEBISCITE_ADMIN_TOKEN")
    if args.regions < 1:
        raise CommandError("--regions must be at least 1", status=2)
    if args.voters < args.regions:
        raise CommandError("--voters must be at least --regions", status=2)
    base = args.server.rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=600) as http:
            final = play_referendum(
                http,
                token,
                voters=args.voters,
                regions=args.regions,
                rng=SystemRandom(),
                ranking=bool(getattr(args, "ranking", False)),
            )
    except PartyError as e:
        raise CommandError(str(e)) from None
    except httpx.HTTPError as e:
        raise CommandError(f"{base}: {e}") from None
    for reg in final["regions"]:
        print(f"{reg['name']}: {base}{reg['archive']}")
    outcome = final["outcome"]
    if outcome is None:
        raise CommandError("the referendum has no outcome: not every region was decrypted")
    print(outcome["explanation"])
    return 0
