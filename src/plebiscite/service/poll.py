"""Polls: a question put to a list of voters, created in one step, on sharded boards.

A poll is a referendum record (:mod:`plebiscite.protocol.referendum`) of kind ``poll``: its
regions are its *shards*, it has no decision rule, and it may have no trustee. Everything
after the creation is the referendum's (:class:`~plebiscite.service.referendum.Referendums`):
the ceremony when there are trustees, the opening, ballots, the close, the tally, the
decryption, the record board, the outcome and ``plebiscite referendum verify`` (or
``plebiscite poll verify``). :class:`Polls` only turns the administrator's short request into a
referendum and its status into a poll's.

The request (``POST /api/polls``)::

    {"question": "Where shall we eat?", "answers": ["Pizza", "Sushi"],   # or "questions": [...]
     "title": "Lunch",                       # optional: the question by default
     "opening": "now",                       # optional: now; or YYYY-MM-DDTHH:MM:SSZ (UTC)
     "closing": "2030-05-13T12:00:00Z",
     "voters": {"emails": ["ann@example.org", ...], "login_codes": false,
                "delivery": "mail"},              # optional: "mail" or "organiser"
     "trustees": {"names": ["Alice", "Bob", "Carol"], "threshold": 2},   # optional
     "shard_size": 1000,                     # optional: at most the server's
     "language": "en",                       # optional: the language of the texts above
     "translations": {"uk": {"title": "Обід", "questions": [
         {"question": "Де поїмо?", "answers": ["Піца", "Суші"]}]}}}      # optional

``questions`` is the referendum record's question shape (any type: homomorphic, Lists,
non-homomorphic); ``question`` and ``answers`` (two or more) make one question with one answer
to choose. ``language`` and ``translations`` are the record's (see "Languages" in
:mod:`plebiscite.protocol.referendum`): the title, each question and its answers in other
languages, checked as the record checks them (errors name ``request.translations.uk.questions
[0].answers[1]``), part of its fingerprint; the shards' elections keep the original texts.
``"login_codes": true`` makes voters log in by a one-time code sent to their
address before casting (as the referendum's ``voter_authentication``): refused unless the
server has an outbox to send it. ``"voters": {"open": {"pool": N}}`` is for a poll whose voters
sign in with the server's OpenID Connect provider, N credentials handed out at sign-in (refused
with ``not_available`` when the server has no provider): ``k = ceil(N / shard_size)`` shards,
each a pool region of the referendum (:mod:`plebiscite.service.pool`), the N credentials split
as evenly as can be (:func:`pool_sizes`: sizes differ by at most one), made by the server at
the opening and never in an answer. An account gets one credential of one shard, its own
(:func:`plebiscite.service.pool.account_region`), whichever link it signs in through:
``/signin/poll/ID`` (the poll's ``vote_link``) or any shard's ``/signin/UUID``.

How the credentials of a voter list reach the voters (``voters.delivery``): ``"mail"`` (the
default on a server with an outbox, ``--smtp-url`` or ``--outbox-dir``; refused with
``no_outbox`` on one without) sends each voter one letter with their credential and booth link
(the referendum's ``credential_delivery``: a durable job, :mod:`plebiscite.service.letters`,
followed at ``GET /api/polls/ID/letters``; a lost credential is reissued before voting opens);
``"organiser"`` (the default without an outbox) returns every credential once in the
creation's answer, for the organiser to pass on.

Without trustees the election key is the server's own alone (the server can decrypt every
ballot, and the status says so): creation runs no ceremony and opens the boards in the same
request; ballots are taken from the opening time. With trustees the ceremony runs as a
referendum's (``/api/referendums/ID/trustees/...``, each trustee's link token in the answer,
shown once) and the poll opens itself when it completes
(:meth:`~plebiscite.service.referendum.Referendums.open_due`).

Shards: a poll with more voters than the shard size (``plebiscite serve --poll-shard-size``,
100,000 by default; a poll's ``shard_size`` may be smaller) is split into
``k = ceil(voters / size)`` shards ``shard-1`` to ``shard-k``, separate Belenios elections
sharing the questions and the key. Each voter is in the shard the public rule of the record
says: SHA-256 of the poll id, a NUL byte and the login, as an integer, modulo ``k``
(:func:`~plebiscite.protocol.referendum.shard_of`); a shard holds about ``size`` voters, not
exactly; an id whose split leaves a shard empty is drawn again (:func:`_new_split`), and
one that still does after many ids is refused (choose a larger ``shard_size``).

Poll ids are a short slug of the title and 10 random characters (52 bits: not enumerable).

The credentials are made at the creation, by the server; with delivery ``organiser``
:func:`_deliver` returns them once in the creation's answer, each with its voter's booth link
``{base}/booth/{uuid}#credential={credential}`` (uuid: the voter's shard election); with
``mail`` the letters hold those links and the answer none.
"""

from __future__ import annotations

import math
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from plebiscite import strictjson
from plebiscite.errors import EncodingError
from plebiscite.protocol.checkpoints import utc_time
from plebiscite.protocol.messages import arr, obj, small_int
from plebiscite.protocol.phases import CeremonyStep, ReferendumPhase
from plebiscite.protocol.referendum import ASSIGNMENT, Referendum, shard_name, shard_of
from plebiscite.service.election import now_iso
from plebiscite.service.errors import NotFound, Refused
from plebiscite.service.referendum import MAX_CREATE, MAX_VOTERS, Referendums
from plebiscite.service.voters import EMAIL, login_key

__all__ = ["DEFAULT_SHARD_SIZE", "MAX_POLL_CREATE", "PollRequest", "Polls", "parse_request"]

#: voters per shard unless the server says otherwise (``plebiscite serve --poll-shard-size``)
DEFAULT_SHARD_SIZE = 100_000
#: the largest request body of a poll's creation (about two million e-mail addresses), as a
#: referendum's
MAX_POLL_CREATE = MAX_CREATE
_FIELDS = ("question", "answers", "questions", "title", "opening", "closing", "voters")
_OPTIONAL = ("trustees", "shard_size", "language", "translations")
_RANDOM = "abcdefghijkmnopqrstuvwxyz23456789"  # no l, 1, 0: read aloud, copied by hand
_SLUG = re.compile(r"[^a-z0-9]+")
_WHERE = "request"


@dataclass(frozen=True)
class PollRequest:
    """An administrator's request, checked (see the module's documentation)."""

    title: str
    questions: list[dict[str, Any]]
    opening: str
    closing: str
    emails: list[str]
    login_codes: bool
    delivery: str | None  # "mail", "organiser", None: the server's default
    pool: int | None  # identity-provider voters: the number of credentials
    trustees: dict[str, Any]
    shard_size: int
    #: the record's optional ``language`` and ``translations``, as given (the record checks
    #: them)
    texts: dict[str, Any] = field(default_factory=dict)


def _text(v: Any, where: str, max_len: int) -> str:
    if not isinstance(v, str) or not v.strip():
        raise EncodingError("expected a text, not empty", where=where)
    if len(v) > max_len:
        raise EncodingError(f"{len(v)} characters, more than the {max_len} allowed", where=where)
    return v.strip()


def _questions(o: dict[str, Any]) -> list[dict[str, Any]]:
    w = _WHERE
    if "questions" in o:
        extra = [k for k in ("question", "answers") if k in o]
        if extra:
            raise EncodingError(f"give {extra[0]!r} or 'questions', not both", where=f"{w}")
        qs = arr(o["questions"], f"{w}.questions", 100)
        if not qs:
            raise EncodingError("at least one question", where=f"{w}.questions")
        return list(qs)
    if "question" not in o:
        raise EncodingError("missing field 'question' (or 'questions')", where=w)
    question = _text(o["question"], f"{w}.question", 10_000)
    answers = arr(o.get("answers"), f"{w}.answers", 1000)
    if len(answers) < 2:
        raise EncodingError(
            f"a poll needs at least two answers, {len(answers)} given", where=f"{w}.answers"
        )
    texts = [_text(a, f"{w}.answers[{i}]", 10_000) for i, a in enumerate(answers)]
    for i, a in enumerate(texts):
        if a in texts[:i]:
            raise EncodingError(f"answer {a!r} appears twice", where=f"{w}.answers[{i}]")
    return [{"question": question, "answers": texts, "min": 1, "max": 1}]


def _voters(v: Any) -> tuple[list[str], bool, str | None, int | None]:
    w = f"{_WHERE}.voters"
    o = obj(v, w, (), ("emails", "login_codes", "open", "delivery"))
    delivery = o.get("delivery")
    if delivery is not None and delivery not in ("organiser", "mail"):
        raise EncodingError(
            "expected 'mail' (each voter is sent their credential) or 'organiser' (the "
            "credentials are given to the poll's creator)",
            where=f"{w}.delivery",
        )
    if ("emails" in o) == ("open" in o):
        raise EncodingError("give exactly one of 'emails' and 'open'", where=w)
    if "open" in o:
        for k in ("login_codes", "delivery"):
            if k in o:
                raise EncodingError(f"{k} goes with 'emails'", where=f"{w}.{k}")
        op = obj(o["open"], f"{w}.open", ("pool",))
        return [], False, None, small_int(op["pool"], f"{w}.open.pool", 1, MAX_VOTERS)
    login_codes = o.get("login_codes", False)
    if not isinstance(login_codes, bool):
        raise EncodingError("expected true or false", where=f"{w}.login_codes")
    items = arr(o["emails"], f"{w}.emails", MAX_VOTERS)
    if not items:
        raise EncodingError("at least one voter's e-mail address", where=f"{w}.emails")
    emails: list[str] = []
    seen: set[str] = set()
    for i, x in enumerate(items):
        wi = f"{w}.emails[{i}]"
        if not isinstance(x, str):
            raise EncodingError("expected an e-mail address", where=wi)
        e = x.strip()
        if len(e) > 254 or not EMAIL.match(e):
            raise EncodingError(f"{e[:80]!r} is not an e-mail address", where=wi)
        key = login_key(e)
        if key in seen:
            raise EncodingError(f"{e!r} is listed twice", where=wi)
        seen.add(key)
        emails.append(e)
    return emails, login_codes, delivery, None


def parse_request(body: Any, now: str, max_shard_size: int) -> PollRequest:
    """Check the administrator's request at time ``now``; errors name the field
    (``request.answers``, ``request.voters.emails[3]``, ...)."""
    w = _WHERE
    o = obj(body, w, (), (*_FIELDS, *_OPTIONAL))
    questions = _questions(o)
    first = questions[0]
    default_title = first.get("question") if isinstance(first, dict) else None
    if isinstance(first, dict) and isinstance(first.get("value"), dict):
        default_title = first["value"].get("question")
    if "title" in o:
        title = _text(o["title"], f"{w}.title", 1000)
    elif isinstance(default_title, str) and default_title.strip():
        title = default_title.strip()[:1000]
    else:
        raise EncodingError("missing field 'title'", where=w)
    opening_v = o.get("opening", "now")
    opening = now if opening_v in ("now", None) else utc_time(opening_v, f"{w}.opening")
    if "closing" not in o:
        raise EncodingError("missing field 'closing'", where=w)
    closing = utc_time(o["closing"], f"{w}.closing")
    if closing <= now:  # one fixed-width format: text order is time order
        raise EncodingError(f"closing {closing} has passed (now {now})", where=f"{w}.closing")
    if closing <= opening:
        raise EncodingError(
            f"closing {closing} is not after the opening {opening}", where=f"{w}.closing"
        )
    if "voters" not in o:
        raise EncodingError("missing field 'voters'", where=w)
    emails, login_codes, delivery, pool = _voters(o["voters"])
    trustees = o.get("trustees", {"names": []})
    if not isinstance(trustees, dict):
        raise EncodingError("expected {'names': [...], 'threshold': k}", where=f"{w}.trustees")
    size = max_shard_size
    if "shard_size" in o:
        size = small_int(o["shard_size"], f"{w}.shard_size", 1, max_shard_size)
    texts: dict[str, Any] = {k: o[k] for k in ("language", "translations") if k in o}
    return PollRequest(
        title,
        questions,
        opening,
        closing,
        emails,
        login_codes,
        delivery,
        pool,
        trustees,
        size,
        texts,
    )


def _slug(title: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = _SLUG.sub("-", ascii_).strip("-")[:40].strip("-")
    return slug or "poll"


def new_poll_id(title: str) -> str:
    """A slug of the title and 10 random characters (52 bits)."""
    return f"{_slug(title)}-{''.join(secrets.choice(_RANDOM) for _ in range(10))}"


def split(poll_id: str, emails: list[str], size: int) -> list[list[str]]:
    """The voters of each shard: ``k = ceil(len(emails) / size)`` shards, each voter in
    :func:`~plebiscite.protocol.referendum.shard_of`'s."""
    k = max(1, math.ceil(len(emails) / size))
    shards: list[list[str]] = [[] for _ in range(k)]
    for e in emails:
        shards[shard_of(poll_id, e, k)].append(e)
    for i, voters in enumerate(shards):
        if not voters:
            raise EncodingError(
                f"{len(emails)} voters in {k} shards of at most about {size}: the public rule "
                f"leaves {shard_name(i)} without a voter; choose a larger shard_size",
                where=f"{_WHERE}.shard_size",
            )
    return shards


def pool_sizes(total: int, size: int) -> list[int]:
    """The credentials of each shard of an open poll of ``total`` credentials in shards of at
    most ``size``: ``k = ceil(total / size)`` shards, as even as can be (the first
    ``total mod k`` one larger)."""
    k = max(1, math.ceil(total / size))
    return [total // k + (1 if i < total % k else 0) for i in range(k)]


#: how many poll ids are drawn before a split that leaves a shard empty is refused
SPLIT_TRIES = 64


def _new_split(req: PollRequest) -> tuple[str, list[list[str]]]:
    """A new poll id and its voters' shards: the public rule depends on the id, so an id
    whose split leaves a shard without a voter is drawn again (a few voters in small shards);
    refused after :data:`SPLIT_TRIES` ids."""
    for _ in range(SPLIT_TRIES - 1):
        pid = new_poll_id(req.title)
        try:
            return pid, split(pid, req.emails, req.shard_size)
        except EncodingError:
            continue
    pid = new_poll_id(req.title)
    return pid, split(pid, req.emails, req.shard_size)


def _record(poll_id: str, req: PollRequest, shards: int) -> dict[str, Any]:
    return {
        "version": 1,
        "id": poll_id,
        "kind": "poll",
        "assignment": ASSIGNMENT,
        "title": req.title,
        "questions": req.questions,
        "regions": [{"name": shard_name(i)} for i in range(shards)],
        "trustees": req.trustees,
        "opening": req.opening,
        "closing": req.closing,
        **req.texts,
    }


def _check_record(record: dict[str, Any]) -> None:
    """The poll's record checked before anything is made, errors naming the request's fields
    (the shards' uuids, the server's to choose, stand in)."""
    trial = dict(record)
    trial["regions"] = [
        {**r, "election": f"{i + 1:0>14}".replace("0", "z")}
        for i, r in enumerate(record["regions"])
    ]
    Referendum.from_json(strictjson.dumps_compact(trial), _WHERE)


def _deliver(base: str, created: dict[str, Any]) -> list[dict[str, Any]]:
    """The private credentials the server made, sent to the voters: for now, returned once to
    the creator (the creation's answer), each with its voter's booth link. The mail job that
    sends each voter their own replaces this function."""
    out = []
    for region in created["regions"]:
        uuid = str(region["election"])
        for c in region.get("credentials") or ():
            out.append(
                {
                    "login": c["login"],
                    "shard": region["name"],
                    "election": uuid,
                    "credential": c["credential"],
                    "booth": f"{base}/booth/{uuid}#credential={c['credential']}",
                }
            )
    return out


_CREDENTIALS = {
    "mail": "The server made each voter's credential and mailed it to the voter's address: "
    "the server (and whoever reads a voter's mail) could cast a ballot in place of a voter, "
    "who can see it on the public ballot box and replace it by voting.",
    "organiser": "The server made each voter's credential and gave them all to the poll's "
    "organiser, who passes them on: the organiser and the server could cast a ballot in place "
    "of a voter, who can see it on the public ballot box and replace it by voting.",
    "sign_in": "The server made a pool of credentials, its size published, and hands one to "
    "each account that signs in with the identity provider, never two to one account: the "
    "provider decides who has an account, and the server could use a credential nobody "
    "signed in for.",
}


def _powers(
    trustees: list[str], threshold: int | None, delivery: str = "organiser"
) -> dict[str, Any]:
    """Who holds which power, in plain words: the key (``summary``) and the credentials."""
    out = _key_powers(trustees, threshold)
    return out | {"credentials": _CREDENTIALS[delivery]}


def _key_powers(trustees: list[str], threshold: int | None) -> dict[str, Any]:
    if not trustees:
        return {
            "server_can_decrypt": True,
            "summary": "The election key is the server's alone: the server can decrypt every "
            "ballot. It keeps the boards, takes the ballots and closes voting; anyone can "
            "verify the count from the public record.",
        }
    k = threshold or len(trustees)
    return {
        "server_can_decrypt": False,
        "summary": f"The election key is shared by the server and the trustees "
        f"{', '.join(trustees)}: decrypting needs the server and {k} of the {len(trustees)} "
        "trustees together; the server alone cannot decrypt a ballot. The server keeps the "
        "boards, takes the ballots and closes voting; anyone can verify the count from the "
        "public record.",
    }


def _state(st: dict[str, Any], opened: bool, closed_at: str | None, now: str) -> str:
    """``ceremony`` (waiting for the trustees), ``scheduled`` (not yet open), ``open``,
    ``counting`` (closed, the result not out yet) or ``closed`` (the result out)."""
    phase = st["phase"]
    record = st["record"]
    if phase == ReferendumPhase.DONE:
        return "closed"
    if phase == ReferendumPhase.DECRYPTING:
        return "counting"
    if phase == ReferendumPhase.CEREMONY:
        return "ceremony"
    if closed_at is not None or now >= record["closing"]:
        return "counting"
    if not opened or now < record["opening"]:
        return "scheduled"
    return "open"


class Polls:
    """The polls of one server, over its referendums. ``shard_size``: the largest shard
    (``--poll-shard-size``); ``outbox``: whether the server can send mail (login codes);
    ``issuer``: the OpenID Connect provider's issuer that the voters of open polls sign in
    with (shown in their status; whether they can is :attr:`Referendums.sign_in`)."""

    def __init__(
        self,
        referendums: Referendums,
        *,
        shard_size: int = DEFAULT_SHARD_SIZE,
        outbox: bool = False,
        issuer: str | None = None,
    ) -> None:
        if shard_size < 1:
            raise ValueError("the poll shard size must be at least 1")
        self.referendums = referendums
        self.shard_size = shard_size
        self.outbox = outbox
        self.issuer = issuer

    def _now(self) -> str:
        return now_iso(self.referendums.elections.clock())

    def options(self) -> dict[str, Any]:
        """What this server offers a poll's creator (``GET /api/polls/options``): whether it
        mails the voters' credentials (``delivery`` ``mail``, the default when it can), the
        identity providers of open polls, and the largest shard."""
        return {
            "mail": self.outbox,
            "sign_in": sorted(self.referendums.sign_in),
            "max_shard_size": self.shard_size,
        }

    async def create(self, body: Any, base: str) -> dict[str, Any]:
        """A new poll from the administrator's request; ``base``: the server's address as its
        users see it (the links of the answer). The answer has the poll's status, its share
        link, each trustee's link token and the voters' private credentials (shown once)."""
        now = self._now()
        req = parse_request(body, now, self.shard_size)
        if req.pool is not None:
            return await self._create_open(req, now, base)
        if req.login_codes and not self.outbox:
            raise Refused(
                "not_available",
                "this server has no outbox to send the one-time login codes (plebiscite serve "
                "--smtp-url or --outbox-dir): create the poll without login_codes",
                where=f"{_WHERE}.voters.login_codes",
            )
        delivery = req.delivery or ("mail" if self.outbox else "organiser")
        mail = delivery == "mail"
        if mail and not self.outbox:
            raise Refused(
                "no_outbox",
                "this server cannot send mail (plebiscite serve --smtp-url or --outbox-dir): "
                "ask for delivery 'organiser', the credentials then given to you to pass on",
                where=f"{_WHERE}.voters.delivery",
            )
        pid, shards = _new_split(req)
        record = _record(pid, req, len(shards))
        _check_record(record)
        refs = self.referendums
        created = await refs.create(
            {
                "referendum": record,
                "voters": {shard_name(i): v for i, v in enumerate(shards)},
                "voter_authentication": req.login_codes,
                **({"credential_delivery": "mail"} if mail else {}),
            },
            credentials_at_creation=not mail,
            auto_open=True,
            base=base,
        )
        return await self._created(pid, req, now, base, created, [] if mail else None)

    async def _created(
        self,
        pid: str,
        req: PollRequest,
        now: str,
        base: str,
        created: dict[str, Any],
        credentials: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        """The creation's answer, the poll opened first when it has no ceremony;
        ``credentials``: those of the answer (None: the ones the server made, returned once)."""
        refs = self.referendums
        ref = await refs.lookup(pid)
        if not req.trustees.get("names") and refs.opens_itself_now(ref, now):
            # no ceremony: the boards now (or, if this fails, the closer's next look)
            await refs.open_itself(ref)
        status = await self.status(pid, base)
        return {
            "id": pid,
            "share_link": status["share_link"],
            "poll": status,
            "trustees": created["trustees"],
            "credentials": _deliver(base, created) if credentials is None else credentials,
        }

    async def _create_open(self, req: PollRequest, now: str, base: str) -> dict[str, Any]:
        """A poll whose voters sign in with the server's identity provider, ``req.pool``
        credentials in :func:`pool_sizes` shards, each a pool region: the server makes the
        credentials at the opening and hands one to each account that signs in. Refused when
        the server has no provider."""
        if "oidc" not in self.referendums.sign_in:
            raise Refused(
                "not_available",
                "polls open to whoever signs in need an identity provider, and none is "
                "configured on this server (plebiscite serve --oidc-issuer URL "
                "--oidc-client-id ID): list the voters' e-mail addresses instead",
                where=f"{_WHERE}.voters.open",
            )
        sizes = pool_sizes(req.pool or 0, req.shard_size)
        pid = new_poll_id(req.title)
        record = _record(pid, req, len(sizes))
        _check_record(record)
        created = await self.referendums.create(
            {
                "referendum": record,
                "voters": {shard_name(i): {"pool": n} for i, n in enumerate(sizes)},
                "sign_in": "oidc",
            },
            auto_open=True,
            base=base,
        )
        return await self._created(pid, req, now, base, created, [])

    async def _poll(self, pid: str) -> Any:
        try:
            ref = await self.referendums.lookup(pid)
        except NotFound:
            raise NotFound("unknown_poll", f"no poll {pid!r} on this server") from None
        if not ref.referendum.is_poll:
            raise NotFound("unknown_poll", f"{pid!r} is a referendum, not a poll")
        return ref

    async def status(self, pid: str, base: str) -> dict[str, Any]:
        """The poll's public status (see ``GET /api/polls/{pid}``)."""
        ref = await self._poll(pid)
        st = await self.referendums.status(pid)
        record = ref.referendum
        now = self._now()
        outcome = st["outcome"]
        shards = []
        pools = []
        roll = voted = 0
        for r in st["regions"]:
            uuid = r["election"]
            if r.get("pool") is not None:
                given = r["pool"]["assigned"]
                pools.append(
                    {"shard": r["name"], "size": r["pool"]["size"], "handed_out": given or 0}
                )
            shard_voted = r.get("voted") or 0
            roll += r["roll"]
            voted += shard_voted
            shards.append(
                {
                    "name": r["name"],
                    "election": uuid,
                    "booth": f"{base}/booth/{uuid}",
                    "archive": r.get("archive"),
                    "status": r["status"],
                    "roll": r["roll"],
                    "ballots": r.get("ballots", 0),
                    "voted": shard_voted,
                }
            )
        result = None
        if outcome is not None and outcome.get("pooled_counts") is not None:
            result = {
                "shards": [
                    {"name": o["name"], "election": o["election"], **o["counts"]}
                    for o in outcome["regions"]
                ],
                "pooled": outcome["pooled_counts"],
                "explanation": outcome["explanation"],
            }
        names = list(record.trustees.names)
        open_ = ref.sign_in is not None
        delivery = (
            "sign_in" if open_ else ("mail" if ref.credential_delivery is not None else "organiser")
        )
        voters: dict[str, Any] = {
            "mode": "open" if open_ else "list",
            "delivery": delivery,
            "count": roll,
            "login_codes": ref.voter_authentication,
        }
        if open_:
            voters |= {"sign_in": {"issuer": self.issuer}, "pools": pools}
        return {
            "id": pid,
            "title": record.title,
            "questions": st["record"]["questions"],
            "language": record.language,
            "translations": st["record"].get("translations", {}),
            "state": _state(st, ref.opened, ref.closed_at, now),
            "phase": st["phase"],
            "opening": record.opening,
            "closing": record.closing,
            "closed_at": ref.closed_at,
            "share_link": f"{base}/poll/{pid}",
            "qr": f"/api/polls/{pid}/qr.svg",
            "login_codes": ref.voter_authentication,
            "voters": voters,
            "vote_link": f"{base}/signin/poll/{pid}" if open_ else None,
            "trustees": {
                "names": names,
                "threshold": record.trustees.threshold or (len(names) or None),
                "ceremony": st["ceremony"]["phase"],
            },
            "powers": _powers(names, record.trustees.threshold, delivery),
            "assignment": {
                "rule": ASSIGNMENT,
                "description": "shard index (from 1) = 1 + (SHA-256(poll id, NUL byte, login) "
                f"as a big-endian integer mod {len(shards)})",
            },
            "shards": shards,
            "turnout": {
                "roll": roll,
                "voted": voted,
                "share": None if roll == 0 else str(Fraction(voted, roll)),
            },
            "result": result,
            "record_board": st["record_board"],
            "referendum": f"/api/referendums/{pid}",
            "fingerprint": st["fingerprint"],
        }

    async def summaries(self) -> list[dict[str, Any]]:
        """Every poll's id, title, state, opening and closing."""
        refs = self.referendums
        await refs.sync()
        now = self._now()
        out = []
        for ref in list(refs.refs.values()):
            r = ref.referendum
            if not r.is_poll:
                continue
            st = await refs.status(r.id)
            out.append(
                {
                    "id": r.id,
                    "title": r.title,
                    "state": _state(st, ref.opened, ref.closed_at, now),
                    "opening": r.opening,
                    "closing": r.closing,
                }
            )
        return out

    async def close(self, pid: str, base: str) -> dict[str, Any]:
        """Close voting now (before the closing time): with no trustee the result is out at
        once; with trustees, once enough of them decrypted."""
        ref = await self._poll(pid)
        if not ref.opened:
            if ref.phase is not CeremonyStep.DONE:
                raise Refused("state", f"poll {pid!r} waits for its trustees' ceremony")
            raise Refused("state", f"poll {pid!r} is not open yet")
        await self.referendums.close(pid)
        return await self.status(pid, base)

    async def letters(
        self, pid: str, state: str | None = None, after: str | None = None, limit: int = 100
    ) -> dict[str, Any]:
        """The delivery of a mail poll's credential letters, as a referendum's
        (:meth:`Referendums.letters_status`: personal data, for the administrator)."""
        await self._mail_poll(pid)
        return await self.referendums.letters_status(pid, state, after, limit)

    async def resend_failed(self, pid: str) -> dict[str, Any]:
        """Make every failed credential letter of a mail poll pending again."""
        await self._mail_poll(pid)
        return await self.referendums.resend_failed(pid)

    async def reissue(self, pid: str, body: Any, base: str) -> dict[str, Any]:
        """A new credential for the voter ``{"login": ...}`` of a mail poll before its
        opening, in the voter's shard (the public rule): the old one void (no board ever
        holds it), a new letter sent."""
        ref = await self._mail_poll(pid)
        o = obj(body, _WHERE, ("login",))
        login = o["login"]
        if not isinstance(login, str) or not login.strip():
            raise EncodingError("expected the voter's e-mail address", where=f"{_WHERE}.login")
        login = login.strip()
        names = [r.name for r in ref.regions]
        shard = names[shard_of(pid, login, len(names))]
        known = {login_key(x): x for x, _ in ref.region(shard).voters}
        if login_key(login) not in known:
            raise NotFound("unknown_voter", f"{login!r} is not a voter of poll {pid!r}")
        got = await self.referendums.reissue(
            pid, {"region": shard, "login": known[login_key(login)]}, base
        )
        return {k: v for k, v in got.items() if k != "region"} | {"shard": shard}

    async def _mail_poll(self, pid: str) -> Any:
        ref = await self._poll(pid)
        if ref.credential_delivery is None:
            raise Refused(
                "state",
                f"the credentials of poll {pid!r} are not sent by mail (delivery 'organiser' "
                "or an open poll)",
            )
        return ref

    async def share_link(self, pid: str, base: str) -> str:
        await self._poll(pid)
        return f"{base}/poll/{pid}"
