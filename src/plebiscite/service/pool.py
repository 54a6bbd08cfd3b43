"""A region's credential pool: open polls for the members of an identity provider.

A referendum region created with ``"voters": {REGION: {"pool": N}}`` (and ``"sign_in":
"oidc"``: voters sign in with OpenID Connect, :mod:`plebiscite.server.signin`) has no voter
list. At the opening the server, its credential authority, generates N credentials: the
public ones go on the region's board (so the pool's size is public: the number of credentials
there, in the referendum's status and in the record board's Opened event), the private ones
are sealed here (:func:`store_pool`). Each account that signs in gets one of them
(:func:`assign`): the same one every time it signs in again (so that it can revote), never two,
and no credential ever goes to two accounts.

Who holds which power, as the referendum's status says publicly (:data:`POWERS`): the server
holds the pool's credentials. It hands one to each signed-in account, and it could cast the
unassigned ones; since it keeps those it handed out too, it could also replace a voter's
ballot by a later one of the same credential (the last one counts), which the voter sees on the
board (the ballots of their credential); and since it knows which credential it gave to whom, it
knows who voted, never how: the ballots stay encrypted. The identity provider decides who is a
member: it could make up accounts, each of which would get a credential. What the pool bounds
is the number of counted ballots: never more than N, whatever the provider or the server do.

An account is identified by its issuer and its ``sub`` (the OpenID Connect subject), kept
only as an HMAC-SHA256 under a key derived from the server's signing key, bound to the region's
election (:func:`account_key`): the store says neither who signed in nor which accounts of two
elections are the same one.

The records, in the server's private store (:mod:`plebiscite.board.private`), keyed by the
region's election uuid:

``pool`` (uuid)
    ``{"version": 1, "size": N, "stripes": S}``, written once the rest is.
``pool-stripe`` (uuid/J)
    ``{"start", "end", "next": K, "spare": [I, ...]}``: stripe J's slots are ``start .. end-1``
    (:data:`STRIPES` stripes, as even as they come); ``start .. K-1`` were claimed, the spare
    ones claimed and given back. Changed by compare-and-put only
    (:meth:`PrivateStore.replace`), so of two processes claiming a slot of one stripe at once
    one wins and the other claims the next. An account tries the stripe its HMAC names first,
    then the following ones, so accounts signing in at once seldom contend for one record.
``pool-credentials`` (uuid/B)
    The private credentials of slots ``256 B .. 256 B + 255``, sealed (AES-256-GCM under a key
    derived with HKDF-SHA256 from the seed of the server's signing key, bound to the election
    and the bucket). Written once at the opening.
``pool-account`` (uuid/HMAC)
    The slot of an account, written by insert-if-absent (:meth:`PrivateStore.insert`): the one
    record that binds an account to a credential, so an account has at most one.

An assignment claims a slot by compare-and-put on a stripe, then binds the account to it by
insert. If the insert finds the account already bound (the same account signing in at the same
moment through another process), the slot claimed is given back (put in ``spare``) and the
account gets the slot it holds (while that slot is on its way back, another account may be
told that the pool is exhausted: signing in again, it gets it). A crash between the two writes
leaves one slot claimed and bound to nobody: that credential is never handed out (the pool is
one smaller), never handed twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plebiscite.board.private import PrivateStore
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import ConflictError, StateError
from plebiscite.service.errors import NotFound, Refused

__all__ = [
    "BUCKET",
    "KIND_ACCOUNT",
    "KIND_CREDENTIALS",
    "KIND_POOL",
    "KIND_STRIPE",
    "MAX_POOL",
    "POWERS",
    "STRIPES",
    "Account",
    "Assignment",
    "account_key",
    "assign",
    "assigned",
    "assigned_counts",
    "store_pool",
]

KIND_POOL = "pool"
KIND_CREDENTIALS = "pool-credentials"
KIND_ACCOUNT = "pool-account"
KIND_STRIPE = "pool-stripe"
#: private credentials per sealed record
BUCKET = 256
#: the largest pool (the largest voter list of a region)
MAX_POOL = 1 << 22
#: compare-and-put attempts on a stripe before giving up (``conflict``)
ATTEMPTS = 200
#: the slots are in this many stripes (fewer for a smaller pool), each its own record: the
#: accounts that sign in at once claim slots of different stripes, rarely of the same one
STRIPES = 16

POWERS = (
    "the server holds the pool's credentials: it hands one to each signed-in account; it could "
    "cast the unassigned ones, and, keeping those it handed out too, replace a signed-in "
    "voter's ballot by a later one of the same credential (seen on the board by the voter)"
)
"""What the status says of a pool region's powers (its credential authority is the server)."""


@dataclass(frozen=True)
class Account:
    """An account of an identity provider: its ``issuer`` and ``sub`` (never logged)."""

    issuer: str
    subject: str

    def __repr__(self) -> str:
        return "Account(...)"  # a repr in a traceback never shows who signed in


@dataclass(frozen=True)
class Assignment:
    """The credential an account holds (``new``: given to it just now)."""

    credential: str
    slot: int
    new: bool

    def __repr__(self) -> str:
        return f"Assignment(slot={self.slot}, new={self.new})"


def _derive(key: SigningKey, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key.seed)


def account_key(key: SigningKey, uuid: str, account: Account) -> str:
    """The account as the store knows it: HMAC-SHA256 of (election, issuer, subject) under a
    key derived from the server's signing key, in hexadecimal."""
    secret = _derive(key, b"plebiscite: the accounts that sign in, version 1")
    message = json.dumps([uuid, account.issuer, account.subject]).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def account_region(key: SigningKey, rid: str, account: Account, regions: int) -> int:
    """Which of a poll's ``regions`` pool shards an account gets its credential from (from 0):
    HMAC-SHA256 of (poll, issuer, subject) under a key derived from the server's signing key,
    as a big-endian integer, modulo ``regions``. The same account always lands in the same
    shard, so it never holds two credentials of one poll; the rule is the server's (the
    subject is personal data), not a public one."""
    secret = _derive(key, b"plebiscite: the shard of an account that signs in, version 1")
    message = json.dumps([rid, account.issuer, account.subject]).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest(), "big") % regions


def _sealer(key: SigningKey) -> AESGCM:
    return AESGCM(_derive(key, b"plebiscite: the credential pools, version 1"))


def _seal(key: SigningKey, uuid: str, bucket: int, secret: bytes) -> bytes:
    nonce = secrets.token_bytes(12)
    sealed = _sealer(key).encrypt(nonce, secret, f"pool {uuid} bucket {bucket}".encode())
    return base64.b64encode(nonce + sealed)


def _unseal(key: SigningKey, uuid: str, bucket: int, text: bytes) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
        return _sealer(key).decrypt(raw[:12], raw[12:], f"pool {uuid} bucket {bucket}".encode())
    except (InvalidTag, ValueError):
        raise StateError(
            "the pool's sealed credentials do not open with this server's key: is this the "
            "key file the referendum was created with?",
            where=f"credential pool of election {uuid}",
        ) from None


def _ranges(size: int, stripes: int) -> list[tuple[int, int]]:
    """The slots of each stripe: ``[start, end)``, as even as they come."""
    return [(j * size // stripes, (j + 1) * size // stripes) for j in range(stripes)]


def store_pool(store: PrivateStore, key: SigningKey, uuid: str, credentials: Sequence[str]) -> None:
    """Keep the private credentials of election ``uuid``'s pool, sealed (at the opening,
    before the board exists). Written once: a pool already stored is left as it is (an
    opening finished again after a crash)."""
    if store.version(KIND_POOL, uuid) is not None:
        return
    size = len(credentials)
    for b in range(0, -(-size // BUCKET)):
        part = json.dumps(list(credentials[b * BUCKET : (b + 1) * BUCKET])).encode()
        store.put(KIND_CREDENTIALS, f"{uuid}/{b}", _seal(key, uuid, b, part))
    stripes = max(1, min(STRIPES, size))
    for j, (first, end) in enumerate(_ranges(size, stripes)):
        stripe = {"start": first, "end": end, "next": first, "spare": []}
        store.put(KIND_STRIPE, f"{uuid}/{j}", json.dumps(stripe).encode())
    # the pool record last: a pool is there once all its credentials and stripes are
    record = {"version": 1, "size": size, "stripes": stripes}
    store.insert(KIND_POOL, uuid, json.dumps(record).encode())


def _pool(store: PrivateStore, uuid: str) -> dict[str, Any]:
    got = store.get(KIND_POOL, uuid)
    if got is None:
        raise NotFound("no_pool", f"election {uuid} has no credential pool")
    record = json.loads(got)
    if record.get("version") != 1:
        raise StateError("a pool record of another version of plebiscite", where=uuid)
    return dict(record)


def assigned(store: PrivateStore, uuid: str) -> int | None:
    """How many of the pool's credentials were claimed (None: no pool, or not stored yet)."""
    if store.get(KIND_POOL, uuid) is None:
        return None
    total = 0
    for _, raw in store.items(KIND_STRIPE, f"{uuid}/"):
        stripe = json.loads(raw)
        total += int(stripe["next"]) - int(stripe["start"]) - len(stripe["spare"])
    return total


def assigned_counts(store: PrivateStore, uuids: Sequence[str]) -> Mapping[str, int | None]:
    return {u: assigned(store, u) for u in uuids}


def _credential(store: PrivateStore, key: SigningKey, uuid: str, slot: int) -> str:
    b = slot // BUCKET
    sealed = store.get(KIND_CREDENTIALS, f"{uuid}/{b}")
    if sealed is None:
        raise StateError(f"the pool's credentials of bucket {b} are missing", where=uuid)
    return str(json.loads(_unseal(key, uuid, b, sealed))[slot % BUCKET])


def _held(store: PrivateStore, key: SigningKey, uuid: str, akey: str) -> Assignment | None:
    got = store.get(KIND_ACCOUNT, f"{uuid}/{akey}")
    if got is None:
        return None
    slot = int(got)
    return Assignment(_credential(store, key, uuid, slot), slot, False)


def _update(store: PrivateStore, uuid: str, stripe: int, change: Any) -> Any:
    """Apply ``change(record) -> (new record or None, result)`` to a stripe by compare-and-put,
    read again and retried while another process wrote first."""
    key = f"{uuid}/{stripe}"
    for _ in range(ATTEMPTS):
        got = store.versioned(KIND_STRIPE, key)
        if got is None:
            raise StateError(f"the pool's stripe {stripe} is missing", where=uuid)
        new, result = change(json.loads(got[0]))
        if new is None:
            return result
        if store.replace(KIND_STRIPE, key, json.dumps(new).encode(), got[1]) is not None:
            return result
        time.sleep(random.random() * 0.002)  # a back-off, not a secret
    raise ConflictError(
        "the credential pool is changed by too many requests at once: sign in again",
        where=f"credential pool of election {uuid}",
    )


def _claim(record: dict[str, Any]) -> tuple[dict[str, Any] | None, int | None]:
    if record["spare"]:
        return {**record, "spare": record["spare"][1:]}, int(record["spare"][0])
    if record["next"] < record["end"]:
        return {**record, "next": record["next"] + 1}, int(record["next"])
    return None, None  # this stripe is all given


def assign(store: PrivateStore, key: SigningKey, uuid: str, account: Account) -> Assignment:
    """The credential of ``account`` in election ``uuid``'s pool: the one it was given before,
    or a slot not given to anyone (see the module's documentation). Refused
    (``pool_exhausted``) when every credential is given; NotFound (``no_pool``) if the
    election has no pool."""
    akey = account_key(key, uuid, account)
    held = _held(store, key, uuid, akey)
    if held is not None:
        return held
    record = _pool(store, uuid)
    stripes = int(record["stripes"])
    first = int(akey[:8], 16) % stripes  # accounts spread over the stripes
    slot: int | None = None
    stripe = first
    for k in range(stripes):
        stripe = (first + k) % stripes
        slot = _update(store, uuid, stripe, _claim)
        if slot is not None:
            break
    if slot is None:
        held = _held(store, key, uuid, akey)  # given meanwhile (through another process)
        if held is not None:
            return held
        raise Refused(
            "pool_exhausted",
            f"every credential of this poll's pool ({record['size']}) has been given to an "
            "account: no more can sign in",
            where=f"election {uuid}",
        )
    claimed = slot

    def give_back(r: dict[str, Any]) -> tuple[dict[str, Any], None]:
        return {**r, "spare": [*r["spare"], claimed]}, None

    try:
        credential = _credential(store, key, uuid, claimed)
    except StateError:  # not this server's key: the slot is not spent on a failure
        _update(store, uuid, stripe, give_back)
        raise
    if store.insert(KIND_ACCOUNT, f"{uuid}/{akey}", str(claimed).encode()):
        return Assignment(credential, claimed, True)
    # the same account was bound meanwhile (another process): the claimed slot goes back
    _update(store, uuid, stripe, give_back)
    held = _held(store, key, uuid, akey)
    if held is None:  # pragma: no cover (an account record is never removed)
        raise StateError("the account's credential vanished", where=uuid)
    return held
