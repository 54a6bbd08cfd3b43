"""The referendum lifecycle: each party a separate client, the server a relay (the routes of
:mod:`plebiscite.server.routes.referendums` are thin over :class:`Referendums`).

1. The administrator creates the referendum (``POST /api/referendums``): the referendum record
   (:mod:`plebiscite.protocol.referendum`), a voter list per region and who acts as each
   region's credential authority. The server answers with one single-purpose link token per
   trustee (and per external credential authority), kept only as a SHA256 hash, and generates
   its own "Single" trustee key for this referendum only.
2. The trustees run the threshold ("Pedersen") ceremony through the server: each sends its
   certificate, polynomial and voutput, computed on its own side (steps 1, 3 and 5 of
   :mod:`plebiscite.protocol.ceremony`, or ``belenios-tool setup
   generate-trustee-key-threshold``); the server does steps 2, 4 and 6 and keeps each
   trustee's encrypted decryption key (``.dkey``) for it to fetch back. No trustee's seed ever
   reaches the server.
3. The administrator opens the referendum (``POST .../open``): for each region the server uses
   the public credentials uploaded by the region's credential authority, or (when it is the
   credential authority, which the status says publicly) generates them and returns the
   private ones to the administrator once, then creates the region's election and board.
4. Voters cast ballots on each region's board (``POST /api/elections/UUID/ballots``). The
   administrator closes every region (``POST .../close``): the close recorded first (from then
   on no region takes a ballot), then in each region EndBallots and the encrypted tally the
   server's live verifier recomputed from the board.
5. Where the questions include non-homomorphic ones (a ranking, say: the referendum then uses
   the group RFC-3526-2048, whose elements embed the answers, and every voter weighs 1), the
   ciphertexts of those questions are shuffled before any decryption (section 3.4 of the
   specification): the server shuffles first, right after the encrypted tally (owner 1, its
   shuffle independent of any key), then ``threshold`` of the threshold trustees each send a
   shuffle made on their side of the ciphertexts the last shuffle left
   (``GET .../regions/NAME/shuffle-input``; ``POST .../trustees/I/regions/NAME/shuffle``).
   Each is checked in full (CheckShuffleProof against those ciphertexts, one per trustee)
   before it is appended; once ``threshold`` trustees shuffled, the server appends
   EndShuffles. Why ``threshold``: the link between a ballot and its decrypted answers is
   broken if one shuffler is honest; decrypting needs the server's key and ``threshold``
   trustees' shares, so those who could undo every shuffle (the server and the ``threshold``
   trustees who shuffled) could as well decrypt every ballot before any shuffle: the shuffles
   protect exactly as much as the key does. More shuffles would add time, not protection
   against a coalition that can decrypt anyway.
6. Each trustee sends its partial decryption of each region's tally (after the shuffles, if
   any), computed on its side; it is checked (every proof, against the trustee's verification
   key) before it is appended. Once enough are in, the server appends its own partial
   decryption and the result.
7. ``GET /api/referendums/ID``: the ceremony, every region's phase, turnout, shuffles and
   result, and the outcome of the decision rule once every region is tallied.

Credentials by mail: a referendum created with ``"credential_delivery": "mail"`` (the logins
of the regions whose credential authority is the server all e-mail addresses; refused with
``no_outbox`` when the server sends no mail) has those regions' credentials made at creation
(a credential depends only on the election's uuid and group): the public credentials are kept
in the region's roll (``referendum-roll``, as an external authority's uploaded ones are) with,
sealed and only until the opening, which login holds which; one letter per voter is enqueued
(:mod:`plebiscite.service.letters`, job ``RID/created``) before the creation answers, with the
booth's link ``PUBLIC_URL/booth/UUID#credential=CREDENTIAL``, and neither the creation nor the
opening returns a private credential. :meth:`Referendums.reissue` replaces one voter's
credential before the opening (a new letter, job ``RID/reissue/NNNNNN``); the opening first
stores that the credentials are frozen (compare-and-put), so a reissue made meanwhile through
another process either came first or is refused (``voting_open``). A referendum without the
option is stored and answered exactly as before it existed.

A poll (:mod:`plebiscite.service.poll`) is a referendum whose record may have no trustee:
the trustees structure is then the server's own key alone, the ceremony done at creation, and
the close decrypts at once (:func:`_decrypt_alone`: the server's shuffle, its partial
decryption and the result). A poll's credentials are made by the server at the creation
(``credentials_at_creation``: the private ones in the creation's answer, each login's public
one kept for the opening) and the server opens it itself once its ceremony is done
(``auto_open``: at the last voutput, or by the closer's next look, :meth:`Referendums.open_due`).

Voter login: a referendum created with ``"voter_authentication": true`` (every login an e-mail
address) requires voters to log in by one-time code (:mod:`plebiscite.server.voterauth`)
before casting. At opening, before its board exists, each region gets its voter list: where
the server is the credential authority, each login with its own public credential (a ballot
under any other credential is refused); where an external authority made them, the server
does not know whose credential is whose, so a login's first ballot binds its credential.

Open polls: a region created with ``"voters": {NAME: {"pool": N}}`` and the request's
``"sign_in": "oidc"`` (refused unless the server has an OpenID Connect provider,
:attr:`Referendums.sign_in`, and unless the server is the region's credential authority) has no
voter list: at opening the server makes N credentials, publishes the public ones on the board
and the pool's size in the record board's Opened event, and keeps the private ones sealed in
the pool's records (:mod:`plebiscite.service.pool`, written before the board exists), never in
the opening's answer. :meth:`Referendums.assign_credential` hands one to each account that
signs in (:mod:`plebiscite.server.signin`), the same at every sign-in; the status gives the
pool's size, how many were given and who holds which power.

Voting is open from the record's ``opening`` to its ``closing`` time (UTC): a ballot outside
them is refused (``not_yet_open``, ``voting_closed``), and once the closing time passes the
server closes every region itself (:func:`closer`, what ``POST .../close`` does). The
administrator may still close earlier; a referendum past its closing time does not open.

Persistence: every change of a referendum (creation, each ceremony message and its outcome,
the trustees' ``.dkey``, public credentials, opening, errors) is written to the server's private
store (:mod:`plebiscite.board.private`, in the board's database) before the answer is sent; a
write that fails leaves the referendum as it was and answers 503. At start-up
(:func:`restore`) every referendum is loaded again, the server's shuffle or the EndShuffles
that a crash left due are appended, a decryption interrupted between the last trustee's share
and the result is finished, every region of a referendum whose close was recorded is closed
before any ballot is taken (a close interrupted by a crash between two regions), and regions
past their closing time are closed.
The records: ``referendum`` (id: the ceremony and token hashes, what changes),
``referendum-roll`` (id: voter lists and public credentials, large and written rarely) and
``referendum-opening`` (id: the regions' setups planned by ``POST .../open`` before any board is
made, so an opening interrupted by a crash is finished by the next ``POST .../open`` with the
same credentials; removed once open). The decryption's progress is on the boards themselves.

Several server processes may share one PostgreSQL database and behave as one server. Each
keeps a copy of the referendums it has seen, and compares its version with the stored one's
before using it (:meth:`Referendums.lookup`, one small read): a referendum another process
created or changed is read again. A change is made under the referendum's lock, on the stored
version read again first, and written by compare-and-put on that version
(:meth:`PrivateStore.replace`): if another process wrote in between, nothing is written and the
request is refused with ``conflict`` (409: send it again), so no change is ever lost. Ballots
go through any process (each reads the others' events before appending,
:meth:`ElectionState.append`); one process at a time looks at the closing times (the closer's
lease, :meth:`Referendums.take_lease`), and compare-and-append makes the close happen once
whatever the processes do.

What protects the server's own trustee key of each referendum (and the private credentials of
an opening in progress): it is stored sealed with AES-256-GCM under a key derived (HKDF-SHA256)
from the seed of the server's signing key (the key file, ``plebiscite serve --key-file``), bound
to the referendum's id. Reading the database is not enough to decrypt a region early; the key
file and the database together are. Token links are kept as SHA-256 hashes only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import functools
import hashlib
import hmac
import io
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plebiscite import strictjson
from plebiscite.board.base import Board, Head, Item, plan_append
from plebiscite.board.private import PrivateStore
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import ED25519, Group, group_by_name
from plebiscite.crypto.hashing import sha256_hex
from plebiscite.crypto.rand import RandomSource
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import (
    BoardError,
    ConflictError,
    EncodingError,
    PlebisciteError,
    ProofError,
    StateError,
)
from plebiscite.protocol import ceremony
from plebiscite.protocol.election_setup import (
    VoterCredential,
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.messages import (
    LIMITS,
    Pedersen,
    QuestionL,
    arr,
    obj,
    parse_credentials,
    parse_election,
    small_int,
    string,
)
from plebiscite.protocol.phases import BoardPhase, CeremonyStep, ReferendumPhase, RegionPhase
from plebiscite.protocol.record import (
    CHECKPOINT,
    CLOSED,
    OPENED,
    OUTCOME,
    RECORD,
    RecordBoard,
    checkpoint_payload,
    closed_payload,
    opened_payload,
    outcome_payload,
    read_record,
    record_board_id,
    record_payload,
)
from plebiscite.protocol.reduce import PartitionState, Runner
from plebiscite.protocol.referendum import (
    Referendum,
    RegionResult,
    Trustees,
    check_election,
    compute_outcome,
)
from plebiscite.protocol.tally import (
    encrypted_tally_json,
    encrypted_tally_on,
    owned_json,
    partial_decryption_json,
    result_json,
    shuffle_json,
)
from plebiscite.protocol.verifier import Verifier
from plebiscite.service import pool
from plebiscite.service.credgen import CredentialMaker
from plebiscite.service.election import (
    APPEND_ATTEMPTS,
    Elections,
    ElectionState,
    now_iso,
    setup_archive,
)
from plebiscite.service.errors import (
    Forbidden,
    Internal,
    Invalid,
    NotFound,
    Refused,
    Unauthorized,
    Unavailable,
)
from plebiscite.service.letters import KIND_JOB, Letter, Letters
from plebiscite.service.pool import MAX_POOL
from plebiscite.service.tallyread import range_reader, slice_reader
from plebiscite.service.voters import EMAIL, is_required, set_roll
from plebiscite.service.workers import TallyWorkers

__all__ = [
    "KIND",
    "KIND_OPENING",
    "KIND_OPENING_REGION",
    "KIND_ROLL",
    "KIND_ROLL_REGION",
    "Referendums",
]

log = logging.getLogger(__name__)

MAX_CREATE = 64 << 20
MAX_MESSAGE = 16 << 20  # a ceremony message, a credential list
#: a shuffle or a partial decryption: several KB per ballot and non-homomorphic question
MAX_TALLY_MESSAGE = 256 << 20
MAX_VOTERS = 1 << 22
#: The group of a referendum unless the request names one: Ed25519, a Belenios 3.x record (its
#: threshold ceremony too); it embeds the answers of non-homomorphic questions as well. A
#: request may name "BELENIOS-2048" (homomorphic questions only) or "RFC-3526-2048": a
#: Belenios 2.0 record.
GROUP: Group = ED25519


#: the kinds of the private records (:mod:`plebiscite.board.private`), keyed by referendum id
KIND = "referendum"
KIND_ROLL = "referendum-roll"
#: a region's part of a referendum's voter roll, keyed by referendum id and region index
KIND_ROLL_REGION = "referendum-roll-region"
KIND_OPENING = "referendum-opening"
#: a region's part of an opening's plan, keyed by referendum id and election uuid
KIND_OPENING_REGION = "referendum-opening-region"
#: who looks at the closing times (one process of those sharing a database)
KIND_LEASE = "lease"
#: how long the closer's lease lasts unless renewed (seconds)
LEASE_SECONDS = 10.0
MAX_RECORD = 1 << 34
#: seconds between two looks of :func:`closer` at the closing times
CLOSE_INTERVAL = 1.0


# -- state --------------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(repr=False)
class _Trustee:
    """A threshold trustee as the server knows it: only public messages and the hash of its
    link token. Its owner number on the boards is ``index + 1`` (owner 1 is the server)."""

    index: int
    name: str
    token_hash: str
    cert: str | None = None
    cert_id: str | None = None
    polynomial: str | None = None
    vinput: str | None = None
    voutput: str | None = None
    dkey: str | None = None  # the trustee's decryption key, encrypted to itself

    @property
    def owner(self) -> int:
        return self.index + 1


@dataclass(repr=False)
class _Region:
    name: str
    uuid: str
    voters: list[tuple[str, int | None]]
    authority: str  # "server" or "external"
    token_hash: str | None = None  # the external credential authority's link token
    public_credentials: bytes | None = None
    #: with credentials delivered by mail, until the opening: each login's public credential
    #: (``{login: credential}`` as JSON), sealed (see _seal); what a reissue replaces
    logins_sealed: str | None = None
    #: the public credential of each login, where the server made the credentials at the
    #: creation (a poll's: ``credentials_at_creation``) rather than at the opening
    credential_logins: dict[str, str] | None = None
    #: a pool of this many credentials instead of a voter list (:mod:`plebiscite.service.pool`)
    pool: int | None = None

    @property
    def roll(self) -> int:
        """The number of credentials the region's board will hold."""
        return self.pool if self.pool is not None else len(self.voters)


@dataclass(repr=False)
class _Referendum:
    referendum: Referendum
    group: Group
    trustees: list[_Trustee]
    threshold: int
    regions: list[_Region]
    server_key: int  # the server's own "Single" trustee key, for this referendum only
    server_key_sealed: str  # the same, as stored (see _seal)
    server_public: bytes
    phase: CeremonyStep = CeremonyStep.CERTIFICATES
    certs: str | None = None
    parameters: str | None = None
    trustees_raw: bytes | None = None
    error: str | None = None
    opened: bool = False
    #: when the administrator closed voting (``POST .../close``), recorded before any region
    #: is closed; None: not closed by the administrator
    closed_at: str | None = None
    #: voters log in by one-time code before casting (their logins are e-mail addresses)
    voter_authentication: bool = False
    #: "mail": the credentials of the server's regions were made at creation and sent to the
    #: voters by mail (:mod:`plebiscite.service.letters`); None: returned at the opening
    credential_delivery: str | None = None
    #: the opening has begun: the credentials are those of the regions' boards (no reissue)
    credentials_frozen: bool = False
    #: how many credentials were reissued (each reissue's letter job is numbered by it)
    reissues: int = 0
    #: opened by the server itself once the ceremony is done (a poll's; :meth:`open_due`)
    auto_open: bool = False
    #: how voters of the pool regions get their credential: "oidc" (they sign in with OpenID
    #: Connect, :mod:`plebiscite.service.pool`), None: no pool region
    sign_in: str | None = None
    #: the version of the stored record this is (:meth:`PrivateStore.replace`); 0: not stored
    version: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def region(self, name: str) -> _Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise NotFound("unknown_region", f"no region {name!r} in referendum {self.referendum.id}")


# -- persistence ---------------------------------------------------------------------------------


def _sealer(key: SigningKey) -> AESGCM:
    """AES-256-GCM under a key derived from the seed of the server's signing key."""
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"plebiscite: the server's sealed private records, version 1",
    ).derive(key.seed)
    return AESGCM(derived)


def _seal(key: SigningKey, rid: str, what: str, secret: bytes) -> str:
    nonce = secrets.token_bytes(12)
    sealed = _sealer(key).encrypt(nonce, secret, f"{what} of referendum {rid}".encode())
    return base64.b64encode(nonce + sealed).decode()


def _unseal(key: SigningKey, rid: str, what: str, text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
        return _sealer(key).decrypt(raw[:12], raw[12:], f"{what} of referendum {rid}".encode())
    except (InvalidTag, ValueError):
        raise StateError(
            f"the server's sealed {what} does not open with this server's key: is this the key "
            "file the referendum was created with?",
            where=f"referendum {rid}",
        ) from None


def _dump(ref: _Referendum) -> bytes:
    """What changes: the record, the ceremony, the token hashes (kind ``referendum``)."""
    return strictjson.dumps_compact(
        {
            "version": 1,
            "record": ref.referendum.to_json().decode(),
            "group": ref.group.name,
            "threshold": ref.threshold,
            "server_key": ref.server_key_sealed,
            "server_public": ref.server_public.decode(),
            "phase": ref.phase,
            "certs": ref.certs,
            "parameters": ref.parameters,
            "trustees_raw": None if ref.trustees_raw is None else ref.trustees_raw.decode(),
            "error": ref.error,
            "opened": ref.opened,
            "closed_at": ref.closed_at,
            "voter_authentication": ref.voter_authentication,
            **({"auto_open": True} if ref.auto_open else {}),
            "sign_in": ref.sign_in,
            "trustees": [dataclasses.asdict(t) for t in ref.trustees],
            "regions": [
                {
                    "name": r.name,
                    "uuid": r.uuid,
                    "authority": r.authority,
                    "token": r.token_hash,
                    "pool": r.pool,
                }
                for r in ref.regions
            ],
        }
        | _dump_delivery(ref)
    )


def _dump_delivery(ref: _Referendum) -> dict[str, Any]:
    """The fields of a referendum whose credentials go by mail (none otherwise: its record is
    what it was before they existed)."""
    if ref.credential_delivery is None:
        return {}
    return {
        "credential_delivery": ref.credential_delivery,
        "credentials_frozen": ref.credentials_frozen,
        "reissues": ref.reissues,
    }


def _roll_part_value(r: _Region) -> dict[str, Any]:
    return {
        "voters": [[login, w] for login, w in r.voters],
        "public_credentials": None
        if r.public_credentials is None
        else r.public_credentials.decode(),
        **({} if r.credential_logins is None else {"credential_logins": r.credential_logins}),
    } | ({} if r.logins_sealed is None else {"logins": r.logins_sealed})


def _write_roll(store: PrivateStore, ref: _Referendum, changed: Iterable[int]) -> None:
    """What is large and changes rarely: the voters and public credentials, a record a region
    (kind ``referendum-roll-region``, keyed ``ID/INDEX``), the regions ``changed`` written
    (each serialised alone: the memory of one region's), then the roll's head (kind
    ``referendum-roll``: how many regions) where it is not there yet. A roll stored whole in
    its head (an earlier layout) is written again a region at a time, every region."""
    rid = ref.referendum.id
    head = strictjson.dumps_compact({"version": 2, "regions": len(ref.regions)})
    stored = store.get(KIND_ROLL, rid)
    if stored != head:
        changed = range(len(ref.regions))
    for i in changed:
        part = strictjson.dumps_compact(_roll_part_value(ref.regions[i]))
        store.put(KIND_ROLL_REGION, f"{rid}/{i}", part)
        del part
    if stored != head:
        store.put(KIND_ROLL, rid, head)


def _delete_roll(store: PrivateStore, rid: str) -> None:
    store.delete(KIND_ROLL, rid)
    store.delete_prefix(KIND_ROLL_REGION, f"{rid}/")


#: a region's part of the voter roll: its voters, public credentials, sealed logins and
#: credential logins, the objects themselves (never changed in place, only replaced: what a
#: change replaced is seen by identity, without serialising)
_RollPart = tuple[list[tuple[str, int | None]], bytes | None, str | None, dict[str, str] | None]


def _roll_of(ref: _Referendum) -> list[_RollPart]:
    return [
        (r.voters, r.public_credentials, r.logins_sealed, r.credential_logins) for r in ref.regions
    ]


def _changed_regions(a: list[_RollPart], b: list[_RollPart]) -> list[int]:
    """The regions whose part of the roll a change replaced (identity, not equality: a roll of
    a million voters is never compared or serialised to see that nothing changed)."""
    return [
        i
        for i, (pa, pb) in enumerate(zip(a, b, strict=True))
        if any(x is not y for x, y in zip(pa, pb, strict=True))
    ]


def _roll_part(rr: dict[str, Any]) -> _RollPart:
    return (
        [(str(login), None if w is None else int(w)) for login, w in rr["voters"]],
        None if rr["public_credentials"] is None else rr["public_credentials"].encode(),
        None if rr.get("logins") is None else str(rr["logins"]),
        None
        if rr.get("credential_logins") is None
        else {str(k): str(v) for k, v in rr["credential_logins"].items()},
    )


def _read_roll(store: PrivateStore, rid: str, head_raw: bytes) -> list[_RollPart]:
    """The roll of referendum ``rid`` from its head (:func:`_write_roll`), a region at a time;
    a roll of an earlier version (all regions in its head) read whole. StateError (naming it)
    when it is unreadable."""
    where = f"referendum {rid}"
    try:
        head = strictjson.loads(head_raw, max_size=MAX_RECORD, where=where)
        if head["version"] == 1:
            return [_roll_part(rr) for rr in head["regions"]]
        if head["version"] != 2:
            raise StateError("a record of another version of plebiscite", where=where)
        parts = []
        for i in range(int(head["regions"])):
            raw = store.get(KIND_ROLL_REGION, f"{rid}/{i}")
            if raw is None:
                raise StateError(f"the voter roll of region {i} is missing", where=where)
            parts.append(_roll_part(strictjson.loads(raw, max_size=MAX_RECORD, where=where)))
            del raw
        return parts
    except StateError:
        raise
    except (PlebisciteError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise StateError(f"the stored voter roll is unreadable: {e}", where=where) from None


def _load(rid: str, raw: bytes, rolls: list[_RollPart], key: SigningKey) -> _Referendum:
    """A referendum from its main record and its roll (:func:`_read_roll`, or a snapshot of
    its objects: :func:`_roll_of`); StateError (naming it) if they do not make one."""
    where = f"referendum {rid}"
    try:
        d = strictjson.loads(raw, max_size=MAX_RECORD, where=where)
        if d["version"] != 1:
            raise StateError("a record of another version of plebiscite", where=where)
        record = Referendum.from_json(d["record"], where)
        regions = [
            _Region(
                r["name"],
                r["uuid"],
                voters,
                r["authority"],
                r["token"],
                public,
                logins,
                credential_logins,
                None if r.get("pool") is None else int(r["pool"]),
            )
            for r, (voters, public, logins, credential_logins) in zip(
                d["regions"], rolls, strict=True
            )
        ]
        trustees = [_Trustee(**t) for t in d["trustees"]]
        sealed = str(d["server_key"])
        server_key = int(_unseal(key, rid, "trustee key", sealed).decode())
        ref = _Referendum(
            record,
            group_by_name(d["group"], where=where),
            trustees,
            int(d["threshold"]),
            regions,
            server_key,
            sealed,
            d["server_public"].encode(),
            phase=CeremonyStep(d["phase"]),
            certs=d["certs"],
            parameters=d["parameters"],
            trustees_raw=None if d["trustees_raw"] is None else d["trustees_raw"].encode(),
            error=d["error"],
            opened=bool(d["opened"]),
            closed_at=None if d.get("closed_at") is None else str(d["closed_at"]),
            voter_authentication=bool(d.get("voter_authentication", False)),
            credential_delivery=None
            if d.get("credential_delivery") is None
            else str(d["credential_delivery"]),
            credentials_frozen=bool(d.get("credentials_frozen", False)),
            reissues=int(d.get("reissues", 0)),
            auto_open=bool(d.get("auto_open", False)),
            sign_in=None if d.get("sign_in") is None else str(d["sign_in"]),
        )
    except StateError:
        raise
    except (PlebisciteError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise StateError(f"the stored referendum is unreadable: {e}", where=where) from None
    if record.id != rid:
        raise StateError("the stored referendum is inconsistent", where=where)
    return ref


def _restore_in_place(ref: _Referendum, saved: _Referendum) -> None:
    """Put ``ref`` back as ``saved`` (the same referendum as stored), keeping its objects
    (requests waiting for its lock hold its trustees and regions)."""
    for f in dataclasses.fields(_Referendum):
        if f.name not in ("trustees", "regions", "lock"):
            setattr(ref, f.name, getattr(saved, f.name))
    for cls, mine, theirs in (
        (_Trustee, ref.trustees, saved.trustees),
        (_Region, ref.regions, saved.regions),
    ):
        for a, b in zip(mine, theirs, strict=True):
            for f in dataclasses.fields(cls):
                setattr(a, f.name, getattr(b, f.name))


class _Change:
    """A change of a referendum under way (see :func:`_change`)."""

    def __init__(self, private: PrivateStore, key: SigningKey, ref: _Referendum) -> None:
        self.private, self.key, self.ref = private, key, ref
        self.saved = (_dump(ref), _roll_of(ref))
        self.version = ref.version

    async def save(self) -> None:
        """Write what changed since the last save, durably, by compare-and-put on the version
        read: if another process changed the referendum meanwhile, nothing is written, the
        referendum is put back as it was and ConflictError says to try again. On any failure
        put the referendum back as last saved and raise. The voter roll is serialised and
        written only when a change replaced a part of it."""
        rid = self.ref.referendum.id
        now = (_dump(self.ref), _roll_of(self.ref))
        changed = _changed_regions(now[1], self.saved[1])
        if now[0] == self.saved[0] and not changed:
            return
        try:
            current = await anyio.to_thread.run_sync(self.private.version, KIND, rid)
            if current != self.version:
                raise _changed_meanwhile(rid)
            if changed:
                await anyio.to_thread.run_sync(_write_roll, self.private, self.ref, changed)
            # the main record moves on even when only the voter roll changed: its version is
            # what other processes compare
            version = await anyio.to_thread.run_sync(
                self.private.replace, KIND, rid, now[0], self.version
            )
            if version is None:
                raise _changed_meanwhile(rid)
        except BaseException:
            self.rollback()
            raise
        self.saved, self.version = now, version
        self.ref.version = version

    def rollback(self) -> None:
        rid = self.ref.referendum.id
        saved = _load(rid, self.saved[0], self.saved[1], self.key)
        saved.version = self.version
        _restore_in_place(self.ref, saved)


def _changed_meanwhile(rid: str) -> ConflictError:
    return ConflictError(
        "the referendum was changed meanwhile (through another server process): nothing was "
        "written, send the request again",
        where=f"referendum {rid}",
    )


@contextlib.asynccontextmanager
async def _change(store: PrivateStore, key: SigningKey, ref: _Referendum) -> AsyncIterator[_Change]:
    """A change of ``ref`` (the caller holds its lock): on the way out write what changed (also
    when the request is refused, a PlebisciteError, after a change, such as a ceremony step
    that set a trustee's message aside) before the answer goes. Any other exception puts the
    referendum back as it was."""
    change = _Change(store, key, ref)
    try:
        yield change
    except PlebisciteError:
        await change.save()
        raise
    except BaseException:
        change.rollback()
        raise
    await change.save()


def _election_in(elections: Elections, ref: _Referendum, region: _Region) -> ElectionState:
    s = elections.get(region.uuid) if ref.opened else None
    if s is None:
        raise Refused("state", f"region {region.name!r} has no election yet: not opened")
    return s


def _set_windows(ref: _Referendum, elections: Elections) -> None:
    """Ballots on the regions' boards only from the opening to the closing time, and none
    once the administrator closed voting."""
    for region in ref.regions:
        s = elections.get(region.uuid)
        if s is not None:
            _set_window(ref, s)


def _set_window(ref: _Referendum, s: ElectionState) -> None:
    s.window = (ref.referendum.opening, ref.referendum.closing)
    s.closed_at = ref.closed_at


# -- requests and authorization ----------------------------------------------------------------


def _text(raw: bytes, what: str) -> str:
    raw = raw.strip()
    if not raw:
        raise Invalid("bad_request", f"the body must be the {what}")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise Invalid("encoding", f"the {what} is not UTF-8") from None


def _require_trustee(token: str, ref: _Referendum, index: int) -> _Trustee:
    """The trustee ``index`` if ``token`` is its link token; a token of another trustee
    of this referendum is refused (403): a token acts for its own trustee only."""
    if not 1 <= index <= len(ref.trustees):
        raise NotFound("unknown_trustee", f"no trustee {index} in this referendum")
    h = _token_hash(token)
    me = ref.trustees[index - 1]
    if hmac.compare_digest(h, me.token_hash):
        return me
    for t in ref.trustees:
        if hmac.compare_digest(h, t.token_hash):
            raise Forbidden(
                "forbidden",
                f"this is the link token of trustee {t.index}, not of trustee {index}: a "
                "trustee token acts only for its own trustee",
            )
    raise Unauthorized("unauthorized", f"trustee {index}'s link token missing or wrong")


def _require_authority(token: str, region: _Region) -> None:
    if region.token_hash is None:
        raise Refused(
            "state",
            f"the server is the credential authority of region {region.name!r}",
        )
    if not hmac.compare_digest(_token_hash(token), region.token_hash):
        raise Unauthorized(
            "unauthorized",
            f"the link token of region {region.name!r}'s credential authority missing or wrong",
        )


# -- creation ------------------------------------------------------------------------------------


def _voter_list(v: Any, where: str) -> list[tuple[str, int | None]]:
    """``["login", {"login": "x", "weight": 2}, ...]``."""
    items = arr(v, where, MAX_VOTERS)
    if not items:
        raise EncodingError("a region needs at least one voter", where=where)
    out: list[tuple[str, int | None]] = []
    seen: set[str] = set()
    for i, x in enumerate(items):
        w = f"{where}[{i}]"
        weight: int | None = None
        if isinstance(x, dict):
            o = obj(x, w, ("login",), ("weight",))
            login = string(o["login"], f"{w}.login")
            if "weight" in o:
                weight = small_int(o["weight"], f"{w}.weight", 1, 10**18 - 1)
        else:
            login = string(x, w)
        if not login or len(login) > 256 or any(c in login for c in ",\r\n"):
            raise EncodingError("a login is 1 to 256 characters, no comma or newline", where=w)
        if login in seen:
            raise EncodingError(f"voter {login!r} listed twice", where=w)
        seen.add(login)
        out.append((login, weight))
    return out


def _sign_in(o: dict[str, Any], w: str, methods: frozenset[str]) -> str | None:
    """The request's ``sign_in`` (None: absent), refused if this server cannot do it."""
    sign_in = o.get("sign_in")
    if sign_in is None:
        return None
    if sign_in != "oidc":
        raise EncodingError(
            "expected 'oidc' (the voters of the pool regions sign in with OpenID Connect)",
            where=f"{w}.sign_in",
        )
    if sign_in not in methods:
        raise Invalid(
            "sign_in_unavailable",
            "this server has no OpenID Connect provider configured (plebiscite serve "
            "--oidc-issuer URL --oidc-client-id ID): its voters could not sign in",
            where=f"{w}.sign_in",
        )
    return str(sign_in)


def _pool_region(
    r_name: str,
    uuid: str,
    value: Any,
    mode: str,
    sign_in: str | None,
    login_required: bool,
    w: str,
) -> _Region:
    """A region whose voters are ``{"pool": N}``: N credentials for those who sign in."""
    where = f"{w}.voters.{r_name}"
    po = obj(value, where, ("pool",))
    size = small_int(po["pool"], f"{where}.pool", 1, MAX_POOL)
    if mode != "server":
        raise EncodingError(
            f"region {r_name!r} has a credential pool, whose credentials the server makes and "
            "hands to the voters who sign in: its credential authority must be the server",
            where=f"{w}.credential_authority.{r_name}",
        )
    if sign_in is None:
        raise EncodingError(
            f"region {r_name!r} has a credential pool: its voters get their credential by "
            'signing in, which needs "sign_in": "oidc"',
            where=f"{w}.sign_in",
        )
    if login_required:
        raise EncodingError(
            f"region {r_name!r} has a credential pool, no voter list: voter_authentication "
            "(one-time codes sent to the listed voters) does not apply to it",
            where=f"{w}.voter_authentication",
        )
    return _Region(r_name, uuid, [], mode, pool=size)


def _create(
    body: Any,
    taken: set[str],
    key: SigningKey,
    rng: RandomSource,
    sign_in_methods: frozenset[str] = frozenset(),
    *,
    credentials_at_creation: bool = False,
    auto_open: bool = False,
) -> tuple[_Referendum, dict[str, Any]]:
    """Parse the administrator's request; the new referendum and the answer (with the
    tokens). With ``"credential_delivery": "mail"`` the credentials of the regions whose
    authority is the server are made by the caller, a chunk at a time, as their letters are
    stored (:meth:`Referendums._stream_letters`).
    ``key``: the server's signing key, to seal the server's trustee key with. With
    ``credentials_at_creation`` the server makes the credentials of the regions it is the
    authority of now, not at the opening: their private ones are in the answer (``credentials``
    of each region, this once), each login's public one kept. ``auto_open``: the server opens
    the referendum itself once the ceremony is done (:meth:`Referendums.open_due`). With no
    trustee (a poll's record may have none) the ceremony is done at once: the trustees
    structure is the server's own key alone. ``sign_in_methods``: how this server can have
    voters sign in (``"oidc"``)."""
    w = "request"
    o = obj(
        body,
        w,
        ("referendum", "voters"),
        ("credential_authority", "voter_authentication", "group", "credential_delivery", "sign_in"),
    )
    login_required = o.get("voter_authentication", False)
    if not isinstance(login_required, bool):
        raise EncodingError("expected true or false", where=f"{w}.voter_authentication")
    delivery = o.get("credential_delivery")
    if delivery is not None and delivery != "mail":
        raise EncodingError(
            "expected 'mail' (the credentials sent to the voters' e-mail addresses)",
            where=f"{w}.credential_delivery",
        )
    sign_in = _sign_in(o, w, sign_in_methods)
    record = o["referendum"]
    if not isinstance(record, dict):
        raise EncodingError(
            "expected the referendum record (a JSON object)", where=f"{w}.referendum"
        )
    regions_v = arr(record.get("regions"), f"{w}.referendum.regions", 1000)
    for i, r in enumerate(regions_v):
        if isinstance(r, dict) and "election" not in r:
            # the server chooses the uuid of each region's election
            while (uuid := generate_uuid(rng)) in taken:
                pass
            regions_v[i] = {**r, "election": uuid}
    trustees_v = record.get("trustees")
    if isinstance(trustees_v, dict) and "hash" in trustees_v:
        raise EncodingError(
            "the trustees structure is made by the ceremony: its hash is set by the server "
            "when the regions open",
            where=f"{w}.referendum.trustees.hash",
        )
    referendum = Referendum.from_json(strictjson.dumps_compact(record), f"{w}.referendum")
    nh = [i for i, q in enumerate(referendum.questions) if not q.homomorphic]
    lists = [i for i, q in enumerate(referendum.questions) if isinstance(q, QuestionL)]
    group: Group = GROUP
    if "group" in o:
        group = group_by_name(o["group"], where=f"{w}.group")
        if nh and group.embedding is None:
            raise EncodingError(
                f"question {nh[0]} is non-homomorphic: the group {group.name} cannot embed its "
                "answers (choose Ed25519 or RFC-3526-2048)",
                where=f"{w}.group",
            )
        if lists and group.name != ED25519.name:
            raise EncodingError(
                f"question {lists[0]} is a Lists question, a question of the Belenios 3.x "
                f"record only: the regions of the group {group.name} are Belenios 2.0 records, "
                "which cannot carry it (choose Ed25519)",
                where=f"{w}.group",
            )
    for r in referendum.regions:
        if r.election in taken:
            raise Refused("exists", f"election {r.election} already exists")
    names = [r.name for r in referendum.regions]
    voters_v = obj(o["voters"], f"{w}.voters", names)
    modes_v = obj(o.get("credential_authority", {}), f"{w}.credential_authority", (), names)
    answer_regions: list[dict[str, Any]] = []
    regions: list[_Region] = []
    for r in referendum.regions:
        mode = modes_v.get(r.name, "server")
        if mode not in ("server", "external"):
            raise EncodingError(
                "expected 'server' or 'external'", where=f"{w}.credential_authority.{r.name}"
            )
        where = f"{w}.voters.{r.name}"
        if isinstance(voters_v[r.name], dict):
            region = _pool_region(
                r.name, r.election, voters_v[r.name], mode, sign_in, login_required, w
            )
        else:
            region = _Region(r.name, r.election, _voter_list(voters_v[r.name], where), mode)
        for k, (login, weight) in enumerate(region.voters):
            if nh and weight not in (None, 1):
                raise EncodingError(
                    f"question {nh[0]} is non-homomorphic: every voter's weight must be 1",
                    where=f"{where}[{k}].weight",
                )
            if login_required and (len(login) > 254 or not EMAIL.match(login)):
                raise EncodingError(
                    "with voter_authentication every login is an e-mail address (the "
                    "one-time login codes are sent to it)",
                    where=f"{where}[{k}]",
                )
            if delivery and mode == "server" and (len(login) > 254 or not EMAIL.match(login)):
                raise EncodingError(
                    "with credential_delivery 'mail' every login of a region whose credential "
                    "authority is the server is an e-mail address (its credential is sent to "
                    "it)",
                    where=f"{where}[{k}]",
                )
        entry: dict[str, Any] = {"name": r.name, "election": r.election, "authority": mode}
        if mode == "server" and credentials_at_creation:
            creds = generate_credentials(region.voters, region.uuid, group, rng)
            region.public_credentials = public_credentials_json(creds)
            region.credential_logins = {c.login: str(c.public) for c in creds}
            entry["credentials"] = [
                {"login": c.login, "weight": c.weight or 1, "credential": c.private} for c in creds
            ]
        if mode == "external":
            token = secrets.token_urlsafe(32)
            region.token_hash = _token_hash(token)
            entry["authority_token"] = token
        if region.pool is not None:
            entry["pool"] = region.pool
        regions.append(region)
        answer_regions.append(entry)
    if sign_in is not None and not any(r.pool is not None for r in regions):
        raise EncodingError(
            'sign_in is for regions with a credential pool ({"pool": N} as their voters): '
            "none has one",
            where=f"{w}.sign_in",
        )

    n = len(referendum.trustees.names)
    threshold = referendum.trustees.threshold or n
    trustees: list[_Trustee] = []
    answer_trustees: list[dict[str, Any]] = []
    for z, name in enumerate(referendum.trustees.names, start=1):
        token = secrets.token_urlsafe(32)
        trustees.append(_Trustee(z, name, _token_hash(token)))
        answer_trustees.append({"index": z, "name": name, "owner": z + 1, "token": token})
    x, public = make_trustee_key(group, rng)
    sealed = _seal(key, referendum.id, "trustee key", str(x).encode())
    ref = _Referendum(referendum, group, trustees, threshold, regions, x, sealed, public)
    ref.voter_authentication = login_required
    ref.auto_open = auto_open
    if not trustees:  # the server's own key alone: no ceremony
        ref.trustees_raw = make_trustees([("Single", public)], group)
        ref.phase = CeremonyStep.DONE
    ref.sign_in = sign_in
    answer = {
        "id": referendum.id,
        "record": referendum.to_value(),
        "group": group.name,
        "voter_authentication": login_required,
        "sign_in": sign_in,
        "trustees": answer_trustees,
        "threshold": threshold,
        "regions": answer_regions,
    }
    if delivery:
        if not any(r.authority == "server" for r in regions):
            raise EncodingError(
                "credential_delivery 'mail' sends the credentials the server makes, but no "
                "region has the server as its credential authority",
                where=f"{w}.credential_delivery",
            )
        ref.credential_delivery = delivery
        answer["credential_delivery"] = delivery
    return ref, answer


def _seal_logins(key: SigningKey, rid: str, name: str, logins: dict[str, str]) -> str:
    """Each login's public credential in a region whose credentials go by mail, sealed."""
    return _seal(key, rid, f"credentials of region {name}", strictjson.dumps_compact(logins))


def _unseal_logins(key: SigningKey, rid: str, region: _Region) -> dict[str, str]:
    assert region.logins_sealed is not None
    raw = _unseal(key, rid, f"credentials of region {region.name}", region.logins_sealed)
    out: dict[str, str] = strictjson.loads(raw, max_size=MAX_RECORD, where=f"referendum {rid}")
    return out


# -- the ceremony --------------------------------------------------------------------------------


def _one_value(text: str, what: str) -> Any:
    values = ceremony.split_jsons(text, what)
    if len(values) != 1:
        raise EncodingError(f"expected one JSON value, found {len(values)}", where=what)
    return values[0]


def _line(value: Any) -> str:
    """One JSON value on one line (as the ``.jsons`` files hold them)."""
    return strictjson.dumps_compact(value).decode()


def _polynomial_degree(ref: _Referendum, value: Any) -> None:
    """The checks of a polynomial that do not need the others: its shape, one secret per
    trustee and as many coefficient commitments as the planned threshold."""
    w = "polynomial"
    # a 3.x ceremony's polynomial also carries its dealer's certs_sig signature (checked with
    # the others' once all are in)
    o = obj(value, w, ("polynomial", "secrets", "coefexps"), ("signature",))
    n = len(ref.trustees)
    arr(o["secrets"], f"{w}.secrets", n, n)
    ce = obj(o["coefexps"], f"{w}.coefexps", ("message", "signature"))
    msg = obj(
        strictjson.loads(
            string(ce["message"], f"{w}.coefexps.message"),
            max_size=MAX_MESSAGE,
            where=f"{w}.coefexps.message",
        ),
        f"{w}.coefexps.message",
        ("coefexps",),
    )
    k = len(arr(msg["coefexps"], f"{w}.coefexps.message.coefexps", LIMITS.trustees))
    if k != ref.threshold:
        raise EncodingError(
            f"{k} coefficient commitments, but the referendum's threshold is {ref.threshold}: "
            f"make the polynomial with threshold {ref.threshold}",
            where=f"{w}.coefexps",
        )


def _at_fault(ref: _Referendum, e: PlebisciteError, submitter: _Trustee) -> _Trustee:
    """The trustee a ceremony error names (by its certificate id), the submitter if none."""
    text = str(e)
    for t in [submitter, *ref.trustees]:
        if t.cert_id and t.cert_id in text:
            return t
    return submitter


def _step_failed(ref: _Referendum, e: PlebisciteError, submitter: _Trustee, what: str) -> None:
    """A step the server does over every trustee's message failed: the message of the trustee
    at fault is set aside (it must send it again); the submitter hears of it if it is theirs."""
    culprit = _at_fault(ref, e, submitter)
    setattr(culprit, what, None)
    ref.error = f"trustee {culprit.index} ({culprit.name}) must send its {what} again: {e}"
    if culprit is submitter:
        raise Invalid(e.code, f"{what} refused: {e}")


def _all(ref: _Referendum, what: str) -> str | None:
    values = [getattr(t, what) for t in ref.trustees]
    if any(v is None for v in values):
        return None
    return "".join(v + "\n" for v in values)


def _ceremony_status(ref: _Referendum) -> dict[str, Any]:
    return {
        "phase": ref.phase,
        "threshold": ref.threshold,
        "trustees": [
            {
                "index": t.index,
                "name": t.name,
                "owner": t.owner,
                "certificate": t.cert_id,
                "polynomial": t.polynomial is not None,
                "voutput": t.voutput is not None,
            }
            for t in ref.trustees
        ],
        "certificates": ref.certs,
        "threshold_parameters": None if ref.parameters is None else json.loads(ref.parameters),
        "server_key": json.loads(ref.server_public),
        "trustees_hash": None if ref.trustees_raw is None else sha256_hex(ref.trustees_raw),
        "error": ref.error,
    }


def _expect_phase(ref: _Referendum, step: CeremonyStep) -> None:
    if ref.phase is not step:
        raise Refused(
            "state",
            f"the ceremony is at step {ref.phase.value!r}, not {step.value!r}",
        )


# -- credentials by mail (plebiscite.service.letters) ---------------------------------------------


def _letters_job(rid: str) -> str:
    """The letter job of the credentials made at a referendum's creation."""
    return f"{rid}/created"


def _credential_letter(
    ref: _Referendum,
    region: _Region,
    login: str,
    credential: str,
    public_url: str | None,
    reissued: bool = False,
) -> Letter:
    """The letter that gives a voter its credential: the election's name and hours, and the
    booth's link with the credential in its fragment (which the browser never sends)."""
    record = ref.referendum
    if record.is_poll:  # its shards are not the voters' concern
        name = record.title
        lines = [f"You are invited to answer the poll {name!r}."]
        lines += [f"  {q.question}" for q in record.questions[:3] if isinstance(q.question, str)]
        lines += [
            f"Voting opens at {record.opening} and closes at {record.closing} (UTC).",
            "",
        ]
    else:
        name = f"{record.title} ({region.name})"
        lines = [
            f"You are a voter in {name}.",
            f"Voting opens at {record.opening} and closes at {record.closing} (UTC).",
            "",
        ]
    if reissued:
        lines += ["This credential replaces the one you were sent before, which is void.", ""]
    if public_url:
        lines += [
            "To vote, open this link (it holds your credential):",
            f"{public_url}/booth/{region.uuid}#credential={credential}",
            "",
        ]
    lines += [
        f"Your credential: {credential}",
        f"Election: {region.uuid}",
        "",
        "Keep this message to yourself: whoever has the credential can vote in your place.",
    ]
    subject = " ".join(f"Your credential for {name}".split())  # one line, whatever the title
    return Letter(login, subject, "\n".join(lines) + "\n", region.name)


def _reissued(
    ref: _Referendum,
    region: _Region,
    login: str,
    weight: int | None,
    key: SigningKey,
    rng: RandomSource,
) -> VoterCredential:
    """A new credential for ``login``, its public credential in place of the old one in the
    region's roll (the list sorted again, so it does not say whose is whose)."""
    rid = ref.referendum.id
    logins = _unseal_logins(key, rid, region)
    assert region.public_credentials is not None
    entries: list[str] = strictjson.loads(
        region.public_credentials, max_size=MAX_RECORD, where=f"referendum {rid}"
    )
    taken = {e.split(",")[0] for e in entries}
    while True:
        (new,) = generate_credentials([(login, weight)], region.uuid, ref.group, rng)
        if str(new.public) not in taken:
            break
    old = logins[login]
    weighted = any("," in e for e in entries)
    mine = f"{new.public},{weight or 1}" if weighted else str(new.public)
    kept = [e for e in entries if e.split(",")[0] != old] + [mine]
    kept.sort(key=lambda e: ref.group.decode(e.split(",")[0]))
    region.public_credentials = strictjson.dumps_compact(kept)
    logins[login] = str(new.public)
    region.logins_sealed = _seal_logins(key, rid, region.name, logins)
    return new


# -- regional elections --------------------------------------------------------------------------


#: a referendum of this many credentials or more logs the progress of its creation and opening
LARGE = 20_000


def _large(ref: _Referendum) -> bool:
    return sum(r.roll for r in ref.regions) >= LARGE


def _part_key(rid: str, uuid: str) -> str:
    """The key of a region's part of an opening's plan (kind ``referendum-opening-region``)."""
    return f"{rid}/{uuid}"


def _plan_open(
    ref: _Referendum,
    elections: Elections,
    key: SigningKey,
    rng: RandomSource,
    ts: int,
    store: PrivateStore,
) -> bytes:
    """Make every region's setup (generating the credentials where the server is the
    credential authority and has not made them yet) and verify those whose credentials came
    from an external authority (the server's own are verified as their board is read): the
    plan of the opening, made and stored a region at a time, before any board is made. Each
    region's part (its setup, voter roll and sealed private credentials, kind
    ``referendum-opening-region``) is stored as soon as it is made and dropped, so the memory
    of a plan is one region's whatever the number of regions; the plan itself (returned, kind
    ``referendum-opening``, stored by the caller after the parts) lists the regions with their
    election fingerprints."""
    assert ref.trustees_raw is not None
    trustees_raw = ref.trustees_raw
    old = ref.referendum.trustees
    final = dataclasses.replace(
        ref.referendum, trustees=Trustees(old.names, old.threshold, sha256_hex(trustees_raw))
    )
    Referendum.from_json(final.to_json())  # still a valid record
    rid = ref.referendum.id
    planned: list[dict[str, Any]] = []
    pools: dict[str, int] = {}
    for region, r in zip(ref.regions, final.regions, strict=True):
        if region.uuid in elections:
            raise Refused("exists", f"election {region.uuid} already exists")
        template = json.loads(final.election_template(r))
        roll: dict[str, str | None] | None = None
        private: list[dict[str, Any]] | None = None
        pooled: list[str] | None = None  # the pool's private credentials
        if region.pool is not None:  # the server keeps them, to hand out at sign-in
            template["credential_authority"] = "server"
            slots = [(str(i), None) for i in range(region.pool)]
            creds = generate_credentials(slots, region.uuid, ref.group, rng)
            public = public_credentials_json(creds)  # sorted: a slot is not its place there
            pooled = [c.private for c in creds]
            pools[region.uuid] = len(pooled)
        elif region.authority == "server" and region.logins_sealed is not None:
            # credentials made at creation and sent by mail (credential_delivery)
            template["credential_authority"] = "server"
            assert region.public_credentials is not None
            public = region.public_credentials
            if ref.voter_authentication:  # each login casts with its own credential only
                logins = _unseal_logins(key, rid, region)
                roll = {login: logins[login] for login, _ in region.voters}
        elif region.authority == "server" and region.public_credentials is not None:
            # made at the creation (their private ones went out then)
            template["credential_authority"] = "server"
            public = region.public_credentials
            if ref.voter_authentication:
                assert region.credential_logins is not None
                roll = dict(region.credential_logins)
        elif region.authority == "server":
            template["credential_authority"] = "server"
            creds = generate_credentials(region.voters, region.uuid, ref.group, rng)
            public = public_credentials_json(creds)
            private = [
                {"login": c.login, "weight": c.weight or 1, "credential": c.private} for c in creds
            ]
            if ref.voter_authentication:  # each login casts with its own credential only
                roll = {c.login: str(c.public) for c in creds}
        else:
            assert region.public_credentials is not None
            public = region.public_credentials
            if ref.voter_authentication:  # which credential is whose is not known here
                roll = {login: None for login, _ in region.voters}
        election_raw = make_election(
            strictjson.dumps_compact(template), region.uuid, ref.group, trustees_raw
        )
        election = parse_election(election_raw)
        check_election(final, election, trustees_raw)
        raws = (election_raw, trustees_raw, public)
        if region.authority != "server":
            # credentials this server made are verified as their board is read (a membership
            # check a credential: a second pass here would double the opening of a large poll)
            data, _ = setup_archive(raws, ts)
            report = Verifier(functools.partial(io.BytesIO, data)).run()
            if not report.valid:
                first = next(f for f in report.findings if f.severity == "error")
                raise Invalid(
                    first.code,
                    f"region {region.name!r}: the setup does not verify: {first.describe()}",
                )
            del data
        part: dict[str, Any] = {"version": 1, "setup": [x.decode() for x in raws], "roll": roll}
        if private is not None:
            part["credentials"] = _seal(
                key, rid, f"credentials of {region.uuid}", strictjson.dumps_compact(private)
            )
        if pooled is not None:
            part["pool"] = _seal(
                key, rid, f"pool credentials of {region.uuid}", strictjson.dumps_compact(pooled)
            )
        store.put(KIND_OPENING_REGION, _part_key(rid, region.uuid), strictjson.dumps_compact(part))
        planned.append({"uuid": region.uuid, "fingerprint": election.fingerprint})
        if _large(ref):
            log.info(
                "referendum %s: opening planned for %d of %d regions",
                rid,
                len(planned),
                len(ref.regions),
            )
        del part, roll, private, pooled, raws, public
    return strictjson.dumps_compact(
        {
            "version": 2,
            "timestamp": ts,
            "record": final.to_json().decode(),
            "regions": planned,
            "pools": pools,
        }
    )


def _read_plan(plan_raw: bytes, where: str) -> dict[str, Any]:
    """An opening's plan (:func:`_plan_open`): StateError if another version wrote it."""
    plan = strictjson.loads(plan_raw, max_size=MAX_RECORD, where=where)
    if not isinstance(plan, dict) or plan.get("version") != 2:
        raise StateError(
            "an opening planned by another version of plebiscite: finish it with that version",
            where=where,
        )
    return plan


def _open_from_plan(
    ref: _Referendum,
    plan_raw: bytes,
    board: Board,
    key: SigningKey,
    elections: Elections,
    private_store: PrivateStore,
) -> tuple[Referendum, dict[str, ElectionState], dict[str, list[dict[str, Any]]]]:
    """Start the boards of the plan (as ``POST /api/elections`` does), those not started yet
    (an earlier attempt may have started some), a region's part of the plan at a time.
    Returns the final record (with the hash of the trustees structure), the new elections and
    the private credentials the server made, by region name."""
    rid = ref.referendum.id
    plan = _read_plan(plan_raw, f"opening of {rid}")
    final = Referendum.from_json(plan["record"], f"opening of {rid}")
    ts = int(plan["timestamp"])
    new: dict[str, ElectionState] = {}
    private: dict[str, list[dict[str, Any]]] = {}
    names = {r.uuid: r.name for r in ref.regions}
    for region in plan["regions"]:
        uuid = str(region["uuid"])
        where = f"opening of {rid}, region {uuid}"
        part_raw = private_store.get(KIND_OPENING_REGION, _part_key(rid, uuid))
        if part_raw is None:
            raise StateError("a region of the opening's plan is missing", where=where)
        part = strictjson.loads(part_raw, max_size=MAX_RECORD, where=where)
        del part_raw
        roll = part["roll"]
        if roll is not None and not is_required(private_store, uuid):
            # before the board exists: no ballot is ever taken without a login
            set_roll(private_store, uuid, roll)
        if "pool" in part:  # before the board exists: the pool is there once voting can start
            pooled = strictjson.loads(
                _unseal(key, rid, f"pool credentials of {uuid}", str(part["pool"])),
                max_size=MAX_RECORD,
                where=where,
            )
            pool.store_pool(private_store, key, uuid, pooled)
        if "credentials" in part:
            private[names[uuid]] = strictjson.loads(
                _unseal(key, rid, f"credentials of {uuid}", str(part["credentials"])),
                max_size=MAX_RECORD,
                where=where,
            )
        raws = tuple(x.encode() for x in part["setup"])
        del part, roll
        existing = elections.get(uuid)
        if existing is not None:
            if existing.verifier.raw_setup != raws:
                raise Refused("exists", f"election {uuid} already exists")
            continue  # started by an earlier attempt
        if uuid not in board.elections():
            board.create(uuid, ts)
        if board.head(uuid).height is None:
            _, setup = setup_archive(raws, ts)
            board.append(uuid, Head(), [Item("Setup", (*raws, setup))])
            del setup
        new[uuid] = elections.state(uuid)
        if new[uuid].verifier.raw_setup != raws:
            raise Refused("exists", f"election {uuid} already exists")
        if _large(ref):
            log.info(
                "referendum %s: boards made and read for %d of %d regions",
                rid,
                len(new),
                len(plan["regions"]),
            )
    return final, new, private


def _forget_plan(store: PrivateStore, rid: str) -> None:
    """Remove an opening's plan once the opening completed: its regions' parts (which hold
    the sealed private credentials), then the plan."""
    store.delete_prefix(KIND_OPENING_REGION, f"{rid}/")
    store.delete(KIND_OPENING, rid)


def _opened_of_plan(plan_raw: bytes) -> bytes:
    """The Opened event of the record board for an opening's plan: the final record and each
    region's election fingerprint."""
    plan = _read_plan(plan_raw, "opening plan")
    final = Referendum.from_json(plan["record"], "opening plan")
    fingerprints = {str(r["uuid"]): str(r["fingerprint"]) for r in plan["regions"]}
    pools = {str(u): int(n) for u, n in plan.get("pools", {}).items()}
    return opened_payload(final, fingerprints, pools)


def _check_public_credentials(ref: _Referendum, region: _Region, raw: bytes) -> bytes:
    """An external credential authority's public credentials: valid and distinct elements,
    one per voter, with the voters' weights."""
    creds = parse_credentials(raw, ref.group, where=f"public credentials of {region.name}")
    if len(creds) != len(region.voters):
        raise EncodingError(
            f"{len(creds)} public credentials for {len(region.voters)} voters",
            where=f"public credentials of {region.name}",
        )
    if sorted(c.weight for c in creds) != sorted(w or 1 for _, w in region.voters):
        raise EncodingError(
            "the credentials' weights are not the voters' weights",
            where=f"public credentials of {region.name}",
        )
    return strictjson.dumps_compact(strictjson.loads(raw, max_size=MAX_MESSAGE))


# -- shuffles ------------------------------------------------------------------------------------


def _nh_columns(s: ElectionState) -> list[int]:
    """The indexes of the election's non-homomorphic questions (the columns shuffled)."""
    v = s.verifier
    assert v.election is not None
    return [i for i, q in enumerate(v.election.questions) if not q.homomorphic]


def _trustee_shuffles(ref: _Referendum, s: ElectionState) -> list[int]:
    """The indexes of the threshold trustees whose shuffle is on the board."""
    done = s.verifier.shuffled_by
    return [t.index for t in ref.trustees if t.owner in done]


def _shuffles_done(ref: _Referendum, s: ElectionState) -> bool:
    """Whether the shuffles of the region are all in (:data:`SHUFFLES`)."""
    return 1 in s.verifier.shuffled_by and len(_trustee_shuffles(ref, s)) >= ref.threshold


def _shuffle_body(raw: bytes, owner: int) -> bytes:
    """The shuffle of a trustee's request body: the shuffle JSON alone, or the two lines
    ``plebiscite trustee shuffle`` and ``belenios-tool election shuffle`` print (the shuffle,
    then its owned wrapper, which must name this trustee and the shuffle's hash). The shuffle
    is kept as sent (its hash is the one the trustee computed) when it is on one line."""
    w = "shuffle"
    lines = [x.strip() for x in raw.split(b"\n") if x.strip()]
    if len(lines) == 2 and lines[1].startswith(b"{") and b'"owner"' in lines[1]:
        data = lines[0]
        owned = obj(
            strictjson.loads(lines[1], max_size=4096, where="owned_shuffle"),
            "owned_shuffle",
            ("owner", "payload"),
        )
        if owned["owner"] != owner:
            raise EncodingError(
                f"the owned shuffle names trustee (owner) {owned['owner']!r}, but this is "
                f"owner {owner}: make it with --trustee-id {owner}",
                where="owned_shuffle.owner",
            )
        if owned["payload"] != sha256_hex(data):
            raise EncodingError(
                "the owned shuffle's payload is not the hash of the shuffle",
                where="owned_shuffle.payload",
            )
        strictjson.loads(data, max_size=MAX_TALLY_MESSAGE, where=w)
        return data
    value = strictjson.loads(raw, max_size=MAX_TALLY_MESSAGE, where=w)
    return raw if len(lines) == 1 else strictjson.dumps_compact(value)


def _check_shuffle(s: ElectionState, raw: bytes, workers: TallyWorkers | None = None) -> None:
    """Every ciphertext and CheckShuffleProof of the shuffle ``raw`` against the ciphertexts
    to shuffle now (the verifier's own check, a long column's proof by parts on
    ``workers``); raises the error that refuses it."""
    try:
        _on_workers(
            s, workers, "shuffle", s.verifier.precheck_shuffle, raw, max_size=MAX_TALLY_MESSAGE
        )
    except ProofError as err:
        raise ProofError(
            "the shuffle proof does not verify against the ciphertexts to shuffle now "
            f"(GET .../shuffle-input): {err.message}",
            where=err.where,
        ) from err


def _server_shuffle(s: ElectionState, workers: TallyWorkers | None = None) -> None:
    """The server's own shuffle (owner 1), the first of every region with non-homomorphic
    questions, appended right after the encrypted tally (checked by the verifier, a long
    column's proof by parts on ``workers``). The caller holds ``s.lock``."""
    v = s.verifier
    if v.election is None or not v.election.has_nh or v.phase is not BoardPhase.TALLIED:
        return
    assert v.ctx is not None and v.tally is not None
    sh = shuffle_json(v.election, v.ctx, v.tally, s.rng())
    try:  # the verifier checks what the producer made, before the board
        _on_workers(s, workers, "shuffle", v.precheck_shuffle, sh)
    except Unavailable:
        raise  # the workers', not the shuffle's
    except PlebisciteError as e:
        raise Internal("internal", f"the server's own shuffle is wrong, not published: {e}") from e
    s.append([Item("Shuffle", (sh, owned_json(1, sha256_hex(sh))))])
    _still_valid(s)
    if 1 not in v.shuffled_by:
        raise Internal("internal", "the server's shuffle was not accepted by the board")
    s.checkpoint()


def _end_shuffles(ref: _Referendum, s: ElectionState) -> None:
    """EndShuffles once the shuffles are all in. The caller holds ``s.lock``."""
    if s.verifier.phase is BoardPhase.SHUFFLING and _shuffles_done(ref, s):
        s.append([Item("EndShuffles")])
        _still_valid(s)
        s.checkpoint()


def _shuffle_status(ref: _Referendum, s: ElectionState) -> dict[str, Any] | None:
    """The shuffles of a region with non-homomorphic questions (None without them)."""
    v = s.verifier
    if v.election is None or not v.election.has_nh:
        return None
    phase = v.phase
    done = phase.shuffles_over
    by = _trustee_shuffles(ref, s)
    return {
        "questions": _nh_columns(s),
        "server": 1 in v.shuffled_by,
        "by": by,
        "needed": ref.threshold,
        "done": done,
        "open": phase.takes_shuffles and not done,
    }


# -- tally and decryption ----------------------------------------------------------------------


def _tally_runner(s: ElectionState, workers: TallyWorkers | None) -> Runner | None:
    """Where the proofs of a shuffle or a partial decryption of ``s``'s tally are checked:
    ``workers``' runner for a tally of that many ciphertexts (a non-homomorphic question's:
    one a ballot), the verifier's own thread without workers."""
    tally = s.verifier.tally
    if workers is None or tally is None:
        return None
    return workers.runner_for(sum(len(col) for col in tally))


def _on_workers(
    s: ElectionState,
    workers: TallyWorkers | None,
    what: str,
    check: Callable[..., None],
    *args: Any,
    **kw: Any,
) -> None:
    """A check of the verifier (``check(*args, runner=..., **kw)``) with its long parts on
    ``workers`` (:func:`_tally_runner`): a runner that fails (a cluster's task, a worker
    process) is :class:`Unavailable`, naming ``what`` could not be checked, and nothing is
    appended."""
    try:
        check(*args, runner=_tally_runner(s, workers), **kw)
    except PlebisciteError:
        raise
    except Exception as e:  # the runner's
        assert workers is not None
        raise Unavailable(
            "tally_workers",
            f"the {what} of {s.uuid} could not be checked on {workers.where} "
            f"({type(e).__name__}: {e}): nothing appended, try again",
        ) from e


def _check_partial_decryption(
    s: ElectionState, owner: int, raw: bytes, workers: TallyWorkers | None = None
) -> None:
    """Every decryption factor and proof of ``raw`` against the tally on the board and the
    verification key of ``owner`` (the verifier's own check, not made again once appended;
    a long tally's proofs on ``workers``); raises the error that refuses it."""
    try:
        _on_workers(
            s, workers, "partial decryption", s.verifier.precheck_partial_decryption, owner, raw,
            max_size=MAX_TALLY_MESSAGE,
        )  # fmt: skip
    except ProofError as e:
        raise ProofError(
            "decryption proof does not verify against this trustee's verification key and the "
            "tally on the board",
            where=e.where,
        ) from e


def _threshold_owners(s: ElectionState) -> list[int]:
    """The owners of the threshold trustees whose partial decryption is on the board."""
    v = s.verifier
    return sorted(
        o.index
        for o in v.owners
        if isinstance(v.trustees[o.item], Pedersen) and o.index in v.decrypted_by
    )


def _finish(ref: _Referendum, s: ElectionState, workers: TallyWorkers | None = None) -> None:
    """Enough trustees decrypted: append the server key's partial decryption (checked by the
    verifier, a long tally's proofs on ``workers``), then the result. The caller holds
    ``s.lock``."""
    v = s.verifier
    assert v.election is not None and v.tally is not None
    if 1 not in v.decrypted_by:
        ctx = Context(ref.group, v.election.public_key)
        pd = partial_decryption_json(
            ctx, v.election.fingerprint, ref.server_key, v.tally, s.rng(), v.election.questions
        )
        try:
            _on_workers(s, workers, "partial decryption", v.precheck_partial_decryption, 1, pd)
        except Unavailable:
            raise  # the workers', not the decryption's
        except PlebisciteError as e:
            raise Internal(
                "internal", f"the server's own partial decryption is wrong, not published: {e}"
            ) from e
        s.append([Item("PartialDecryption", (pd, owned_json(1, sha256_hex(pd))))])
    result = s.verifier.decrypt_result()
    s.append([Item("Result", (result_json(v.election, result),))])
    _still_valid(s)


def _still_valid(s: ElectionState) -> None:
    if not s.verifier.report.valid:
        first = next(f for f in s.verifier.report.findings if f.severity == "error")
        raise Internal("internal", f"the board of {s.uuid} no longer verifies: {first.describe()}")


# -- status ----------------------------------------------------------------------------------------


def _region_status(
    ref: _Referendum,
    region: _Region,
    s: ElectionState | None,
    assigned: Mapping[str, int | None] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": region.name,
        "election": region.uuid,
        "credential_authority": region.authority,
        "credentials_ready": region.authority == "server" or region.public_credentials is not None,
        "roll": region.roll,
    }
    if region.pool is not None:
        out["sign_in"] = ref.sign_in
        out["pool"] = {
            "size": region.pool,
            "assigned": None if assigned is None else assigned.get(region.uuid),
            "holder": "server",
            "powers": pool.POWERS,
        }
    if s is None:
        return out | {"status": RegionPhase.NOT_OPENED}
    summary = s.summary()
    out |= {k: summary[k] for k in ("status", "height", "ballots", "voted", "turnout", "result")}
    out["valid"] = summary["valid"]
    out["archive"] = f"/api/elections/{region.uuid}/archive"
    done = s.verifier.decrypted_by
    out["decrypted_by"] = [t.index for t in ref.trustees if t.owner in done]
    out["shuffles"] = _shuffle_status(ref, s)
    return out


def _status(
    ref: _Referendum, elections: Elections, assigned: Mapping[str, int | None] | None = None
) -> dict[str, Any]:
    """``assigned``: the credentials given from each pool, by election uuid (read from the
    store by the caller)."""
    states = [elections.get(r.uuid) if ref.opened else None for r in ref.regions]
    regions = [
        _region_status(ref, r, s, assigned) for r, s in zip(ref.regions, states, strict=True)
    ]
    outcome: Any = None
    phase = ReferendumPhase.of(
        ref.phase, ref.opened, {s.verifier.phase for s in states if s is not None}
    )
    if phase is ReferendumPhase.DONE:
        outcome = json.loads(compute_outcome(ref.referendum, _results(ref, elections)).to_json())
    return {
        "id": ref.referendum.id,
        "title": ref.referendum.title,
        "phase": phase,
        "record": ref.referendum.to_value(),
        "fingerprint": ref.referendum.fingerprint,
        "group": ref.group.name,
        "voter_authentication": ref.voter_authentication,
        **({} if ref.credential_delivery is None else {"credential_delivery": "mail"}),
        "sign_in": ref.sign_in,
        "ceremony": _ceremony_status(ref),
        # no trustee (a poll's record may have none): the election key is the server's alone
        "server_can_decrypt": not ref.trustees,
        "regions": regions,
        "outcome": outcome,
        "record_board": f"/api/referendums/{ref.referendum.id}/record",
    }


def _results(ref: _Referendum, elections: Elections) -> dict[str, RegionResult]:
    """Every region's verified result, the roll and the voters who voted in the unit of the
    counts (voters, or weight)."""
    results = {}
    for r in ref.regions:
        v = elections[r.uuid].verifier
        results[r.name] = RegionResult(v.report.result, v.roll_weight, v.voted_weight)
    return results


# -- the record board (plebiscite.protocol.record) -----------------------------------------------


def _read_record_board(board: Board, rid: str) -> RecordBoard | None:
    """The referendum's record board as it stands (None: not started), checked in full."""
    bid = record_board_id(rid)
    try:
        members = list(board.members(bid))
    except BoardError:
        return None
    if not members:
        return None
    return read_record(members, bid)


def _append_record(
    board: Board,
    key: SigningKey,
    rid: str,
    current: RecordBoard | None,
    type_: str,
    raw: bytes,
    now: str,
    timestamp: int,
) -> None:
    """Append one lifecycle event and the signed checkpoint of the head it makes, atomically
    (compare-and-append: ConflictError if another process appended first)."""
    bid = record_board_id(rid)
    if current is None:
        with contextlib.suppress(BoardError):  # another process may have started it
            board.create(bid, timestamp)
        head = Head()
    else:
        head = Head(current.height, current.hash)
    item = Item(type_, (raw,))
    _, new = plan_append(head, [item], 0)
    assert new.height is not None and new.hash is not None
    previous = None if current is None else current.last_checkpoint
    cp = checkpoint_payload(key, bid, new.height, new.hash, now, type_, previous)
    board.append(bid, head, [item, Item(CHECKPOINT, (cp,))])


def _pools(ref: _Referendum) -> dict[str, int]:
    """The size of each pool region's pool, by election uuid (published at the opening)."""
    return {r.uuid: r.pool for r in ref.regions if r.pool is not None}


def _created_record(ref: _Referendum) -> Referendum:
    """The record as created: the trustees' hash is set by the opening."""
    r = ref.referendum
    if not ref.opened:
        return r
    t = r.trustees
    return dataclasses.replace(r, trustees=Trustees(t.names, t.threshold, None))


def _sync_record(
    ref: _Referendum,
    elections: Elections,
    board: Board,
    key: SigningKey,
    opened: bytes | None = None,
) -> RecordBoard:
    """Append to the referendum's record board what its lifecycle reached and the board does
    not hold yet: the record, the opening (``opened``: its payload, before the regions' boards
    exist; otherwise from the regions' elections), the close, the outcome. Returns the board
    as it then stands."""
    rid = ref.referendum.id
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            return _sync_record_once(ref, elections, board, key, opened)
        except ConflictError:  # another process appended first: read its events
            if attempt == APPEND_ATTEMPTS:
                raise
    raise AssertionError(rid)  # pragma: no cover


def _sync_record_once(
    ref: _Referendum,
    elections: Elections,
    board: Board,
    key: SigningKey,
    opened: bytes | None,
) -> RecordBoard:
    rid = ref.referendum.id
    now = now_iso(elections.clock())
    ts = int(elections.clock())
    current = _read_record_board(board, rid)
    if current is None:
        _append_record(
            board,
            key,
            rid,
            None,
            RECORD,
            record_payload(_created_record(ref), key.public()),
            now,
            ts,
        )
        current = _read_record_board(board, rid)
        assert current is not None
    states = [elections.get(r.uuid) if ref.opened else None for r in ref.regions]
    if not current.opened:
        if opened is None and ref.opened:
            fingerprints = {}
            for r, st in zip(ref.regions, states, strict=True):
                assert st is not None and st.verifier.election is not None
                fingerprints[r.uuid] = st.verifier.election.fingerprint
            opened = opened_payload(ref.referendum, fingerprints, _pools(ref))
        if opened is None:
            return current
        _append_record(board, key, rid, current, OPENED, opened, now, ts)
        current = _read_record_board(board, rid)
        assert current is not None
    if not ref.opened or any(st is None for st in states):
        return current
    phases = {st.verifier.phase for st in states if st is not None}
    if current.closed is None and not any(p.takes_ballots for p in phases):
        _append_record(board, key, rid, current, CLOSED, closed_payload(now), now, ts)
        current = _read_record_board(board, rid)
        assert current is not None
    if current.outcome is None and phases == {BoardPhase.DONE}:
        results = _results(ref, elections)
        outcome = compute_outcome(ref.referendum, results)
        raw = outcome_payload(ref.referendum, results, outcome)
        _append_record(board, key, rid, current, OUTCOME, raw, now, ts)
        current = _read_record_board(board, rid)
        assert current is not None
    return current


# -- closing, start-up ----------------------------------------------------------------------------


async def _close(
    elections: Elections,
    ref: _Referendum,
    closed: Callable[[str], None] | None = None,
    workers: TallyWorkers | None = None,
) -> None:
    """In every region: EndBallots (unless already closed), then the encrypted tally the
    server's verifier recomputed from the board (on ``workers``), each with a signed
    checkpoint (and the server's shuffle where it is due); ``closed(name)`` after each
    region. ``workers.at_once`` regions are closed at once, each on a thread of its own (not
    the threads of the requests); a region that fails leaves the others to close, and the
    first failure is raised once they are done."""
    at_once = 1 if workers is None else max(1, workers.at_once)
    states = [(region, _election_in(elections, ref, region)) for region in ref.regions]
    if at_once == 1 or len(states) == 1:
        for region, s in states:
            async with s.lock:
                await anyio.to_thread.run_sync(_close_region, s, workers)
                await anyio.to_thread.run_sync(_decrypt_alone, ref, s, workers)
            if closed is not None:
                closed(region.name)
        return
    # the regions closing, and their threads (a token each, apart from the requests')
    closing, threads = anyio.CapacityLimiter(at_once), anyio.CapacityLimiter(at_once)
    failures: list[Exception] = []

    async def close_one(region: _Region, s: ElectionState) -> None:
        try:
            async with closing, s.lock:
                await anyio.to_thread.run_sync(_close_region, s, workers, limiter=threads)
                await anyio.to_thread.run_sync(_decrypt_alone, ref, s, workers, limiter=threads)
        except Exception as e:  # the others close all the same
            failures.append(e)
            return
        if closed is not None:
            closed(region.name)

    async with anyio.create_task_group() as group:
        for region, s in states:
            group.start_soon(close_one, region, s)
    if failures:
        raise failures[0]


def _decrypt_alone(ref: _Referendum, s: ElectionState, workers: TallyWorkers | None = None) -> None:
    """With no trustee (a poll's key is the server's alone) nobody else takes part in the
    tally: once the encrypted tally is on the board, the server's shuffle and EndShuffles
    (non-homomorphic questions), its partial decryption and the result, at once. Nothing to do
    with trustees. The caller holds ``s.lock`` (or nothing else runs yet: start-up)."""
    if ref.trustees:
        return
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            with s.catching_up:
                _server_shuffle(s, workers)
                _end_shuffles(ref, s)
                if s.verifier.phase in (
                    BoardPhase.TALLIED,
                    BoardPhase.SHUFFLED,
                    BoardPhase.DECRYPTING,
                ):
                    _finish(ref, s, workers)
                    s.checkpoint()
            break
        except ConflictError:
            if attempt == APPEND_ATTEMPTS:
                raise


def _close_region(s: ElectionState, workers: TallyWorkers | None = None) -> None:
    """What closing still needs on one board, from its status: EndBallots, the encrypted
    tally, the server's shuffle; tried again when another server appended first (its events
    are read). The caller holds ``s.lock`` (or nothing else runs yet: start-up); the
    verifier is not fed meanwhile but by this close (``s.catching_up``), so what another
    process appended (closing the same referendum, say) is read only when an append finds
    it, and each step is decided on the board as it then is."""
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            with s.catching_up:
                if s.verifier.phase.takes_ballots:
                    s.append([Item("EndBallots")])
                    s.checkpoint()
                if s.verifier.phase is BoardPhase.CLOSED:
                    _append_tally(s, workers)
                    s.checkpoint()
                _server_shuffle(s, workers)
            break
        except ConflictError:
            if attempt == APPEND_ATTEMPTS:
                raise
    _still_valid(s)


def _append_tally(s: ElectionState, workers: TallyWorkers | None = None) -> None:
    """The encrypted tally, computed from the board's ballots (the producer: the partitioned
    reduce of verification, on ``workers``' runner, by default in this thread; on worker
    processes or a cluster the tasks read their ranges of the board themselves, this thread
    only its start), checked by the verifier against its own reading of the board, then
    appended. A runner that fails
    (a cluster's task, a worker process) appends nothing: :class:`Unavailable`, and the
    closer tries again. The caller holds ``s.lock``."""
    workers = workers if workers is not None else TallyWorkers(jobs=1)
    ballots = s.verifier.report.ballots
    try:
        runner = workers.runner_for(ballots)
        if workers.reads_board(ballots):  # read by the tasks, a range of members each
            location = workers.board_location or s.board.location
            et = encrypted_tally_on(
                s.board.members(s.uuid),
                runner,
                ballots=ballots,
                read_range=range_reader(location, s.uuid),
                end_seq=s.board.next_seq(s.uuid),
                new_partition=workers.new_partition,
                read_slice=slice_reader(location, s.uuid),
            )
        else:
            et = encrypted_tally_on(s.board.members(s.uuid), runner, ballots=ballots)
    except PlebisciteError:
        raise  # the board's database: as any other step of the close
    except ValueError as e:  # the reduce found a ballot the verifier should have refused
        raise Internal(
            "internal", f"the encrypted tally of {s.uuid} cannot be made, not published: {e}"
        ) from e
    except Exception as e:  # the runner's: a task that failed, a cluster gone
        raise Unavailable(
            "tally_workers",
            f"the encrypted tally of {s.uuid} could not be computed on {workers.where} "
            f"({type(e).__name__}: {e}): not published, the close is tried again",
        ) from e
    try:
        s.verifier.check_encrypted_tally(et.tally, et.num_tallied, et.total_weight)
    except PlebisciteError as e:
        raise Internal(
            "internal",
            f"the encrypted tally computed for {s.uuid} is not the board's, not published: {e}",
        ) from e
    s.append([Item("EncryptedTally", et.json())])


def _lease(value: bytes) -> tuple[str, float]:
    """The holder of the closer's lease and when it expires (unreadable: nobody, expired)."""
    try:
        held = strictjson.loads(value, max_size=4096, where="closer lease")
        return str(held["holder"]), float(held["until"])
    except (PlebisciteError, KeyError, TypeError, ValueError):
        return "", 0.0


class Referendums:
    """Every referendum of one database and what its parties may do to it.

    ``store``: the server's private records; ``key``: the server's signing key (it seals the
    server's trustee keys); ``board`` and ``elections``: the regions' boards."""

    def __init__(
        self,
        store: PrivateStore,
        key: SigningKey,
        board: Board,
        elections: Elections,
        *,
        letters: Letters | None = None,
        public_url: str | None = None,
        runner: Runner | None = None,
        jobs: int = 0,
        new_partition: Callable[[], PartitionState] | None = None,
    ) -> None:
        self.store, self.key, self.board, self.elections = store, key, board, elections
        #: where the encrypted tallies are computed: on ``runner`` (a cluster's) when given,
        #: else on ``jobs`` local worker processes (default: every core) for large boards
        self.workers = TallyWorkers(runner, jobs=jobs, new_partition=new_partition)
        #: where the credential letters go (None: this server sends no mail, and a
        #: referendum asking for credential_delivery "mail" is refused)
        self.letters = letters
        #: makes the credentials of large rolls on every core (:mod:`plebiscite.service.credgen`)
        self.credentials = CredentialMaker()
        #: the base of the booth links in the letters (None: the letters have no link)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.refs: dict[str, _Referendum] = {}
        #: the last failure of each referendum's closing at its time (logged once)
        self.close_failures: dict[str, str] = {}
        #: the last failure of each referendum's opening by the server itself (logged once)
        self.open_failures: dict[str, str] = {}
        #: seconds between two looks of :meth:`closer` at the closing times
        self.close_interval = CLOSE_INTERVAL
        #: this process's name in the closer's lease
        self.ident = secrets.token_hex(8)
        #: called with a referendum's id and a region's name once the administrator's close
        #: closed that region (a seam for the tests of a crash between two regions:
        #: ``plebiscite serve`` sets it from ``PLEBISCITE_TEST_CRASH``)
        self.region_closed: Callable[[str, str], None] | None = None
        elections.on_load = self.window_of
        #: the referendums whose record board holds the outcome (nothing more to append)
        self.record_complete: set[str] = set()
        #: how this server can have voters sign in for a credential of a pool ("oidc": an
        #: OpenID Connect provider is configured); set by the server
        self.sign_in: frozenset[str] = frozenset()

    # -- lookup --

    async def lookup(self, rid: str) -> _Referendum:
        """The referendum ``rid`` as stored now: loaded if another process created it, read
        again if another process changed it (one small read when it did not)."""
        ref = self.refs.get(rid)
        version = await anyio.to_thread.run_sync(self.store.version, KIND, rid)
        if ref is not None and (version is None or version == ref.version):
            return ref  # as stored (or being created by this process)
        if version is None:
            raise NotFound("unknown_referendum", f"no referendum {rid!r} on this server")
        return await self._reload(rid)

    async def _reload(self, rid: str) -> _Referendum:
        """Read the stored referendum and put it in place of this process's copy (unless a
        change holds it: that change's compare-and-put decides)."""
        fetched = await anyio.to_thread.run_sync(self._fetch, rid)
        ref = self.refs.get(rid)
        if fetched is None:
            if ref is not None:
                return ref
            raise NotFound("unknown_referendum", f"no referendum {rid!r} on this server")
        if ref is None:
            self.refs[rid] = ref = fetched
        elif not ref.lock.locked() and fetched.version != ref.version:
            _restore_in_place(ref, fetched)
        else:
            return ref
        await anyio.to_thread.run_sync(self._adopt, ref)
        return ref

    def _fetch(self, rid: str) -> _Referendum | None:
        """The stored referendum with its version (None if its creation is not complete)."""
        got = self.store.versioned(KIND, rid)
        if got is None:
            return None
        # a creation not complete yet (:meth:`_complete`, from the main record alone) is not
        # read further: its roll may be large
        try:
            mailed = json.loads(got[0]).get("credential_delivery") is not None
        except (ValueError, AttributeError):
            mailed = False  # _load says what is wrong with it
        if mailed and self.store.get(KIND_JOB, _letters_job(rid)) is None:
            return None
        roll = self.store.get(KIND_ROLL, rid)
        if roll is None:
            return None
        ref = _load(rid, got[0], _read_roll(self.store, rid, roll), self.key)
        ref.version = got[1]
        return ref

    def _complete(self, ref: _Referendum) -> bool:
        """Whether the creation of ``ref`` completed: with credentials by mail, its letters
        are its last record (without them its answer never went out)."""
        if ref.credential_delivery is None:
            return True
        return self.store.get(KIND_JOB, _letters_job(ref.referendum.id)) is not None

    def _adopt(self, ref: _Referendum) -> None:
        """What an open referendum sets on its regions' boards: the voting hours."""
        if ref.opened:
            _set_windows(ref, self.elections)

    async def sync(self) -> None:
        """Read every referendum other processes created or changed since last read."""
        versions = await anyio.to_thread.run_sync(self.store.versions, KIND)
        for rid, version in versions.items():
            ref = self.refs.get(rid)
            if ref is None or ref.version != version:
                with contextlib.suppress(NotFound):
                    await self._reload(rid)

    async def region_of(self, uuid: str) -> dict[str, Any] | None:
        """The referendum one of whose regions is the election ``uuid`` (public data, for its
        voting booth): ``{"id", "title", "region", "regions": [{"name", "election"}, ...],
        "language", "translations"}`` (the record's texts in other languages, which the booth
        shows in the voter's); None if it is no region's. The stored referendums are read if
        none known has it."""
        for attempt in (1, 2):
            for ref in list(self.refs.values()):
                mine = next((r for r in ref.regions if r.uuid == uuid), None)
                if mine is not None:
                    return {
                        "id": ref.referendum.id,
                        "kind": "poll" if ref.referendum.is_poll else "referendum",
                        "title": ref.referendum.title,
                        "region": mine.name,
                        "regions": [{"name": r.name, "election": r.uuid} for r in ref.regions],
                        "language": ref.referendum.language,
                        "translations": {
                            k: t.to_value() for k, t in sorted(ref.referendum.translations.items())
                        },
                    }
            if attempt == 1:
                await self.sync()
        return None

    async def voting_before_board(self, uuid: str) -> dict[str, Any] | None:
        """What a voting booth is told of a region whose board does not exist yet (its
        referendum waits for its trustees, or, its credentials sent by mail, for its opening
        time): not accepting ballots, when it opens; None if ``uuid`` is no region's."""
        where = await self.region_of(uuid)
        if where is None:
            return None
        ref = await self.lookup(where["id"])
        if ref.opened:
            return None  # its board exists: the election's own answer
        record = ref.referendum
        now = now_iso(self.elections.clock())
        if now >= record.closing:
            code, message = "voting_closed", f"voting closed at {record.closing}"
        elif ref.phase is not CeremonyStep.DONE:
            code, message = "not_yet_open", "voting opens once the trustees' ceremony is done"
        elif now < record.opening:
            code, message = "not_yet_open", f"voting opens at {record.opening}"
        else:
            code, message = "not_yet_open", "voting opens in a moment: its boards are being made"
        return {
            "election": uuid,
            "name": record.title,
            "status": "scheduled",
            "accepting": False,
            "refusal": {"code": code, "message": message},
            "opening": record.opening,
            "closing": record.closing,
            "closed_at": ref.closed_at,
            "now": now,
            "referendum": where,
        }

    def window_of(self, s: ElectionState) -> None:
        """Set the voting hours of a region's board loaded after start-up (another process
        opened its referendum): the stored referendums are read if none of those known has
        it. Runs where :meth:`Elections.get` runs (any thread)."""
        for attempt in (1, 2):
            for ref in list(self.refs.values()):
                if any(r.uuid == s.uuid for r in ref.regions):
                    _set_window(ref, s)
                    return
            if attempt == 1:
                for rid in self.store.versions(KIND):
                    if rid not in self.refs and (found := self._fetch(rid)) is not None:
                        self.refs.setdefault(rid, found)

    async def check_trustee(
        self, rid: str, index: int, token: str, region: str | None = None
    ) -> None:
        """Refuse unless ``token`` is trustee ``index``'s link token (and ``region`` a region
        of the referendum whose election exists)."""
        ref = await self.lookup(rid)
        _require_trustee(token, ref, index)
        if region is not None:
            self._election(ref, ref.region(region))

    @contextlib.asynccontextmanager
    async def _changing(self, ref: _Referendum) -> AsyncIterator[_Change]:
        """Hold the referendum's lock for a change (:func:`_change`), the referendum read again
        first if another process changed it, so the change applies to the stored one."""
        async with ref.lock:
            rid = ref.referendum.id
            version = await anyio.to_thread.run_sync(self.store.version, KIND, rid)
            if version is not None and version != ref.version:
                fetched = await anyio.to_thread.run_sync(self._fetch, rid)
                if fetched is not None:
                    _restore_in_place(ref, fetched)
                    await anyio.to_thread.run_sync(self._adopt, ref)
            async with _change(self.store, self.key, ref) as change:
                yield change

    def _election(self, ref: _Referendum, region: _Region) -> ElectionState:
        return _election_in(self.elections, ref, region)

    def _taken(self) -> set[str]:
        """The election uuids in use: on the board, or planned by a referendum."""
        return set(self.board.elections()) | {r.uuid for x in self.refs.values() for r in x.regions}

    # -- administrator --

    async def create(
        self,
        body: Any,
        *,
        credentials_at_creation: bool = False,
        auto_open: bool = False,
        base: str | None = None,
    ) -> dict[str, Any]:
        """A new referendum from the administrator's request (see the route's documentation);
        the answer holds the link tokens, shown this once. ``credentials_at_creation`` and
        ``auto_open``: see :func:`_create` (a poll's, :mod:`plebiscite.service.poll`).
        ``base``: the server's address as the request's user sees it, for the links of the
        credential letters when the server has no ``public_url``."""
        refs = self.refs
        taken = await anyio.to_thread.run_sync(self._taken)
        ref, answer = await anyio.to_thread.run_sync(
            functools.partial(
                _create,
                credentials_at_creation=credentials_at_creation,
                auto_open=auto_open,
            ),
            body,
            taken,
            self.key,
            self.elections.rng(),
            self.sign_in,
        )
        rid = ref.referendum.id
        letters = self.letters
        if ref.credential_delivery is not None and letters is None:
            raise Refused(
                "no_outbox",
                "credential_delivery 'mail': this server cannot send mail (it was started "
                "without --smtp-url or --outbox-dir)",
            )
        if rid in refs:
            raise Refused("exists", f"referendum {rid!r} already exists")
        taken = await anyio.to_thread.run_sync(self._taken)
        clash = [r.uuid for r in ref.regions if r.uuid in taken]
        if clash:  # created meanwhile
            raise Refused("exists", f"election {clash[0]} already exists")
        refs[rid] = ref  # taken now; usable once stored (its tokens are not out yet)
        store = self.store
        async with ref.lock:
            try:
                # the main record first: it reserves the id (another server may share the store)
                if not await anyio.to_thread.run_sync(store.insert, KIND, rid, _dump(ref)):
                    raise Refused("exists", f"referendum {rid!r} already exists")
                # the stored version is this copy's: a lookup does not read it back
                stored = await anyio.to_thread.run_sync(store.version, KIND, rid)
                ref.version = stored or 0
                try:
                    await anyio.to_thread.run_sync(_write_roll, store, ref, range(len(ref.regions)))
                    if letters is not None and ref.credential_delivery is not None:
                        # the creation is complete once its letters are stored (restore)
                        await self._stream_letters(ref, letters, base)
                except BaseException:
                    with contextlib.suppress(PlebisciteError):
                        if letters is not None and ref.credential_delivery is not None:
                            await anyio.to_thread.run_sync(letters.discard, _letters_job(rid))
                        await anyio.to_thread.run_sync(_delete_roll, store, rid)
                        await anyio.to_thread.run_sync(store.delete, KIND, rid)
                    raise
            except BaseException:
                refs.pop(rid, None)
                raise
            try:  # published now, or by the next request that looks at it (the opening at last)
                await self._sync_record(ref)
            except PlebisciteError as e:
                log.warning("referendum %s: its record board is not started yet: %s", rid, e)
        return answer

    async def _sync_record(self, ref: _Referendum, opened: bytes | None = None) -> RecordBoard:
        """:func:`_sync_record` off the event loop."""
        rb = await anyio.to_thread.run_sync(
            _sync_record, ref, self.elections, self.board, self.key, opened
        )
        if rb.outcome is not None:
            self.record_complete.add(ref.referendum.id)
        return rb

    async def open(self, rid: str) -> dict[str, Any]:
        """Open every region (see the route's documentation); the private credentials the
        server made are in the answer, this once."""
        ref = await self.lookup(rid)
        store = self.store
        async with self._changing(ref) as change:
            _expect_phase(ref, CeremonyStep.DONE)
            if ref.opened:
                raise Refused("state", f"referendum {rid!r} is already open")
            missing = [
                r.name
                for r in ref.regions
                if r.authority == "external" and not r.public_credentials
            ]
            if missing:
                raise Refused(
                    "state", f"waiting for the public credentials of {', '.join(missing)}"
                )
            elections = self.elections
            # an opening interrupted (by a crash, a database failure) is finished as planned
            plan = await anyio.to_thread.run_sync(store.get, KIND_OPENING, rid)
            if plan is None:
                if now_iso(elections.clock()) >= ref.referendum.closing:
                    raise Refused(
                        "voting_closed",
                        f"the closing time {ref.referendum.closing} has passed: the referendum "
                        "cannot open",
                    )
                if ref.credential_delivery is not None and not ref.credentials_frozen:
                    # the credentials the letters carry are the boards' from now on: stored
                    # (compare-and-put) before the plan, so that a reissue made meanwhile
                    # through another process either came first or is refused
                    ref.credentials_frozen = True
                    await change.save()
                plan = await anyio.to_thread.run_sync(
                    _plan_open,
                    ref,
                    elections,
                    self.key,
                    elections.rng(),
                    int(elections.clock()),
                    store,
                )
                await anyio.to_thread.run_sync(store.put, KIND_OPENING, rid, plan)
            # the record board says which elections these are before any takes a ballot
            await self._sync_record(ref, _opened_of_plan(plan))
            final, new, private = await anyio.to_thread.run_sync(
                _open_from_plan, ref, plan, self.board, self.key, elections, store
            )
            for s in new.values():
                elections.add(s)
            ref.referendum = final
            ref.opened = True
            for r in ref.regions:  # which login holds which credential is no longer kept
                r.logins_sealed = None
            _set_windows(ref, elections)
        # the private credentials are returned this once: the sealed copy goes
        with contextlib.suppress(PlebisciteError):
            await anyio.to_thread.run_sync(_forget_plan, store, rid)
        return {
            "id": rid,
            "record": final.to_value(),
            "fingerprint": final.fingerprint,
            "regions": [
                {
                    "name": r.name,
                    "election": r.uuid,
                    "archive": f"/api/elections/{r.uuid}/archive",
                    "credentials": private.get(r.name),
                }
                | ({} if r.pool is None else {"pool": r.pool})
                for r in ref.regions
            ],
        }

    async def close(self, rid: str) -> dict[str, Any]:
        """Close voting in every region and append the encrypted tallies. The close is
        recorded first (the referendum's ``closed_at``, written durably before any region is
        closed): from then on no region takes a ballot (``voting_closed``), and a close
        interrupted by a crash or a failing database is finished at start-up
        (:meth:`restore`) or by the closer (:meth:`close_due`)."""
        ref = await self.lookup(rid)
        async with self._changing(ref):
            if not ref.opened:
                raise Refused("state", f"referendum {rid!r} is not open")
            if ref.closed_at is None:
                ref.closed_at = now_iso(self.elections.clock())
        _set_windows(ref, self.elections)
        hook = self.region_closed
        try:
            await _close(
                self.elections,
                ref,
                None if hook is None else functools.partial(hook, rid),
                self.workers,
            )
        except Exception as e:  # in the status and the log; the closer tries again
            if self.close_failures.get(rid) != str(e):
                self.close_failures[rid] = str(e)
                log.error("referendum %s: the close failed: %s", rid, e)
            raise
        self.close_failures.pop(rid, None)
        await self._sync_record(ref)
        return _status(ref, self.elections, await self._assigned(ref))

    async def _assigned(self, ref: _Referendum) -> Mapping[str, int | None]:
        """The credentials given from each pool of ``ref`` (one small read each)."""
        uuids = [r.uuid for r in ref.regions if r.pool is not None]
        if not uuids or not ref.opened:
            return {}
        return await anyio.to_thread.run_sync(pool.assigned_counts, self.store, uuids)

    # -- sign-in (credential pools) --

    async def _pool_region(self, uuid: str) -> tuple[_Referendum, _Region]:
        """The referendum and the pool region whose election is ``uuid``."""
        for attempt in (1, 2):
            for ref in list(self.refs.values()):
                for region in ref.regions:
                    if region.uuid == uuid:
                        ref = await self.lookup(ref.referendum.id)
                        region = ref.region(region.name)
                        if region.pool is None or ref.sign_in is None:
                            raise NotFound(
                                "no_pool",
                                f"election {uuid} has no credential pool: its voters get "
                                "their credentials from its credential authority",
                            )
                        return ref, region
            if attempt == 1:
                await self.sync()  # created through another process
        raise NotFound("no_pool", f"no election {uuid} with a credential pool on this server")

    async def sign_in_check(self, uuid: str) -> str:
        """Refuse unless the voters of election ``uuid`` may sign in for a credential now (a
        pool region whose voting is open); the way they sign in (``"oidc"``)."""
        ref, region = await self._pool_region(uuid)
        opening = ref.referendum.opening
        if not ref.opened:  # its boards wait for the trustees' ceremony
            raise Refused(
                "not_yet_open",
                f"voting has not opened yet (it opens at {opening} at the earliest, once the "
                "trustees' key ceremony is done): sign in for your credential then",
            )
        s = self._election(ref, region)
        await s.fresh()
        if (closed := s.voting_closed()) is not None:
            code, why = closed
            if code == "not_yet_open":
                raise Refused(code, f"{why}: sign in for your credential then")
            raise Refused(code, f"{why}: no credential is handed out any more")
        assert ref.sign_in is not None
        return ref.sign_in

    async def pool_regions(self, rid: str) -> list[str]:
        """The election uuids of the pool regions of referendum (or poll) ``rid``, in the
        record's order; refused when it has none."""
        ref = await self.lookup(rid)
        uuids = [r.uuid for r in ref.regions if r.pool is not None]
        if not uuids or ref.sign_in is None:
            raise NotFound("no_pool", f"{rid!r} has no credential pool: nobody signs in for it")
        return uuids

    async def account_election(self, uuid: str, account: pool.Account) -> str:
        """The election whose pool gives ``account`` its credential when it signed in for
        election ``uuid``: ``uuid`` itself, except in a poll of several pool shards, where it
        is the account's own shard (:func:`plebiscite.service.pool.account_region`), whichever
        shard it signed in for: an account never holds two credentials of one poll."""
        ref, _region = await self._pool_region(uuid)
        if not ref.referendum.is_poll:
            return uuid
        uuids = [r.uuid for r in ref.regions if r.pool is not None]
        if len(uuids) == 1:
            return uuids[0]
        return uuids[pool.account_region(self.key, ref.referendum.id, account, len(uuids))]

    async def assign_credential(
        self, uuid: str, account: pool.Account
    ) -> tuple[str, pool.Assignment]:
        """The election and the credential of the signed-in ``account`` who signed in for
        election ``uuid`` (:meth:`account_election`): the same every time it signs in
        (:func:`plebiscite.service.pool.assign`). Refused while the region's voting is not
        open."""
        uuid = await self.account_election(uuid, account)
        await self.sign_in_check(uuid)
        try:
            got = await anyio.to_thread.run_sync(pool.assign, self.store, self.key, uuid, account)
        except Refused as e:
            ref, region = await self._pool_region(uuid)
            shards = sum(r.pool is not None for r in ref.regions)
            if e.code != "pool_exhausted" or not ref.referendum.is_poll or shards == 1:
                raise
            # the account's own shard is given out: another shard's credential would be a
            # second one of the poll for whoever signs in through it
            raise Refused(
                "pool_exhausted",
                f"every credential of {region.name} ({region.pool}), the shard of this poll "
                "that this account gets its credential from, has been given to an account: no "
                "more accounts of this shard can sign in",
                where=e.where,
            ) from None
        return uuid, got

    # -- credentials by mail --

    async def _stream_letters(self, ref: _Referendum, letters: Letters, base: str | None) -> None:
        """Make the credentials of the regions whose credentials go by mail and store their
        letters, a chunk at a time (:class:`~plebiscite.service.credgen.CredentialMaker`: on
        every core for a large roll), then the regions' public credentials (the stored roll),
        then the letters' job record: the creation is complete
        from then on (:meth:`_complete`), never before. The chunks' private credentials are
        dropped once their letters are stored; the progress is logged. A credential depends
        only on the election's uuid and group: made at the creation, the voters have their
        letters while the trustees' ceremony runs."""
        rid = ref.referendum.id
        job = _letters_job(rid)
        url = self.public_url or base
        rng = self.elections.rng()
        served = [r for r in ref.regions if r.authority == "server" and r.pool is None]
        total = sum(len(r.voters) for r in served)
        made = 0
        tenth = max(total // 10, 1)
        for region in served:
            publics: list[VoterCredential] = []
            logins: dict[str, str] = {}
            chunks = self.credentials.make(region.voters, region.uuid, ref.group, rng)
            while (chunk := await anyio.to_thread.run_sync(next, chunks, None)) is not None:
                batch = [
                    _credential_letter(ref, region, c.login, c.private, url, False) for c in chunk
                ]
                await anyio.to_thread.run_sync(letters.enqueue_part, job, made, batch)
                if total >= LARGE and (made + len(chunk)) // tenth != made // tenth:
                    log.info(
                        "referendum %s: credentials and letters %d of %d made and stored",
                        rid,
                        made + len(chunk),
                        total,
                    )
                made += len(chunk)
                publics += [VoterCredential(c.login, c.weight, "", c.public) for c in chunk]
                logins.update((c.login, str(c.public)) for c in chunk)
            region.public_credentials = public_credentials_json(publics)
            region.logins_sealed = _seal_logins(self.key, rid, region.name, logins)
        # the roll with the public credentials (no other process loads the referendum before
        # its letters' job completes it)
        await anyio.to_thread.run_sync(_write_roll, self.store, ref, range(len(ref.regions)))
        if not await anyio.to_thread.run_sync(letters.finish, job, made):
            raise Refused("exists", f"the letters of referendum {rid!r} exist already")

    def _mailed(self, ref: _Referendum) -> Letters:
        """The letters of a referendum whose credentials go by mail."""
        if ref.credential_delivery is None:
            raise Refused(
                "state",
                f"the credentials of referendum {ref.referendum.id!r} are not sent by mail "
                "(created without credential_delivery 'mail')",
            )
        if self.letters is None:
            raise Refused("no_outbox", "this server cannot send mail (no outbox)")
        return self.letters

    async def letters_status(
        self, rid: str, state: str | None = None, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """The delivery of the credential letters: how many pending, sent, failed (and
        cancelled: replaced by a reissue), and a page of them with each one's address, state,
        attempts, the kind of its last failure and when it was sent (personal data: for the
        administrator only)."""
        ref = await self.lookup(rid)
        letters = self._mailed(ref)
        out = await anyio.to_thread.run_sync(letters.summary, f"{rid}/", state, after, limit)
        return {"id": rid, "credential_delivery": ref.credential_delivery} | out

    async def resend_failed(self, rid: str) -> dict[str, Any]:
        """Make every failed credential letter of the referendum pending again."""
        ref = await self.lookup(rid)
        letters = self._mailed(ref)
        count = await anyio.to_thread.run_sync(letters.resend_failed, f"{rid}/")
        counts = (await anyio.to_thread.run_sync(letters.summary, f"{rid}/", None, None, 1))[
            "counts"
        ]
        return {"id": rid, "resent": count, "counts": counts}

    async def reissue(self, rid: str, body: Any, base: str | None = None) -> dict[str, Any]:
        """A new credential for one voter of a region whose credentials go by mail, before
        the opening: the old public credential replaced by the new one in the region's roll
        (no board ever holds the old one), the voter's letters not yet sent cancelled and a
        new letter sent."""
        o = obj(body, "request", ("region", "login"))
        name = string(o["region"], "request.region")
        login = string(o["login"], "request.login")
        ref = await self.lookup(rid)
        letters = self._mailed(ref)
        region = ref.region(name)
        if region.authority != "server":
            raise Refused(
                "state",
                f"region {name!r} has an external credential authority: it makes the "
                "credentials, not the server",
            )
        weight = next((w for x, w in region.voters if x == login), None)
        if login not in {x for x, _ in region.voters}:
            raise NotFound("unknown_voter", f"no voter {login!r} in region {name!r}")
        async with self._changing(ref):
            opening = await anyio.to_thread.run_sync(self.store.get, KIND_OPENING, rid)
            if ref.opened or ref.credentials_frozen or opening is not None:
                raise Refused(
                    "voting_open",
                    "credentials cannot be reissued once the board holds them (the referendum "
                    "is open, or its opening has begun)",
                )
            new = await anyio.to_thread.run_sync(
                _reissued, ref, region, login, weight, self.key, self.elections.rng()
            )
            ref.reissues += 1
            job = f"{rid}/reissue/{ref.reissues:06d}"
        letter = _credential_letter(ref, region, login, new.private, self.public_url or base, True)
        await anyio.to_thread.run_sync(letters.cancel, f"{rid}/", login, name)
        await anyio.to_thread.run_sync(letters.enqueue, job, [letter])
        counts = (await anyio.to_thread.run_sync(letters.summary, f"{rid}/", None, None, 1))[
            "counts"
        ]
        return {"id": rid, "region": name, "login": login, "job": job, "counts": counts}

    # -- public --

    async def summaries(self) -> list[dict[str, Any]]:
        await self.sync()
        out = []
        for ref in self.refs.values():
            st = _status(ref, self.elections)
            out.append({k: st[k] for k in ("id", "title", "phase")})
        return out

    async def status(self, rid: str) -> dict[str, Any]:
        ref = await self.lookup(rid)
        if ref.opened:
            for region in ref.regions:
                s = self.elections.get(region.uuid)
                if s is not None:
                    await s.fresh()
        st = _status(ref, self.elections, await self._assigned(ref))
        if rid in self.close_failures:  # the last close of this process failed: tried again
            st["close_error"] = self.close_failures[rid]
        if st["phase"] == ReferendumPhase.DONE and rid not in self.record_complete:
            # an outcome not published yet (a crash, another process): the status answers anyway
            with contextlib.suppress(PlebisciteError):
                await self._sync_record(ref)
        return st

    async def record_archive(self, rid: str) -> Iterator[bytes]:
        """The referendum's record board (:mod:`plebiscite.protocol.record`), brought up to
        date with its lifecycle first, as an archive streamed."""
        ref = await self.lookup(rid)
        if ref.opened:
            for region in ref.regions:
                s = self.elections.get(region.uuid)
                if s is not None:
                    await s.fresh()
        try:
            await self._sync_record(ref)
        except PlebisciteError as e:  # served as it stands: observers see what is wrong
            log.error("referendum %s: its record board is not up to date: %s", rid, e)
        bid = record_board_id(rid)
        if bid not in await anyio.to_thread.run_sync(self.board.elections):
            raise NotFound("no_record", f"referendum {rid!r} has no record board yet")
        return self.board.archive(bid)

    async def region_election(self, rid: str, name: str) -> bytes:
        ref = await self.lookup(rid)
        s = self._election(ref, ref.region(name))
        assert s.verifier.raw_setup is not None
        return s.verifier.raw_setup[0]

    async def region_tally(self, rid: str, name: str) -> dict[str, Any]:
        ref = await self.lookup(rid)
        s = await self._election(ref, ref.region(name)).fresh()
        v = s.verifier
        if v.tally is None or v.election is None:
            raise Refused("state", f"region {name!r} is not tallied ({v.report.status})")
        return {
            "election": s.uuid,
            "fingerprint": v.election.fingerprint,
            "encrypted_tally": json.loads(encrypted_tally_json(v.tally, v.election.questions)),
        }

    async def shuffle_input(self, rid: str, name: str) -> dict[str, Any]:
        ref = await self.lookup(rid)
        s = await self._election(ref, ref.region(name)).fresh()
        v = s.verifier
        sh = _shuffle_status(ref, s)
        if sh is None:
            raise Refused(
                "state", f"region {name!r} has no non-homomorphic question: nothing to shuffle"
            )
        if not sh["open"]:
            raise Refused("state", f"region {name!r} is {v.report.status}: it takes no shuffle now")
        assert v.election is not None and v.tally is not None
        return {
            "election": s.uuid,
            "fingerprint": v.election.fingerprint,
            "public_key": str(v.election.public_key),
            "questions": sh["questions"],
            "ciphertexts": [
                json.loads(encrypted_tally_json([v.tally[i]]))[0] for i in sh["questions"]
            ],
            "shuffles": sh,
        }

    # -- trustees --

    async def send_certificate(
        self, rid: str, index: int, token: str, body: bytes
    ) -> dict[str, Any]:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        text = _text(body, "certificate")
        async with self._changing(ref):
            _expect_phase(ref, CeremonyStep.CERTIFICATES)
            line = _line(_one_value(text, "certificate"))
            others = [t.cert if t is not me else line for t in ref.trustees]
            so_far = "".join(c + "\n" for c in others if c is not None)
            indexes = [i for i, c in enumerate(others, start=1) if c is not None]
            check = functools.partial(
                ceremony.check_certificates, indexes=indexes, size=len(ref.trustees)
            )
            try:
                cs = await anyio.to_thread.run_sync(check, ref.group, so_far)
            except PlebisciteError as e:
                raise Invalid(e.code, f"certificate refused: {e}") from None
            mine = [t for t in ref.trustees if t is me or t.cert is not None]
            me.cert, me.cert_id = line, cs[mine.index(me)].id
            certs = _all(ref, "cert")
            if certs is not None:
                ref.certs = certs
                ref.phase = ref.phase.next
                ref.error = None
        return _ceremony_status(ref)

    async def send_polynomial(
        self, rid: str, index: int, token: str, body: bytes
    ) -> dict[str, Any]:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        text = _text(body, "polynomial")
        async with self._changing(ref):
            _expect_phase(ref, CeremonyStep.POLYNOMIALS)
            value = _one_value(text, "polynomial")
            _polynomial_degree(ref, value)
            me.polynomial = _line(value)
            polynomials = _all(ref, "polynomial")
            if polynomials is not None:
                assert ref.certs is not None
                try:
                    vinputs = await anyio.to_thread.run_sync(
                        ceremony.make_vinputs, ref.group, ref.certs, polynomials
                    )
                except PlebisciteError as e:
                    _step_failed(ref, e, me, "polynomial")
                else:
                    by_id = dict(vinputs)
                    for t in ref.trustees:
                        assert t.cert_id is not None
                        t.vinput = by_id[t.cert_id]
                    ref.phase = ref.phase.next
                    ref.error = None
        return _ceremony_status(ref)

    async def vinput(self, rid: str, index: int, token: str) -> str:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        if me.vinput is None:
            raise Refused("state", f"the vinputs are not ready (ceremony at {ref.phase.value!r})")
        return me.vinput

    async def send_voutput(self, rid: str, index: int, token: str, body: bytes) -> dict[str, Any]:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        text = _text(body, "voutput")
        async with self._changing(ref):
            _expect_phase(ref, CeremonyStep.VOUTPUTS)
            value = _one_value(text, "voutput")
            obj(value, "voutput", ("private_key", "public_key"))
            me.voutput = _line(value)
            voutputs = _all(ref, "voutput")
            if voutputs is not None:
                assert ref.certs is not None
                polynomials = _all(ref, "polynomial")
                assert polynomials is not None
                try:
                    out = await anyio.to_thread.run_sync(
                        ceremony.make_threshold_parameters,
                        ref.group,
                        ref.certs,
                        polynomials,
                        voutputs,
                    )
                except PlebisciteError as e:
                    _step_failed(ref, e, me, "voutput")
                else:
                    dkeys = dict(out.dkeys)
                    for t in ref.trustees:
                        assert t.cert_id is not None
                        t.dkey = dkeys[t.cert_id]
                    ref.parameters = out.parameters
                    ref.trustees_raw = make_trustees(
                        [("Single", ref.server_public), ("Pedersen", out.parameters.encode())],
                        ref.group,
                    )
                    ref.phase = ref.phase.next
                    ref.error = None
        due = ref.auto_open and ref.phase is CeremonyStep.DONE and not ref.opened
        if due and self.opens_itself_now(ref, now_iso(self.elections.clock())):
            await self.open_itself(ref)
        return _ceremony_status(ref)

    async def open_itself(self, ref: _Referendum) -> bool:
        """Open a referendum the server opens itself (``auto_open``); a failure is logged
        (once per distinct failure) and the closer tries again (:meth:`open_due`)."""
        rid = ref.referendum.id
        try:
            await self.open(rid)
        except PlebisciteError as e:
            if ref.opened:  # opened meanwhile (the creation's request and the closer)
                return True
            if self.open_failures.get(rid) != str(e):
                self.open_failures[rid] = str(e)
                log.error("referendum %s: opening itself failed: %s", rid, e)
            return False
        self.open_failures.pop(rid, None)
        log.info("referendum %s: its ceremony done, opened itself", rid)
        return True

    def opens_itself_now(self, ref: _Referendum, now: str) -> bool:
        """Whether a referendum the server opens itself opens at ``now``: as soon as its
        ceremony is done, except one whose credentials go by mail, opened at its opening time
        so that a lost credential can be reissued until then (the boards' rolls are final once
        they exist)."""
        if ref.credential_delivery is not None and now < ref.referendum.opening:
            return False
        return now < ref.referendum.closing

    async def open_due(self, now: str | None = None) -> list[str]:
        """Open every referendum the server opens itself (``auto_open``: a poll's) whose
        ceremony is done and that is not open yet, unless its closing time has passed; the ids
        of those opened. Its boards then exist, and take ballots from its opening time on."""
        now = now or now_iso(self.elections.clock())
        opened = []
        for rid, ref in list(self.refs.items()):
            due = ref.auto_open and not ref.opened and ref.phase is CeremonyStep.DONE
            if due and self.opens_itself_now(ref, now) and await self.open_itself(ref):
                opened.append(rid)
        return opened

    async def dkey(self, rid: str, index: int, token: str) -> str:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        if me.dkey is None:
            raise Refused("state", f"the ceremony is not done ({ref.phase.value!r})")
        return me.dkey

    async def send_partial_decryption(
        self, rid: str, index: int, token: str, name: str, body: bytes
    ) -> dict[str, Any]:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        region = ref.region(name)
        s = self._election(ref, region)
        raw = body.strip()
        async with s.lock:
            await s.fresh()
            status = s.verifier.phase
            election = s.verifier.election
            if election is not None and election.has_nh and status.takes_shuffles:
                sh = _shuffle_status(ref, s)
                assert sh is not None
                raise Refused(
                    "shuffles_pending",
                    f"region {name!r} has non-homomorphic questions: its tally is decrypted only "
                    f"after the shuffles ({len(sh['by'])} of the {ref.threshold} trustees' "
                    "shuffles so far)",
                )
            if not status.takes_decryptions:
                raise Refused(
                    "state", f"region {name!r} is {status}: no tally waiting for decryption"
                )
            if me.owner in s.verifier.decrypted_by:
                raise Refused("state", f"trustee {index} already decrypted the tally of {name!r}")
            try:
                await anyio.to_thread.run_sync(
                    _check_partial_decryption, s, me.owner, raw, self.workers
                )
            except Unavailable:
                raise  # the workers', not the decryption's
            except PlebisciteError as e:
                raise Invalid(e.code, f"partial decryption refused: {e}") from None
            item = Item("PartialDecryption", (raw, owned_json(me.owner, sha256_hex(raw))))
            await anyio.to_thread.run_sync(s.append, [item])
            _still_valid(s)
            if me.owner not in s.verifier.decrypted_by:
                raise Internal("internal", "the partial decryption was not accepted by the board")
            if len(_threshold_owners(s)) >= ref.threshold:
                await anyio.to_thread.run_sync(_finish, ref, s)
            await anyio.to_thread.run_sync(s.checkpoint)
            done = s.verifier.phase is BoardPhase.DONE
        if done:  # a region's result: once every region has one, the outcome is published
            await self._sync_record(ref)
        return _region_status(ref, region, s)

    async def send_shuffle(
        self, rid: str, index: int, token: str, name: str, body: bytes
    ) -> dict[str, Any]:
        ref = await self.lookup(rid)
        me = _require_trustee(token, ref, index)
        region = ref.region(name)
        s = self._election(ref, region)
        body = body.strip()
        if not body:
            raise Invalid("bad_request", "the body must be the shuffle")
        async with s.lock:
            await s.fresh()
            if _shuffle_status(ref, s) is not None and s.verifier.phase is BoardPhase.TALLIED:
                # the server shuffles first (its shuffle is due since the tally: normally made
                # when closing, or at start-up after a crash in between)
                await anyio.to_thread.run_sync(_server_shuffle, s, self.workers)
            sh = _shuffle_status(ref, s)
            status = s.verifier.phase
            if sh is None:
                raise Refused(
                    "state", f"region {name!r} has no non-homomorphic question to shuffle"
                )
            if not sh["open"]:
                when = "voting is not closed" if status.untallied else "its shuffles are over"
                raise Refused("state", f"region {name!r} is {status}: {when}")
            if me.owner in s.verifier.shuffled_by:
                raise Refused(
                    "state", f"trustee {index} already shuffled the ciphertexts of {name!r}"
                )
            try:
                raw = _shuffle_body(body, me.owner)
                await anyio.to_thread.run_sync(_check_shuffle, s, raw, self.workers)
            except Unavailable:
                raise  # the workers', not the shuffle's
            except PlebisciteError as e:
                raise Invalid(e.code, f"shuffle refused: {e}") from None
            item = Item("Shuffle", (raw, owned_json(me.owner, sha256_hex(raw))))
            await anyio.to_thread.run_sync(s.append, [item])
            _still_valid(s)
            if me.owner not in s.verifier.shuffled_by:
                raise Internal("internal", "the shuffle was not accepted by the board")
            await anyio.to_thread.run_sync(_end_shuffles, ref, s)
            await anyio.to_thread.run_sync(s.checkpoint)
        return _region_status(ref, region, s)

    # -- credential authorities --

    async def region_voters(self, rid: str, name: str, token: str) -> dict[str, Any]:
        ref = await self.lookup(rid)
        region = ref.region(name)
        _require_authority(token, region)
        return {
            "election": region.uuid,
            "group": ref.group.name,
            "voters": [{"login": login, "weight": w or 1} for login, w in region.voters],
            "weighted": any(w is not None for _, w in region.voters),
        }

    async def put_credentials(self, rid: str, name: str, token: str, body: bytes) -> dict[str, Any]:
        ref = await self.lookup(rid)
        region = ref.region(name)
        _require_authority(token, region)
        raw = body.strip()
        async with self._changing(ref):
            if ref.opened:
                raise Refused("state", f"referendum {rid!r} is already open")
            if await anyio.to_thread.run_sync(self.store.get, KIND_OPENING, rid) is not None:
                raise Refused(
                    "state",
                    f"referendum {rid!r} is being opened with the credentials sent before: the "
                    "administrator finishes the opening (POST .../open)",
                )
            region.public_credentials = await anyio.to_thread.run_sync(
                _check_public_credentials, ref, region, raw
            )
        return _region_status(ref, region, None)

    # -- closing at its time, start-up, shut-down --

    async def close_due(self, now: str | None = None) -> list[str]:
        """Close every open referendum whose closing time has passed (at ``now``, default now)
        or that the administrator closed (a close interrupted); the ids of those closed."""
        now = now or now_iso(self.elections.clock())
        await self.sync()
        elections = self.elections
        failures = self.close_failures
        closed = []
        for rid, ref in list(self.refs.items()):
            if not ref.opened or (ref.closed_at is None and now < ref.referendum.closing):
                continue
            states = [elections.get(r.uuid) for r in ref.regions]
            for s in states:
                if s is not None:
                    await s.fresh()
            if all(s is not None and not s.verifier.phase.untallied for s in states):
                continue
            try:
                await _close(elections, ref, workers=self.workers)
            except Exception as e:  # logged once per distinct failure, tried again later
                if failures.get(rid) != str(e):
                    failures[rid] = str(e)
                    log.error(
                        "referendum %s: closing at %s failed: %s", rid, ref.referendum.closing, e
                    )
                continue
            failures.pop(rid, None)
            if not ref.trustees:  # decrypted already: its outcome on the record board
                with contextlib.suppress(PlebisciteError):
                    await self._sync_record(ref)
            if ref.closed_at is not None:
                log.info("referendum %s: closed at %s, every region closed", rid, ref.closed_at)
            else:
                log.info(
                    "referendum %s: closing time %s passed, voting closed",
                    rid,
                    ref.referendum.closing,
                )
            closed.append(rid)
        return closed

    async def closer(self) -> None:
        """Close each referendum when its closing time passes (runs for the server's
        lifetime), looking every :attr:`close_interval` seconds. Of the processes serving one
        database, only the one holding the closer's lease (:meth:`take_lease`) looks; the
        others read the referendums changed (:meth:`sync`), so that a close the administrator
        made through another process stops the ballots here too within a look, before its
        regions' boards are closed. Each look also stores what waits for the database in this
        process (:meth:`Elections.store_pending`). A failure of the database is logged once
        until the looks succeed again."""
        failure: str | None = None
        while True:
            try:
                await self.elections.store_pending()
                if await anyio.to_thread.run_sync(self.take_lease):
                    await self.close_due()
                    await self.open_due()
                elif getattr(self.board, "SHARED", False):
                    await self.sync()
                failure = None
            except PlebisciteError as e:  # the database failed: the next look will do
                if str(e) != failure:
                    log.warning("closing at the closing times: %s", e)
                failure = str(e)
            await anyio.sleep(self.close_interval)

    def take_lease(self, now: float | None = None) -> bool:
        """Take or renew the closer's lease, for :data:`LEASE_SECONDS`: True if this process
        holds it. One process of those sharing the database holds it at a time
        (compare-and-put); another takes it over once it expires (its holder stopped without
        :meth:`release_lease`, or looks less often than the lease lasts)."""
        now = self.elections.clock() if now is None else now
        until = now + LEASE_SECONDS
        mine = strictjson.dumps_compact({"holder": self.ident, "until": until})
        got = self.store.versioned(KIND_LEASE, "closer")
        if got is None:
            return self.store.insert(KIND_LEASE, "closer", mine)
        value, version = got
        holder, expires = _lease(value)
        if holder != self.ident and expires > now:
            return False
        return self.store.replace(KIND_LEASE, "closer", mine, version) is not None

    def release_lease(self) -> None:
        """Give the closer's lease up if this process holds it (when it stops)."""
        got = self.store.versioned(KIND_LEASE, "closer")
        if got is not None and _lease(got[0])[0] == self.ident:
            self.store.replace(KIND_LEASE, "closer", b'{"holder":"","until":0}', got[1])

    def _finish_close(self, ref: _Referendum) -> None:
        """Close the regions the administrator's close did not reach (at start-up). If the
        database fails, their ballots are refused all the same (``closed_at``) and the closer
        finishes later."""
        rid = ref.referendum.id
        for region in ref.regions:
            s = self.elections[region.uuid]
            if not s.verifier.phase.untallied:
                continue
            log.warning(
                "referendum %s: closed at %s, region %s not closed yet: closing it",
                rid,
                ref.closed_at,
                region.name,
            )
            try:
                _close_region(s, self.workers)
            except PlebisciteError as e:
                log.error("referendum %s: region %s not closed yet: %s", rid, region.name, e)

    def restore(self) -> None:
        """Load every stored referendum (at start-up, once its elections are loaded): voting
        windows set, every region of a referendum the administrator closed closed (a close
        interrupted by a crash: before any ballot is taken), a decryption interrupted before
        its result finished, the sealed credentials of an opening that completed removed."""
        store = self.store
        elections = self.elections
        refs = self.refs
        for rid, raw in store.items(KIND):
            roll = store.get(KIND_ROLL, rid)
            if roll is None:  # a creation that did not complete: its tokens never went out
                log.warning("referendum %s: creation not completed, not loaded", rid)
                continue
            ref = _load(rid, raw, _read_roll(store, rid, roll), self.key)
            if not self._complete(ref):
                # its letters were not stored: the creation's answer never went out
                log.warning("referendum %s: creation not completed (no letters), not loaded", rid)
                continue
            refs[rid] = ref
            if not ref.opened:
                continue
            missing = [r.uuid for r in ref.regions if r.uuid not in elections]
            if missing:
                raise StateError(f"the board of region election {missing[0]} is missing", where=rid)
            _set_windows(ref, elections)
            if store.get(KIND_OPENING, rid) is not None:
                _forget_plan(store, rid)
            if ref.closed_at is not None:
                self._finish_close(ref)
            for region in ref.regions:
                s = elections[region.uuid]
                v = s.verifier
                if v.phase is BoardPhase.TALLIED and v.election is not None and v.election.has_nh:
                    log.info("referendum %s: the server shuffles %s", rid, region.name)
                    _server_shuffle(s, self.workers)
                if v.phase is BoardPhase.SHUFFLING and _shuffles_done(ref, s):
                    log.info("referendum %s: ending the shuffles of %s", rid, region.name)
                    _end_shuffles(ref, s)
                if v.phase is BoardPhase.DECRYPTING and len(_threshold_owners(s)) >= ref.threshold:
                    log.info("referendum %s: finishing the decryption of %s", rid, region.name)
                    _finish(ref, s, self.workers)
                    s.checkpoint()
                if not ref.trustees and not v.phase.untallied and v.phase is not BoardPhase.DONE:
                    log.info("referendum %s: the server decrypts %s", rid, region.name)
                    _decrypt_alone(ref, s, self.workers)
            try:  # what the record board still lacks (a crash came first)
                _sync_record(ref, elections, self.board, self.key)
            except PlebisciteError as e:
                log.error("referendum %s: its record board is not up to date: %s", rid, e)
