"""Every party of an election over HTTP, each holding only its own secrets.

- :class:`Observer`: anyone; the public routes (statuses, archives, live feeds, checkpoints,
  the server key, turnout), and the board verified on the observer's side.
- :class:`Administrator`: the administrator token or an account's session; creates, opens and
  closes referendums, starts and closes election boards, requires voters to log in.
- :class:`Trustee`: a referendum trustee's link token and the seed of its certificate (made
  here, never sent); the threshold key ceremony, then its shuffles and partial decryptions of
  the ciphertexts it recomputed itself from the region's archive.
- :class:`CredentialAuthority`: an external credential authority's link token and the private
  credentials it makes (for the voters, never for the server).
- :class:`Voter`: their own credential and, where voters log in, their session.

Every party is an :class:`Observer` too. A refusal of the server raises
:class:`~plebiscite.client.PartyError`; a party's own checks of what the server served raise
:class:`~plebiscite.errors.ConsistencyError` (the server's tally or ciphertexts are not the
board's, the archive does not verify) or :class:`~plebiscite.errors.StateError` (a step out of
order on the party's side).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from plebiscite.client import routes
from plebiscite.client._http import DEFAULT_TIMEOUT, Party, PartyError
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import Group, group_by_name
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import ConsistencyError, StateError
from plebiscite.protocol import ceremony
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.election_setup import generate_credentials, public_credentials_json
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.protocol.tally import encrypted_tally_json, partial_decryption_json, shuffle_json
from plebiscite.protocol.verifier import Verifier

__all__ = ["Administrator", "CredentialAuthority", "Observer", "Trustee", "Voter"]


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class Observer(Party):
    """Anyone: the public routes of the server, no token needed."""

    # -- the server

    def health(self) -> bool:
        """Whether the server answers ``/healthz`` with 200 (False on any refusal)."""
        try:
            self.call("GET", routes.HEALTH)
        except PartyError:
            return False
        return True

    def server_key(self) -> str:
        """The server's Ed25519 checkpoint key (base64)."""
        return str(self._object("GET", routes.SERVER_KEY)["key"])

    # -- election boards

    def elections(self) -> list[dict[str, Any]]:
        """Every election on the board with its status."""
        return self._list(routes.ELECTIONS)

    def election_status(self, uuid: str) -> dict[str, Any]:
        """An election's status: board height, ballots, voters, turnout, result."""
        return self._object("GET", routes.election(uuid))

    def election_json(self, uuid: str) -> bytes:
        """The exact election JSON of the board's Setup."""
        return self.call("GET", routes.election_json(uuid)).content

    def find_ballot(self, uuid: str, tracker: str) -> int | None:
        """The board height of the ballot with this smart ballot tracker, None if it is not on
        the board."""
        try:
            found = self._object("GET", routes.ballot(uuid, tracker))
        except PartyError as e:
            if e.code == "unknown_tracker":
                return None
            raise
        return int(found["height"])

    def ballot_box(
        self,
        uuid: str,
        *,
        after: int | None = None,
        before: int | None = None,
        limit: int | None = None,
        tracker: str | None = None,
    ) -> dict[str, Any]:
        """A page of the public ballot box: each ballot's tracker, height and status
        (``counted`` or ``replaced``), the board's height and last signed checkpoint."""
        return self._object(
            "GET", routes.ballot_box(uuid, after=after, before=before, limit=limit, tracker=tracker)
        )

    def find_credential(self, uuid: str, public: str) -> dict[str, Any] | None:
        """Whether the public credential ``public`` is on the board's list (``{"election",
        "name", "credential", "voted"}``); None if not (the refusal, which may name the other
        election whose list holds it, is :meth:`credential_home`)."""
        try:
            return self._object("GET", routes.credential(uuid, public))
        except PartyError as e:
            if e.code == "unknown_credential":
                return None
            raise

    def credential_home(self, uuid: str, public: str) -> dict[str, Any] | None:
        """The other election of the server (``{"uuid", "name"}``) whose list holds the public
        credential ``public``, when the board of ``uuid`` does not; None otherwise."""
        r = self.http.get(routes.credential(uuid, public), headers=self.headers)
        if r.status_code != 404:
            return None
        other = r.json().get("error", {}).get("election")
        return other if isinstance(other, dict) else None

    def voting(self, uuid: str) -> dict[str, Any]:
        """Whether the board takes ballots now, its voting hours and its referendum."""
        return self._object("GET", routes.voting(uuid))

    def checkpoints(self, uuid: str) -> list[dict[str, Any]]:
        """The signed checkpoints of a board, oldest first."""
        return self._list(routes.checkpoints(uuid))

    def archive(self, uuid: str) -> bytes:
        """The election archive (``UUID.bel``) in memory."""
        return self.call("GET", routes.archive(uuid)).content

    def download_record(self, rid: str, path: str | os.PathLike[str]) -> Path:
        """The referendum's record board streamed to ``path`` (a directory:
        ``path/RID.record.bel``), replaced only once complete; returns the file written."""
        target = Path(path)
        if target.is_dir():
            target = target / f"{rid}.record.bel"
        return self._download(routes.referendum_record(rid), target)

    def download_archive(self, uuid: str, path: str | os.PathLike[str]) -> Path:
        """The election archive streamed to ``path`` (a directory: ``path/UUID.bel``),
        replaced only once complete; returns the file written."""
        target = Path(path)
        if target.is_dir():
            target = target / f"{uuid}.bel"
        return self._download(routes.archive(uuid), target)

    def _download(self, route: str, target: Path) -> Path:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                self._stream_to(route, out)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
        return target

    def verified_board(self, uuid: str) -> Verifier:
        """The region's archive downloaded and verified here: the board as this party checked
        it (:class:`ConsistencyError` naming the first failure if it does not verify)."""
        data = self.archive(uuid)
        v = Verifier(lambda: io.BytesIO(data), name=uuid)
        report = v.run()
        if not report.valid:
            first = next(f for f in report.findings if f.severity == "error")
            raise ConsistencyError(f"the archive does not verify: {first.describe()}", where=uuid)
        return v

    def events(self, uuid: str) -> Iterator[dict[str, Any]]:
        """The live feed of a board: ``{"height", "type", "hash"}`` per new event, until the
        caller stops iterating."""
        return self._events(routes.election_events(uuid))

    def voter_authentication(self, uuid: str) -> dict[str, Any]:
        """``{"required", "codes"}``: whether voters must log in, whether codes can be sent."""
        return self._object("GET", routes.voter_authentication(uuid))

    # -- referendums

    def referendums(self) -> list[dict[str, Any]]:
        """Every referendum's id, title and phase."""
        return self._list(routes.REFERENDUMS)

    def status(self, rid: str) -> dict[str, Any]:
        """A referendum's public status (ceremony, regions, outcome)."""
        return self._object("GET", routes.referendum(rid))

    def turnout(self, rid: str) -> dict[str, Any]:
        """The turnout over time in every region."""
        return self._object("GET", routes.turnout(rid))

    def card(self, rid: str, lang: str | None = None) -> bytes:
        """A referendum's result card: a 1200×630 PNG (its words in ``lang``)."""
        return self.call("GET", routes.card(rid, lang)).content

    def referendum_events(self, rid: str) -> Iterator[dict[str, Any]]:
        """The live feed of every region: ``{"region", "election", "height", "type",
        "hash"}`` per new event, until the caller stops iterating."""
        return self._events(routes.referendum_events(rid))

    def region_election(self, rid: str, name: str) -> bytes:
        """A region's election JSON."""
        return self.call("GET", routes.region_election(rid, name)).content

    def region_tally(self, rid: str, name: str) -> dict[str, Any]:
        """A region's encrypted tally as the server serves it."""
        return self._object("GET", routes.region_tally(rid, name))

    def shuffle_input(self, rid: str, name: str) -> dict[str, Any]:
        """The ciphertexts a region's next shuffle takes, as the server serves them."""
        return self._object("GET", routes.region_shuffle_input(rid, name))

    # -- polls

    def polls(self) -> list[dict[str, Any]]:
        """Every poll's id, title, state, opening and closing."""
        return self._list(routes.POLLS)

    def poll(self, pid: str) -> dict[str, Any]:
        """A poll's public status (state, shards, turnout, powers, result)."""
        return self._object("GET", routes.poll(pid))

    def poll_qr(self, pid: str) -> bytes:
        """The QR code of a poll's share link, an SVG image."""
        return self.call("GET", routes.poll_qr(pid)).content

    def region_uuid(self, rid: str, name: str) -> str:
        """The election uuid of a region."""
        regions = [r for r in self.status(rid)["regions"] if r["name"] == name]
        if not regions:
            raise StateError(f"no region {name!r}", where=rid)
        return str(regions[0]["election"])


class Administrator(Observer):
    """The administrator token (``PLEBISCITE_ADMIN_TOKEN``) or an account's session token.
    Sees the private credentials the server generated for the regions where it is the
    credential authority (to send them to the voters)."""

    session: dict[str, Any] | None = None
    """The server's answer to :meth:`sign_in` (``token``, ``name``, ``expires``)."""

    @classmethod
    def sign_in(
        cls, http: httpx.Client | str, name: str, password: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> Administrator:
        """Sign in with an administrator account: the administrator with its session token
        (``session`` has the server's answer, with ``expires``)."""
        admin = cls(http, timeout=timeout)
        admin.session = admin._object(
            "POST", routes.SESSION, json={"name": name, "password": password}
        )
        admin.token = str(admin.session["token"])
        return admin

    def whoami(self) -> dict[str, Any]:
        """``{"name", "bootstrap", "expires"}`` of this token."""
        return self._object("GET", routes.SESSION)

    def sign_out(self) -> bool:
        """End this account's session (the token is worthless afterwards)."""
        return bool(self._object("POST", routes.SESSION_LOGOUT)["ended"])

    # -- referendums

    def create(
        self,
        record: Mapping[str, Any],
        voters: Mapping[str, Sequence[Any] | Mapping[str, int]],
        authorities: Mapping[str, str] | None = None,
        *,
        voter_authentication: bool = False,
        group: str | None = None,
        credential_delivery: str | None = None,
        sign_in: str | None = None,
    ) -> dict[str, Any]:
        """Create a referendum: ``record`` (uuids of regions may be left to the server),
        ``voters`` per region (logins, or ``{"login", "weight"}``; or ``{"pool": N}``: N
        credentials handed to the voters who sign in, with ``sign_in="oidc"``),
        ``authorities`` per region (``"server"`` or ``"external"``), the ``group``
        (``"Ed25519"`` for Belenios 3.x records; by default the server's);
        ``credential_delivery="mail"``: the server's credentials are sent to the voters (logins
        e-mail addresses) by mail from now. The answer has the link token of every trustee and
        external credential authority (shown this once)."""
        body: dict[str, Any] = {"referendum": dict(record), "voters": dict(voters)}
        if authorities:
            body["credential_authority"] = dict(authorities)
        if voter_authentication:
            body["voter_authentication"] = True
        if credential_delivery is not None:
            body["credential_delivery"] = credential_delivery
        if group is not None:
            body["group"] = group
        if sign_in is not None:
            body["sign_in"] = sign_in
        return self._object("POST", routes.REFERENDUMS, json=body)

    def open(self, rid: str) -> dict[str, Any]:
        """Open every region (the ceremony done, every credential in); the answer has the
        private credentials of the regions where the server is the authority."""
        return self._object("POST", routes.open_referendum(rid))

    def close(self, rid: str) -> dict[str, Any]:
        """Close voting in every region and tally."""
        return self._object("POST", routes.close_referendum(rid))

    def letters(
        self, rid: str, *, state: str | None = None, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """The delivery of the credential letters: ``counts`` per state and a page of
        ``letters`` (``next``: the ``after`` of the next page)."""
        return self._letter_page(routes.letters(rid), state, after, limit)

    def _letter_page(
        self, path: str, state: str | None, after: str | None, limit: int
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if state is not None:
            params["state"] = state
        if after is not None:
            params["after"] = after
        return self._object("GET", f"{path}?{urlencode(params)}")

    def resend_failed(self, rid: str) -> dict[str, Any]:
        """Make the failed credential letters pending again."""
        return self._object("POST", routes.resend_failed(rid))

    def reissue(self, rid: str, region: str, login: str) -> dict[str, Any]:
        """A new credential for ``login`` of ``region``, sent by mail (before the opening)."""
        return self._object("POST", routes.reissue(rid), json={"region": region, "login": login})

    # -- polls

    def create_poll(
        self,
        question: str | None,
        answers: Sequence[str] = (),
        *,
        closing: str,
        emails: Sequence[str] | None = None,
        open_pool: int | None = None,
        opening: str | None = None,
        title: str | None = None,
        questions: Sequence[Mapping[str, Any]] | None = None,
        trustees: Sequence[str] = (),
        threshold: int | None = None,
        shard_size: int | None = None,
        login_codes: bool = False,
        delivery: str | None = None,
        language: str | None = None,
        translations: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a poll in one request: ``question`` and its ``answers`` (or full
        ``questions``), the voters' e-mail addresses (or ``open_pool``: N credentials handed
        out to the accounts that sign in with the server's identity provider), the closing
        time (and the opening: now by default), optional trustees (then a ceremony, and the
        poll opens itself once it is done). The answer has the share link, the trustees' link
        tokens and the voters' private credentials (shown this once) when ``delivery`` is
        ``organiser`` (the server's default without an outbox); with ``mail`` each voter is
        sent theirs; an open poll's stay with the server, which hands them out at sign-in.
        ``language``: the language of the texts; ``translations``: the title, questions and
        answers in other languages (``{"uk": {"title", "questions": [{"question",
        "answers"}]}}``, the referendum record's shape)."""
        if (emails is None) == (open_pool is None):
            raise ValueError("give the voters' emails or open_pool, one of them")
        voters: dict[str, Any] = (
            {"open": {"pool": open_pool}} if emails is None else {"emails": list(emails)}
        )
        body: dict[str, Any] = {"closing": closing, "voters": voters}
        if delivery is not None:
            body["voters"]["delivery"] = delivery
        if questions is not None:
            body["questions"] = [dict(q) for q in questions]
        else:
            body |= {"question": question, "answers": list(answers)}
        if login_codes:
            body["voters"]["login_codes"] = True
        for k, v in (
            ("opening", opening),
            ("title", title),
            ("shard_size", shard_size),
            ("language", language),
        ):
            if v is not None:
                body[k] = v
        if translations is not None:
            body["translations"] = dict(translations)
        if trustees:
            body["trustees"] = {"names": list(trustees)}
            if threshold is not None:
                body["trustees"]["threshold"] = threshold
        return self._object("POST", routes.POLLS, json=body)

    def poll_letters(
        self, pid: str, *, state: str | None = None, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """The delivery of a mail poll's credential letters (as :meth:`letters`)."""
        return self._letter_page(routes.poll_letters(pid), state, after, limit)

    def poll_resend_failed(self, pid: str) -> dict[str, Any]:
        """Make a mail poll's failed credential letters pending again."""
        return self._object("POST", routes.poll_resend_failed(pid))

    def poll_reissue(self, pid: str, login: str) -> dict[str, Any]:
        """A new credential for the voter ``login`` of a mail poll, sent by mail (before the
        opening)."""
        return self._object("POST", routes.poll_reissue(pid), json={"login": login})

    def close_poll(self, pid: str) -> dict[str, Any]:
        """Close a poll now: its status (the result too when it has no trustee)."""
        return self._object("POST", routes.close_poll(pid))

    # -- election boards

    def create_election(
        self, election: bytes | str, trustees: bytes | str, credentials: bytes | str
    ) -> dict[str, Any]:
        """Start an election's board from its setup (each the exact JSON text)."""

        def text(v: bytes | str) -> str:
            return v.decode() if isinstance(v, bytes) else v

        body = {
            "election": text(election),
            "trustees": text(trustees),
            "credentials": text(credentials),
        }
        return self._object("POST", routes.ELECTIONS, json=body)

    def close_election(self, uuid: str) -> dict[str, Any]:
        """Close voting on a board (EndBallots)."""
        return self._object("POST", routes.close_election(uuid))

    def require_voter_login(
        self, uuid: str, voters: Sequence[str] | Mapping[str, str | None]
    ) -> dict[str, Any]:
        """From now on a ballot of ``uuid`` needs the session of a listed voter (logins are
        e-mail addresses; a public credential per login, or None: the first ballot's)."""
        roll: Any = dict(voters) if isinstance(voters, Mapping) else list(voters)
        return self._object("POST", routes.voter_authentication(uuid), json={"voters": roll})


class Trustee(Observer):
    """A threshold trustee of a referendum: its link token and its seed (step 1 of the
    ceremony), which never leaves this object; ``secret`` resumes a trustee whose certificate
    was made before."""

    def __init__(
        self,
        http: httpx.Client | str,
        rid: str,
        index: int,
        token: str,
        rng: RandomSource,
        *,
        secret: ceremony.TrusteeSecret | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(http, token, timeout=timeout)
        self.rid, self.index, self.rng = rid, index, rng
        self._secret = secret
        self._key: int | None = None

    @property
    def base(self) -> str:
        """The prefix of this trustee's routes."""
        return routes.trustee(self.rid, self.index)

    @property
    def secret(self) -> ceremony.TrusteeSecret | None:
        """The certificate and its seed, once made (kept by the trustee, never sent)."""
        return self._secret

    def _state(self) -> tuple[Group, dict[str, Any]]:
        st = self.status(self.rid)
        return group_by_name(st["group"]), st["ceremony"]

    def _seed(self) -> str:
        if self._secret is None:
            raise StateError(f"trustee {self.index} has no certificate yet", where=self.rid)
        return self._secret.seed

    def send_certificate(self) -> dict[str, Any]:
        """Step 1: make a certificate (its seed kept here) and send the certificate."""
        group, cer = self._state()
        # an Ed25519 referendum runs a Belenios 3.x ceremony (certificates with their context);
        # the finite-field groups keep the 2.0 record
        context = (
            (self.index, cer["threshold"], len(cer["trustees"]))
            if group.name == "Ed25519"
            else None
        )
        self._secret = ceremony.make_certificate(group, self.rng, context)
        return self._object(
            "POST", routes.certificate(self.rid, self.index), content=self._secret.cert.encode()
        )

    def send_polynomial(self) -> dict[str, Any]:
        """Step 3: the polynomial made from every certificate and the threshold."""
        group, cer = self._state()
        if cer["certificates"] is None:
            raise StateError(
                f"the certificates are not all in (ceremony at {cer['phase']})", where=self.rid
            )
        poly = ceremony.make_polynomial(
            group, cer["certificates"], self._seed(), cer["threshold"], self.rng
        )
        return self._object("POST", routes.polynomial(self.rid, self.index), content=poly.encode())

    def vinput(self) -> str:
        """This trustee's vinput (its polynomial and the shares sent to it)."""
        return self.call("GET", routes.vinput(self.rid, self.index)).text

    def send_voutput(self) -> dict[str, Any]:
        """Step 5: the voutput made from this trustee's vinput."""
        group, cer = self._state()
        voutput = ceremony.make_voutput(
            group, cer["certificates"], self._seed(), self.vinput(), self.rng
        )
        return self._object("POST", routes.voutput(self.rid, self.index), content=voutput.encode())

    def dkey(self) -> str:
        """This trustee's decryption key as it sent it, encrypted to itself."""
        return self.call("GET", routes.dkey(self.rid, self.index)).text

    def _tallied_board(self, region: str) -> Verifier:
        v = self.verified_board(self.region_uuid(self.rid, region))
        if v.tally is None or v.election is None:
            raise StateError(f"region {region!r} is not tallied", where=self.rid)
        return v

    def partial_decryption(self, region: str) -> bytes:
        """Its partial decryption of ``region``'s tally: the board verified here, its tally
        compared with the server's, its own key checked against the board's trustees."""
        v = self._tallied_board(region)
        assert v.tally is not None and v.election is not None
        served = self.region_tally(self.rid, region)
        if encrypted_tally_json(v.tally, v.election.questions) != _compact(
            served["encrypted_tally"]
        ):
            raise ConsistencyError(f"the server's tally of {region!r} is not the board's")
        owner = self.index + 1  # owner 1 is the server's key
        vk = v.owners[owner - 1].key.public_key
        group = v.election.group
        if self._key is None:
            self._key = ceremony.threshold_decryption_key(
                group, self._seed(), self.dkey(), verification_key=vk
            )
        elif Context(group).gpow(self._key) != vk:
            raise ConsistencyError(
                f"trustee {self.index}'s key is not the one on {region!r}'s board"
            )
        ctx = Context(group, v.election.public_key)
        return partial_decryption_json(
            ctx, v.election.fingerprint, self._key, v.tally, self.rng, v.election.questions
        )

    def shuffle_of(self, region: str) -> bytes:
        """Its shuffle of ``region``'s non-homomorphic ciphertexts: the board verified here
        (every shuffle so far checked), the ciphertexts compared with those the server serves,
        then shuffled with a fresh permutation and re-encryption of its own."""
        v = self._tallied_board(region)
        assert v.tally is not None and v.election is not None
        served = self.shuffle_input(self.rid, region)
        mine = [json.loads(encrypted_tally_json([v.tally[i]]))[0] for i in served["questions"]]
        if mine != served["ciphertexts"]:
            raise ConsistencyError(
                f"the server's ciphertexts to shuffle of {region!r} are not the board's"
            )
        ctx = Context(v.election.group, v.election.public_key)
        return shuffle_json(v.election, ctx, v.tally, self.rng)

    def shuffle(self, region: str) -> dict[str, Any]:
        """Make and send its shuffle of ``region``."""
        sh = self.shuffle_of(region)
        return self._object("POST", routes.shuffle(self.rid, self.index, region), content=sh)

    def decrypt(self, region: str) -> dict[str, Any]:
        """Make and send its partial decryption of ``region``."""
        pd = self.partial_decryption(region)
        return self._object(
            "POST", routes.partial_decryption(self.rid, self.index, region), content=pd
        )


class CredentialAuthority(Observer):
    """An external credential authority of one region: its link token and the private
    credentials it makes (handed to the voters, never to the server)."""

    def __init__(
        self,
        http: httpx.Client | str,
        rid: str,
        region: str,
        token: str,
        rng: RandomSource,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(http, token, timeout=timeout)
        self.rid, self.region, self.rng = rid, region, rng

    def voters(self) -> dict[str, Any]:
        """The region's voters and weights, its election uuid and group."""
        return self._object("GET", routes.region_voters(self.rid, self.region))

    def send_credentials(self, public: bytes) -> dict[str, Any]:
        """Send the public credential list (replaceable until the referendum opens)."""
        return self._object("PUT", routes.region_credentials(self.rid, self.region), content=public)

    def make_credentials(self) -> dict[str, str]:
        """Generate every voter's credential, send the public list; login -> private."""
        info = self.voters()
        group = group_by_name(info["group"])
        voters = [(v["login"], v["weight"] if info["weighted"] else None) for v in info["voters"]]
        creds = generate_credentials(voters, info["election"], group, self.rng)
        self.send_credentials(public_credentials_json(creds))
        return {c.login: c.private for c in creds}


class Voter(Observer):
    """A voter of a referendum's region (or of one election: :meth:`of_election`): their own
    credential only and, where voters log in, their session (``session``, or :meth:`log_in`
    with the code the server sent)."""

    def __init__(
        self,
        http: httpx.Client | str,
        rid: str,
        region: str,
        credential: str,
        rng: RandomSource,
        session: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(http, session, timeout=timeout)
        self.rid, self.region, self.credential, self.rng = rid, region, credential, rng
        self._election: Election | None = None
        self._uuid: str | None = None

    @classmethod
    def of_election(
        cls,
        http: httpx.Client | str,
        uuid: str,
        credential: str,
        rng: RandomSource,
        session: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Voter:
        """A voter of the election ``uuid`` (a poll, not a referendum's region)."""
        voter = cls(http, "", "", credential, rng, session, timeout=timeout)
        voter._uuid = uuid
        return voter

    @property
    def election(self) -> Election:
        """The voter's election (fetched once)."""
        if self._election is None:
            raw = (
                self.election_json(self._uuid)
                if self._uuid is not None
                else self.region_election(self.rid, self.region)
            )
            self._election = parse_election(raw)
        return self._election

    def cast(self, ballot: bytes) -> dict[str, Any]:
        """Send a ballot made elsewhere: ``{"tracker", "height"}``."""
        return self._object("POST", routes.ballots(self.election.uuid), content=ballot)

    def vote(self, choices: list[list[int]]) -> str:
        """Make and cast a ballot; returns its smart ballot tracker, checked against the
        server's."""
        e = self.election
        ballot = make_ballot(e, self.credential, choices, self.rng)
        answer = self.cast(ballot)
        tracker = h_json(ballot)
        if answer["tracker"] != tracker:
            raise ConsistencyError(
                f"the server answered tracker {answer['tracker']}, not {tracker}"
            )
        return tracker

    def find(self, tracker: str) -> int | None:
        """The board height of the ballot with this tracker, None if it is not there."""
        return self.find_ballot(self.election.uuid, tracker)

    def ask_code(self, login: str) -> dict[str, Any]:
        """Ask for a one-time login code sent to ``login`` (the same answer whether or not
        the login is on the roll)."""
        return self._object("POST", routes.login_code(self.election.uuid), json={"login": login})

    def log_in(self, login: str, code: str) -> str:
        """Log in with the code received; the session is this voter's token from now on."""
        return self._session({"login": login, "code": code})

    def log_in_link(self, token: str) -> str:
        """Log in with the token of the message's link (after ``#login=``)."""
        return self._session({"token": token})

    def _session(self, body: dict[str, str]) -> str:
        answer = self._object("POST", routes.voter_login(self.election.uuid), json=body)
        self.token = str(answer["token"])
        return self.token

    def log_out(self) -> bool:
        """End this voter's session."""
        ended = bool(self._object("POST", routes.voter_logout(self.election.uuid))["ended"])
        self.token = None
        return ended
