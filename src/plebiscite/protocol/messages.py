"""Belenios messages (section 4), parsed strictly from JSON into frozen values.

Parsers check the shape of every structure (no missing or unknown field, the right JSON types),
the canonical encoding of every number, group membership of every element and the range of every
scalar. Errors name the field they are about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from plebiscite import strictjson
from plebiscite._records import TYPE_CHECKING, NamedTuple
from plebiscite.crypto.group import Element, Group
from plebiscite.crypto.groups import group_by_name, parse_natural
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.proofs import Proof
from plebiscite.crypto.shuffle import ShuffleProof
from plebiscite.errors import EncodingError, MembershipError, PlebisciteError

if TYPE_CHECKING:
    from typing import Any


__all__ = [
    "LIMITS",
    "Ciphertext",
    "Credential",
    "Election",
    "Event",
    "Pedersen",
    "Question",
    "QuestionH",
    "QuestionL",
    "QuestionNH",
    "Single",
    "TrusteePublicKey",
    "arr",
    "ciphertext",
    "credential_of",
    "element_not_one",
    "first_non_member",
    "hash_ref",
    "items",
    "obj",
    "parse_credentials",
    "parse_election",
    "parse_event",
    "parse_question",
    "parse_trustees",
    "proof",
    "proofs",
    "small_int",
    "string",
]

from plebiscite.protocol import questions
from plebiscite.protocol.jsonvalues import (
    LIMITS,
    Ciphertext,
    arr,
    check_uuid,
    ciphertext,
    element_not_one,
    hash_ref,
    items,
    obj,
    proof,
    proofs,
    small_int,
    string,
)
from plebiscite.protocol.questions import (
    Question,
    QuestionH,
    QuestionL,
    QuestionNH,
)

# -- election (4.9, 4.10) --------------------------------------------------------------------


class Election(NamedTuple):
    version: int
    description: str
    name: str
    group: Group
    public_key: Element
    questions: tuple[Question, ...]
    uuid: str
    administrator: str | None
    credential_authority: str | None
    raw: bytes
    fingerprint: str
    language: str | None = None  # 3.3: the language of the election's texts

    @property
    def has_nh(self) -> bool:
        return any(not q.homomorphic for q in self.questions)


def parse_question(v: Any, where: str, text: Callable[[Any, str], str] = string) -> Question:
    """A question of an election (section 4.9). ``text`` checks the question and every answer
    (by default any JSON string, as in an election belenios-tool accepts; the referendum
    record passes a stricter check)."""
    return questions.parse_question(v, where, text)


def parse_election(raw: bytes, where: str = "election") -> Election:
    v = strictjson.loads(raw, max_size=LIMITS.election_bytes, where=where)
    o = obj(
        v,
        where,
        ("version", "description", "name", "group", "public_key", "questions", "uuid"),
        ("administrator", "credential_authority", "language"),
    )
    version = small_int(o["version"], f"{where}.version")
    if version != 1:
        raise EncodingError(f"unsupported election version {version}", where=f"{where}.version")
    group = group_by_name(o["group"], where=f"{where}.group")
    uuid = check_uuid(string(o["uuid"], f"{where}.uuid"), f"{where}.uuid")
    wq = f"{where}.questions"
    qs = items(arr(o["questions"], wq, LIMITS.questions), wq, parse_question)
    if not qs:
        raise EncodingError("an election needs at least one question", where=f"{where}.questions")
    if any(not q.homomorphic for q in qs) and group.embedding is None:
        raise EncodingError(
            f"group {group.name} has no embedding, needed by non-homomorphic questions",
            where=f"{where}.group",
        )
    for i, q in enumerate(qs):
        if not q.homomorphic and len(q.answers) > group.embedding_capacity:
            raise EncodingError(
                f"a non-homomorphic question of the group {group.name} has at most "
                f"{group.embedding_capacity} answers (one small integer each in one element), "
                f"not {len(q.answers)}",
                where=f"{where}.questions[{i}]",
            )
    opt: dict[str, str | None] = {}
    for k in ("administrator", "credential_authority", "language"):
        opt[k] = string(o[k], f"{where}.{k}") if k in o else None
    return Election(
        version=version,
        description=string(o["description"], f"{where}.description"),
        name=string(o["name"], f"{where}.name"),
        group=group,
        public_key=element_not_one(group, o["public_key"], f"{where}.public_key"),
        questions=qs,
        uuid=uuid,
        administrator=opt["administrator"],
        credential_authority=opt["credential_authority"],
        raw=raw,
        fingerprint=h_json(raw),
        language=opt["language"],
    )


# -- trustees (4.5, 4.6, 4.7) ----------------------------------------------------------------


class TrusteePublicKey(NamedTuple):
    public_key: Element
    pok: Proof
    name: str | None = None
    signature: Proof | None = None  # 3.x threshold: the key signed by its owner (4.6)


class SignedMsg(NamedTuple):
    message: str
    signature: Proof


class Single(NamedTuple):
    key: TrusteePublicKey


class Pedersen(NamedTuple):
    threshold: int
    certs: tuple[SignedMsg, ...]
    coefexps: tuple[SignedMsg, ...]
    verification_keys: tuple[TrusteePublicKey, ...]
    signatures: tuple[Proof, ...] | None = None  # 3.x: each dealer's signature of certs_sig


TrusteeKind = Single | Pedersen


def trustee_public_key(group: Group, v: Any, where: str) -> TrusteePublicKey:
    o = obj(v, where, ("pok", "public_key"), ("name", "signature"))
    return TrusteePublicKey(
        public_key=element_not_one(group, o["public_key"], f"{where}.public_key"),
        pok=proof(group, o["pok"], f"{where}.pok"),
        name=string(o["name"], f"{where}.name") if "name" in o else None,
        signature=proof(group, o["signature"], f"{where}.signature") if "signature" in o else None,
    )


def signed_msg(group: Group, v: Any, where: str) -> SignedMsg:
    o = obj(v, where, ("message", "signature"))
    return SignedMsg(
        string(o["message"], f"{where}.message"), proof(group, o["signature"], f"{where}.signature")
    )


def parse_trustees(raw: bytes, group: Group, where: str = "trustees") -> tuple[TrusteeKind, ...]:
    v = strictjson.loads(
        raw, max_size=LIMITS.election_bytes * 16, where=where, max_memory=LIMITS.parse_memory
    )
    out: list[TrusteeKind] = []
    for i, item in enumerate(arr(v, where, LIMITS.trustees)):
        w = f"{where}[{i}]"
        pair = arr(item, w, 2, 2)
        kind = pair[0]
        if kind == "Single":
            out.append(Single(trustee_public_key(group, pair[1], f"{w}[1]")))
        elif kind == "Pedersen":
            w1 = f"{w}[1]"
            o = obj(
                pair[1],
                w1,
                ("threshold", "certs", "coefexps", "verification_keys"),
                ("signatures",),
            )
            certs = items(
                arr(o["certs"], f"{w1}.certs", LIMITS.trustees),
                f"{w1}.certs",
                lambda x, ww: signed_msg(group, x, ww),
            )
            n = len(certs)
            out.append(
                Pedersen(
                    threshold=small_int(o["threshold"], f"{w1}.threshold", 1, max(n, 1)),
                    certs=certs,
                    coefexps=items(
                        arr(o["coefexps"], f"{w1}.coefexps", LIMITS.trustees, n),
                        f"{w1}.coefexps",
                        lambda x, ww: signed_msg(group, x, ww),
                    ),
                    verification_keys=items(
                        arr(o["verification_keys"], f"{w1}.verification_keys", LIMITS.trustees, n),
                        f"{w1}.verification_keys",
                        lambda x, ww: trustee_public_key(group, x, ww),
                    ),
                    signatures=proofs(group, o["signatures"], f"{w1}.signatures", n, n)
                    if "signatures" in o
                    else None,
                )
            )
        else:
            raise EncodingError(f"unknown trustee kind {kind!r}", where=f"{w}[0]")
    if not out:
        raise EncodingError("an election needs at least one trustee", where=where)
    return tuple(out)


# -- credentials (4.8) -----------------------------------------------------------------------


class Credential(NamedTuple):
    public: str  # the element's canonical text, as used in ballots
    weight: int
    login: str | None


def parse_credentials(
    raw: bytes,
    group: Group,
    where: str = "public credentials",
    *,
    membership: bool = True,
    decode: bool = True,
) -> tuple[Credential, ...]:
    """``public_credentials``: strings ``cred``, ``cred,weight`` or ``cred,weight,login`` (the
    third field, written by belenios-tool, names the voter; an empty weight means 1).

    ``membership=False`` checks the encoding and range of each credential but not its
    subgroup membership (for a voter, who only needs the election); ``decode=False`` not even
    those (a list checked when it was taken: a board's, whose tally needs only each
    credential's text and weight; 3.3 s of the 4.9 s of a million credentials)."""
    v = strictjson.loads(
        raw, max_size=LIMITS.credentials_bytes, where=where, max_memory=LIMITS.parse_memory
    )
    out = []
    seen: set[str] = set()
    for i, s in enumerate(arr(v, where, 1 << 28)):
        w = f"{where}[{i}]"
        c = credential_of(string(s, w), group, w, membership=membership, decode=decode)
        if c.public in seen:
            raise EncodingError("public credential listed twice", where=w)
        seen.add(c.public)
        out.append(c)
    return tuple(out)


def credential_of(
    text: str, group: Group, where: str, *, membership: bool = True, decode: bool = True
) -> Credential:
    """One string of ``public_credentials`` (``where`` names it): ``cred``, ``cred,weight`` or
    ``cred,weight,login`` checked as :func:`parse_credentials` checks each."""
    parts = text.split(",")
    if len(parts) > 3:
        raise EncodingError("expected 'credential[,weight[,login]]'", where=where)
    cred = parts[0]
    if decode and membership:
        element_not_one(group, cred, f"{where} credential")
    elif decode and group.decode(cred, where=f"{where} credential") == group.one:
        raise MembershipError(
            "the neutral element 1 is not allowed here", where=f"{where} credential"
        )
    weight = 1
    if len(parts) >= 2 and parts[1] != "":
        weight = int(parse_natural(parts[1], max_digits=18, where=f"{where} weight"))
        if weight < 1:
            raise EncodingError("weight must be a positive integer", where=f"{where} weight")
    return Credential(cred, weight, parts[2] if len(parts) == 3 else None)


def first_non_member(group: Group, publics: Sequence[str]) -> int | None:
    """The position of the first public credential of ``publics`` that is not an element of
    the group other than 1, or None: the membership checks of :func:`parse_credentials`, for
    a part of a list whose encodings it checked (``membership=False``), where the part is."""
    for i, cred in enumerate(publics):
        try:
            element_not_one(group, cred, "credential")
        except PlebisciteError:
            return i
    return None


# -- events (4.4) ----------------------------------------------------------------------------

EVENT_TYPES = (
    "Setup",
    "Ballot",
    "EndBallots",
    "EncryptedTally",
    "Shuffle",
    "EndShuffles",
    "PartialDecryption",
    "Result",
)
WITH_PAYLOAD = {"Setup", "Ballot", "EncryptedTally", "Shuffle", "PartialDecryption", "Result"}


class Event(NamedTuple):
    height: int
    type: str
    parent: str | None
    payload: str | None
    hash: str


def parse_event(raw: bytes, hash_: str, where: str) -> Event:
    v = strictjson.loads(raw, max_size=LIMITS.event_bytes, where=where)
    o = obj(v, where, ("height", "type"), ("parent", "payload"))
    typ = o["type"]
    if typ not in EVENT_TYPES:
        raise EncodingError(f"unknown event type {typ!r}", where=f"{where}.type")
    payload = hash_ref(o["payload"], f"{where}.payload") if "payload" in o else None
    if (payload is None) == (typ in WITH_PAYLOAD):
        raise EncodingError(
            f"event {typ} {'needs' if typ in WITH_PAYLOAD else 'takes no'} payload", where=where
        )
    return Event(
        height=small_int(o["height"], f"{where}.height"),
        type=typ,
        parent=hash_ref(o["parent"], f"{where}.parent") if "parent" in o else None,
        payload=payload,
        hash=hash_,
    )


def shuffle_proof(group: Group, v: Any, where: str, n: int) -> ShuffleProof:
    """``shuffle_proof`` = (t, s, c, c_hat) as nested JSON arrays."""
    t, s, c, c_hat = arr(v, where, 4, 4)
    wt, ws = f"{where}[0]", f"{where}[1]"
    t = arr(t, wt, 5, 5)
    el = group.element
    t4 = arr(t[3], f"{wt}[3]", 2, 2)
    s = arr(s, ws, 6, 6)
    sc = group.scalar

    def els(x: Any, w: str) -> tuple[Element, ...]:
        return tuple(el(e, where=f"{w}[{i}]") for i, e in enumerate(arr(x, w, n, n)))

    def scs(x: Any, w: str) -> tuple[int, ...]:
        return tuple(sc(e, where=f"{w}[{i}]") for i, e in enumerate(arr(x, w, n, n)))

    return ShuffleProof(
        t1=el(t[0], where=f"{wt}[0]"),
        t2=el(t[1], where=f"{wt}[1]"),
        t3=el(t[2], where=f"{wt}[2]"),
        t4=(el(t4[0], where=f"{wt}[3][0]"), el(t4[1], where=f"{wt}[3][1]")),
        t_hat=els(t[4], f"{wt}[4]"),
        s1=sc(s[0], where=f"{ws}[0]"),
        s2=sc(s[1], where=f"{ws}[1]"),
        s3=sc(s[2], where=f"{ws}[2]"),
        s4=sc(s[3], where=f"{ws}[3]"),
        s_hat=scs(s[4], f"{ws}[4]"),
        s_prime=scs(s[5], f"{ws}[5]"),
        c=els(c, f"{where}[2]"),
        c_hat=els(c_hat, f"{where}[3]"),
    )
