"""The setup of an election: its trustees checked against its public key, and the setup data
read from the start of an archive without the ballots after it.

A voter needs only this much of a board to make a ballot; the verifier checks the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.context import Context
from plebiscite.crypto.group import Element
from plebiscite.crypto.proofs import Proof, verify_pok, verify_schnorr
from plebiscite.crypto.threshold import commitment_eval
from plebiscite.errors import ConsistencyError, EncodingError, ProofError
from plebiscite.protocol.archive import iter_members, parse_header
from plebiscite.protocol.messages import (
    LIMITS,
    Election,
    Single,
    TrusteeKind,
    TrusteePublicKey,
    arr,
    hash_ref,
    obj,
    parse_event,
)

if TYPE_CHECKING:
    from typing import BinaryIO


__all__ = ["Owner", "SetupData", "check_trustees", "read_setup"]


class Owner:
    """A trustee able to own a shuffle or a partial decryption: its global 1-based ``index``,
    its ``key``, its ``item`` in the trustees structure and its 1-based ``position`` within a
    Pedersen item (1 for Single)."""

    __slots__ = ("index", "item", "key", "position")

    def __init__(self, index: int, key: TrusteePublicKey, item: int, position: int) -> None:
        self.index, self.key, self.item, self.position = index, key, item, position


class SetupData(NamedTuple):
    """The raw election, trustees and public credentials of an archive's Setup event."""

    election: bytes
    trustees: bytes
    credentials: bytes
    event_hash: str


def read_setup(stream: BinaryIO) -> SetupData:
    """Read an archive up to its first event, which must be the Setup event, and return the
    setup data it refers to. Nothing after it is read."""
    members = iter_members(stream)
    header = next(members)
    timestamp = int(parse_header(header).timestamp)
    pending: dict[str, bytes] = {}
    for m in members:
        where = f"archive byte {m.offset}"
        if m.mtime != timestamp:
            raise EncodingError(
                f"member {m.name} has mtime {m.mtime}, not the header's timestamp {timestamp}",
                where=where,
            )
        if m.kind == "data":
            pending[m.hash] = m.content
            continue
        ev = parse_event(m.content, m.hash, f"event {m.hash}")
        if ev.type != "Setup" or ev.height != 0 or ev.parent is not None or not ev.payload:
            raise EncodingError("the first event of an archive must be its Setup", where=where)
        sd = obj(
            strictjson.loads(pending.pop(ev.payload, b"null"), max_size=4096, where="setup data"),
            "setup data",
            ("election", "trustees", "credentials"),
        )
        raws = []
        for k in ("election", "trustees", "credentials"):
            ref = hash_ref(sd[k], f"setup data.{k}")
            if ref not in pending:
                raise EncodingError(f"{k} {ref} is not in the archive before the Setup event")
            raws.append(pending[ref])
        return SetupData(raws[0], raws[1], raws[2], ev.hash)
    raise EncodingError("the archive has no Setup event")


def _proof_json(p: Proof) -> dict[str, str]:
    return {"challenge": str(p.challenge), "response": str(p.response)}


def _check_context(
    v: object, election: Election, size: int, threshold: int, index: int, where: str
) -> None:
    """The context of a 3.x certificate: the election's group, the number of trustees of the
    ceremony, its threshold and the owner's place among them (from 1)."""
    w = f"{where}.message.context"
    c = obj(v, w, ("group", "size", "threshold", "index"))
    expected = {"group": election.group.name, "size": size, "threshold": threshold, "index": index}
    for k, want in expected.items():
        if c[k] != want or type(c[k]) is not type(want):
            raise ConsistencyError(
                f"certificate context has {k} {c[k]!r}, the election and the trustees give "
                f"{want!r}",
                where=f"{w}.{k}",
            )


def check_trustees(election: Election, trustees: Sequence[TrusteeKind]) -> list[Owner]:
    """Check the trustees structure against ``election`` (section 3.5 of the spec): every
    proof of knowledge, every threshold certificate and coefficient commitment, every
    verification key against the commitments, and the election public key as the product of
    the trustees' keys. Returns the owners (who may shuffle or decrypt) in board order."""
    owners: list[Owner] = []
    group = election.group
    ctx = Context(group)
    y = group.one
    index = 0
    for i, item in enumerate(trustees):
        w = f"trustees[{i}]"
        if isinstance(item, Single):
            try:
                verify_pok(ctx, item.key.public_key, item.key.pok)
            except ProofError as e:
                raise e.at(f"{w}[1].pok") from None
            y = group.mul(y, item.key.public_key)
            index += 1
            owners.append(Owner(index, item.key, i, 1))
            continue
        n = len(item.certs)
        verification: list[Element] = []
        contexts = 0
        for z, cert in enumerate(item.certs):
            wc = f"{w}[1].certs[{z}]"
            keys = obj(
                strictjson.loads(cert.message, max_size=8192, where=f"{wc}.message"),
                f"{wc}.message",
                ("verification", "encryption"),
                ("context",),
            )
            if "context" in keys:
                contexts += 1
                _check_context(keys["context"], election, n, item.threshold, z + 1, wc)
            vk = election.group.element(keys["verification"], where=f"{wc}.message.verification")
            election.group.element(keys["encryption"], where=f"{wc}.message.encryption")
            try:
                verify_schnorr(ctx, vk, cert.signature, f"sigmsg|{cert.message}|")
            except ProofError as e:
                raise e.at(f"{wc}.signature") from None
            verification.append(vk)
        if len(set(verification)) != n:
            raise ConsistencyError(
                "two certificates share a verification key", where=f"{w}[1].certs"
            )
        if contexts not in (0, n):
            raise ConsistencyError(
                "some certificates have a context and others not", where=f"{w}[1].certs"
            )
        # Belenios 3.x (certificates with a context) signs the certificates and each dealer's
        # commitments, and each verification key; 2.0 records have neither
        signed = contexts == n
        if signed and item.signatures is None:
            raise EncodingError("missing field 'signatures'", where=f"{w}[1]")
        coefexps: list[list[Element]] = []
        for z, ce in enumerate(item.coefexps):
            wc = f"{w}[1].coefexps[{z}]"
            try:
                verify_schnorr(ctx, verification[z], ce.signature, f"sigmsg|{ce.message}|")
            except ProofError as e:
                raise e.at(f"{wc}.signature") from None
            m = obj(
                strictjson.loads(ce.message, max_size=LIMITS.election_bytes, where=f"{wc}.message"),
                f"{wc}.message",
                ("coefexps",),
            )
            a = arr(m["coefexps"], f"{wc}.message.coefexps", item.threshold, item.threshold)
            coefexps.append(
                [
                    election.group.element(x, where=f"{wc}.message.coefexps[{k}]")
                    for k, x in enumerate(a)
                ]
            )
            if item.signatures is not None:
                certs_sig = strictjson.dumps_compact(
                    {
                        "certs": [
                            {"message": c.message, "signature": _proof_json(c.signature)}
                            for c in item.certs
                        ],
                        "coefexps": a,
                    }
                ).decode()
                try:
                    verify_schnorr(
                        ctx, verification[z], item.signatures[z], f"sigmsg|certs_sig|{certs_sig}|"
                    )
                except ProofError as e:
                    raise e.at(f"{w}[1].signatures[{z}]") from None
        for j, vkey in enumerate(item.verification_keys, start=1):
            wv = f"{w}[1].verification_keys[{j - 1}]"
            try:
                verify_pok(ctx, vkey.public_key, vkey.pok)
            except ProofError as e:
                raise e.at(f"{wv}.pok") from None
            if vkey.signature is not None:
                try:
                    verify_schnorr(
                        ctx,
                        verification[j - 1],
                        vkey.signature,
                        f"sigmsg|{group.encode(vkey.public_key)}|",
                    )
                except ProofError as e:
                    raise e.at(f"{wv}.signature") from None
            elif signed:
                raise EncodingError("missing field 'signature'", where=wv)
            expected = group.product(commitment_eval(group, A, j) for A in coefexps)
            if expected != vkey.public_key:
                raise ConsistencyError(
                    "verification key does not match the trustees' coefficient commitments",
                    where=wv,
                )
            index += 1
            owners.append(Owner(index, vkey, i, j))
        for A in coefexps:
            y = group.mul(y, A[0])
    if y != election.public_key:
        raise ConsistencyError(
            "election public key is not the product of the trustees' keys",
            where="election.public_key",
        )
    return owners
