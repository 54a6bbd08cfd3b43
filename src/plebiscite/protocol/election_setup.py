"""Setting an election up (sections 3.1, 4.5, 4.7, 4.8, 4.10): trustee keys, the trustees
structure, credentials and the public credential list, the election itself.

Every function is pure and takes its randomness from a :class:`RandomSource`; the JSON it writes
is byte-compatible with belenios-tool (compact, fields in the spec's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import (
    BASE58,
    credential_secret,
    generate_credential,
    generate_legacy_credential,
)
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.proofs import prove_pok
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import EncodingError
from plebiscite.protocol.jsonvalues import check_uuid
from plebiscite.protocol.messages import (
    Pedersen,
    Single,
    TrusteeKind,
    obj,
    parse_election,
    parse_trustees,
)

__all__ = [
    "VoterCredential",
    "election_public_key",
    "generate_credentials",
    "generate_uuid",
    "make_election",
    "make_trustee_key",
    "make_trustees",
    "parse_voter_list",
    "public_credentials_json",
]


def generate_uuid(rng: RandomSource, length: int = 14) -> str:
    """A fresh election uuid: ``length`` Base58 characters."""
    return "".join(BASE58[int(rng.below(58))] for _ in range(length))


# -- trustees ------------------------------------------------------------------------------


def _proof_json(c: int, r: int) -> dict[str, str]:
    return {"challenge": str(c), "response": str(r)}


def make_trustee_key(group: Group, rng: RandomSource) -> tuple[int, bytes]:
    """A "Single" trustee key: the private key ``x`` and the ``trustee_public_key`` JSON."""
    ctx = Context(group)
    x = rng.below(group.q)
    pok = prove_pok(ctx, x, rng.below(group.q))
    public = {"pok": _proof_json(*pok), "public_key": group.encode(ctx.gpow(x))}
    return x, strictjson.dumps_compact(public)


def make_trustees(items: Sequence[tuple[str, bytes]], group: Group) -> bytes:
    """The trustees structure from ``("Single", trustee_public_key JSON)`` and
    ``("Pedersen", threshold_parameters JSON)`` items, checked by parsing it back."""
    value: list[Any] = []
    for kind, raw in items:
        if kind not in ("Single", "Pedersen"):
            raise EncodingError(f"unknown trustee kind {kind!r}")
        value.append([kind, strictjson.loads(raw, max_size=1 << 24, where=f"{kind} trustee")])
    out = strictjson.dumps_compact(value)
    parse_trustees(out, group)
    return out


def election_public_key(trustees: Sequence[TrusteeKind], group: Group) -> Element:
    """``y``: the product of the sub-keys of every item (section 3.1.1)."""
    y = group.one
    for item in trustees:
        if isinstance(item, Single):
            y = group.mul(y, item.key.public_key)
        elif isinstance(item, Pedersen):
            for ce in item.coefexps:
                msg = obj(
                    strictjson.loads(ce.message, max_size=1 << 20, where="coefexps"),
                    "coefexps",
                    ("coefexps",),
                )
                y = group.mul(y, group.element(msg["coefexps"][0], where="coefexps[0]"))
    return y


# -- credentials ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VoterCredential:
    login: str
    weight: int | None
    private: str
    public: Element


def parse_voter_list(text: str) -> list[tuple[str, int | None]]:
    """Voter lines as belenios-tool reads them: ``address[,login[,weight]]``; the login defaults
    to the address. Returns ``(login, weight or None)`` per voter."""
    voters: list[tuple[str, int | None]] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if len(parts) > 3 or not parts[0]:
            raise EncodingError("expected 'address[,login[,weight]]'", where=f"voter line {n}")
        login = parts[1] if len(parts) > 1 and parts[1] else parts[0]
        weight: int | None = None
        if len(parts) == 3:
            if not parts[2].isdigit() or int(parts[2]) < 1 or len(parts[2]) > 18:
                raise EncodingError("weight must be a positive integer", where=f"voter line {n}")
            weight = int(parts[2])
        if login in seen:
            raise EncodingError(f"voter {login!r} listed twice", where=f"voter line {n}")
        seen.add(login)
        voters.append((login, weight))
    return voters


def generate_credentials(
    voters: Sequence[tuple[str, int | None]],
    uuid: str,
    group: Group,
    rng: RandomSource,
    *,
    legacy: bool = False,
) -> list[VoterCredential]:
    """One fresh credential per voter (section 3.1, step 3), of the 3.x form (``legacy``: of
    the 2.0 form, for a record Belenios 2.0 must read). ``uuid`` must be one an election
    accepts (:func:`~plebiscite.protocol.jsonvalues.check_uuid`)."""
    check_uuid(uuid, "uuid")
    new = generate_legacy_credential if legacy else generate_credential
    ctx = Context(group)
    out = []
    publics: set[Element] = set()
    for login, weight in voters:
        while True:
            c = new(rng)
            pub = ctx.gpow(credential_secret(c, uuid, group))
            if pub not in publics:  # distinct public credentials (step 7)
                break
        publics.add(pub)
        out.append(VoterCredential(login, weight, c, pub))
    return out


def public_credentials_json(creds: Sequence[VoterCredential]) -> bytes:
    """The public credential list as published in the archive: sorted by value, ``cred`` or,
    when any voter has a weight, ``cred,weight`` for every voter. The list is not in voter order,
    so it does not say who holds which credential."""
    weighted = any(c.weight is not None for c in creds)
    ordered = sorted(creds, key=lambda c: c.public)
    items = [f"{c.public},{c.weight or 1}" if weighted else str(c.public) for c in ordered]
    return strictjson.dumps_compact(items)


# -- the election --------------------------------------------------------------------------


def _question_json(q: Any, where: str) -> dict[str, Any]:
    if isinstance(q, dict) and "type" in q:
        value = obj(q.get("value"), f"{where}.value", ("answers", "question"))
        return {
            "type": q["type"],
            "value": {"answers": value["answers"], "question": value["question"]},
        }
    o = obj(q, where, ("answers", "min", "max", "question"), ("blank",))
    out: dict[str, Any] = {"answers": o["answers"]}
    if o.get("blank"):
        out["blank"] = True
    out.update({"min": o["min"], "max": o["max"], "question": o["question"]})
    return out


def make_election(template: bytes, uuid: str, group: Group, trustees_raw: bytes) -> bytes:
    """The election structure (4.10) from a template ``{"description", "name", "questions",
    ?"administrator", ?"credential_authority"}``, checked by parsing it back."""
    t = obj(
        strictjson.loads(template, max_size=1 << 20, where="template"),
        "template",
        ("description", "name", "questions"),
        ("administrator", "credential_authority"),
    )
    trustees = parse_trustees(trustees_raw, group)
    questions = t["questions"]
    if not isinstance(questions, list):
        raise EncodingError("questions must be a list", where="template.questions")
    election: dict[str, Any] = {
        "version": 1,
        "description": t["description"],
        "name": t["name"],
        "group": group.name,
        "public_key": str(election_public_key(trustees, group)),
        "questions": [
            _question_json(q, f"template.questions[{i}]") for i, q in enumerate(questions)
        ],
        "uuid": uuid,
    }
    for k in ("administrator", "credential_authority"):
        if k in t:
            election[k] = t[k]
    raw = strictjson.dumps_compact(election)
    parse_election(raw)
    return raw
