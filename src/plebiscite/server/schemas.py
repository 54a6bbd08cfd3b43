"""The request and response bodies of the API, as pydantic models: documentation only.

The routes read their bodies themselves (a size limit before anything is parsed, strict JSON,
ballots kept byte-exact since a ballot's SHA-256 is its tracker) and answer plain dicts, so
these models never validate or filter anything at run time. They describe every body in
``/openapi.json``: request bodies through :func:`body` (the route's ``openapi_extra``),
answers through :func:`answers` (the route's ``responses``), and the models referred to from
``openapi_extra`` reach ``components/schemas`` through :func:`definitions` (merged by
:func:`plebiscite.server.app.create_app`'s ``openapi``).

Request models forbid unknown fields where the server refuses them, so that a schema-driven
client generates bodies that pass the shape checks; answer models allow extra fields.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

__all__ = [
    "ANY_JSON",
    "BINARY",
    "ErrorBody",
    "answers",
    "body",
    "definitions",
    "ref",
]

REF = "#/components/schemas/{model}"

#: any JSON value
ANY_JSON: dict[str, Any] = {}
#: a body of bytes (an archive)
BINARY: dict[str, Any] = {"type": "string", "format": "binary"}

_FRACTION = r"^(0|[1-9][0-9]{0,17})(/[1-9][0-9]{0,17})?$"
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
_UUID = r"^[1-9A-HJ-NP-Za-km-z]{14,64}$"
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_HEX256 = r"^[0-9a-f]{64}$"
#: a group element: a decimal number (finite fields) or 64 hexadecimal digits (Ed25519)
_ELEMENT = r"^([0-9]+|[0-9a-f]{64})$"

Fraction = Annotated[str, Field(pattern=_FRACTION, description='"n/d" or "n", lowest terms')]
UtcTime = Annotated[str, Field(pattern=_TIME, description="YYYY-MM-DDTHH:MM:SSZ (UTC)")]
Uuid = Annotated[str, Field(pattern=_UUID, description="14 to 64 Base58 characters")]
Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    """A request structure the server reads strictly: no unknown field."""

    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    """An answer: the fields documented here, perhaps more."""

    model_config = ConfigDict(extra="allow")


# -- errors -----------------------------------------------------------------------------------


class ErrorDetail(_Open):
    code: str = Field(description="a stable code, e.g. unknown_election, state, rate_limited")
    message: str = Field(description="what was wrong")
    where: str | None = Field(
        default=None, description="what is wrong, when known: a parameter, a field, an event"
    )


class ErrorBody(_Open):
    """Every error of the API."""

    error: ErrorDetail


# -- the referendum record (plebiscite.protocol.referendum) ------------------------------------


class HomomorphicQuestion(_Strict):
    """A question whose answers are counted (section 4.9)."""

    question: Text
    answers: list[Text] = Field(min_length=1)
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    blank: bool | None = Field(default=None, description="a blank vote is allowed")


class NonHomomorphicAnswers(_Strict):
    question: Text
    answers: list[Text] = Field(min_length=1)


class NonHomomorphicQuestion(_Strict):
    """A question whose ballots are shuffled, then decrypted one by one (a ranking)."""

    type: Literal["NonHomomorphic"]
    value: NonHomomorphicAnswers


class ListsAnswers(_Strict):
    question: Text
    answers: list[Annotated[list[Text], Field(min_length=2)]] = Field(
        min_length=1, description="each list: its name, then its candidates (at least one)"
    )


class ListsQuestion(_Strict):
    """Choose one list, then at least one of its candidates (a Belenios 3.x question, in the
    Ed25519 group only); its result counts each list and each candidate."""

    type: Literal["Lists"]
    value: ListsAnswers


Question = HomomorphicQuestion | NonHomomorphicQuestion | ListsQuestion


class RecordRegion(_Strict):
    name: Name
    election: Uuid | None = Field(
        default=None, description="the region's election (chosen by the server if absent)"
    )
    weight: Fraction | None = Field(default=None, description="default 1")
    population: int | None = Field(default=None, ge=0)


class RecordTrustees(_Strict):
    names: list[Name] = Field(
        description="at least one; a poll's may be empty (the server's key alone)"
    )
    threshold: int | None = Field(default=None, ge=1, description="k of a k-of-n ceremony")
    hash: str | None = Field(
        default=None,
        pattern=_HEX256,
        description="the SHA256 of the trustees structure: set by the server when it opens",
    )


class Quorum(_Strict):
    turnout: Fraction | None = None
    approval: Fraction | None = None


class RegionsByCount(_Strict):
    count: int = Field(ge=1)


class RegionsByShare(_Strict):
    share: Fraction
    strict: bool | None = None
    by: Literal["weight", "population"] | None = None


class SimpleRule(_Strict):
    """A majority or a supermajority, over all the regions pooled or region by region."""

    type: Literal["majority", "supermajority"]
    question: int = Field(ge=0)
    answer: int = Field(ge=0)
    threshold: Fraction | None = Field(
        default=None, description="1/2 for a majority; above 1/2 (required) for a supermajority"
    )
    strict: bool | None = None
    quorum: Quorum | None = None
    scope: Literal["overall", "per-region"] | None = None


class DoubleMajorityRule(_Strict):
    """The test passes on the pooled counts and in enough regions."""

    type: Literal["double-majority"]
    question: int = Field(ge=0)
    answer: int = Field(ge=0)
    regions: RegionsByCount | RegionsByShare
    threshold: Fraction | None = None
    strict: bool | None = None
    quorum: Quorum | None = None


LanguageTag = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        max_length=35,
        description="a language tag: uk, en-GB",
    ),
]


class TranslatedQuestion(_Strict):
    question: Text
    answers: list[Text | list[Text]] = Field(
        description="as many as the original's, in its order (a Lists question: its rows)"
    )


class Translation(_Strict):
    """The record's texts in one language: its title, then each question in order."""

    title: Annotated[str, Field(min_length=1, max_length=1000)]
    questions: list[TranslatedQuestion]


Translations = dict[LanguageTag, Translation]


class ReferendumRecord(_Strict):
    """A referendum record (``plebiscite.protocol.referendum``)."""

    version: Literal[1]
    id: str = Field(pattern=_ID)
    title: Annotated[str, Field(min_length=1, max_length=1000)]
    questions: list[Question] = Field(min_length=1)
    regions: list[RecordRegion] = Field(min_length=1)
    trustees: RecordTrustees
    opening: UtcTime
    closing: UtcTime
    rule: SimpleRule | DoubleMajorityRule | None = Field(
        default=None, description="the decision rule; none: nothing decided, the counts alone"
    )
    kind: Literal["referendum", "poll"] | None = Field(
        default=None, description="a poll's regions are its shards (default referendum)"
    )
    assignment: Literal["sha256-mod"] | None = Field(
        default=None,
        description="a poll's: shard index = SHA-256(id, NUL, login) mod the shards",
    )
    language: LanguageTag | None = Field(
        default=None, description="the language of the record's texts"
    )
    translations: Translations | None = Field(
        default=None,
        description="the title, questions and answers in other languages, by language tag "
        "(part of the fingerprint; the elections keep the original texts)",
    )


# -- requests -----------------------------------------------------------------------------------


class ElectionSetup(_Strict):
    """An election's setup: each field the exact JSON text of that structure."""

    election: str = Field(description="the election (section 4.10), as JSON text")
    trustees: str = Field(description="the trustees (section 4.7), as JSON text")
    credentials: str = Field(description="the public credentials (section 4.8), as JSON text")


class Ballot(BaseModel):
    """A Belenios ballot (section 4.11), sent byte for byte: its SHA256 is its tracker."""

    model_config = ConfigDict(extra="forbid")

    election_uuid: Uuid
    election_hash: str = Field(description="the election's fingerprint")
    credential: str = Field(pattern=_ELEMENT, description="the voter's public credential")
    answers: list[dict[str, Any]] = Field(description="one encrypted answer per question")
    signature: dict[str, Any] = Field(description="{hash, proof}: signed by the credential")


class WeightedVoter(_Strict):
    login: Annotated[str, Field(min_length=1, max_length=256)]
    weight: int | None = Field(default=None, ge=1)


class VoterPool(_Strict):
    pool: int = Field(
        ge=1,
        le=1 << 22,
        description="a pool of this many credentials, one handed to each account that signs "
        "in (needs sign_in)",
    )


class ReferendumCreation(_Strict):
    referendum: ReferendumRecord
    voters: dict[
        str, list[Annotated[str, Field(min_length=1, max_length=256)] | WeightedVoter] | VoterPool
    ] = Field(description="for each region (by name): its voters, at least one, or a pool")
    sign_in: Literal["oidc"] | None = Field(
        default=None,
        description="the voters of the pool regions sign in with the server's OpenID Connect "
        "provider (plebiscite serve --oidc-issuer) to get their credential",
    )
    credential_authority: dict[str, Literal["server", "external"]] | None = Field(
        default=None, description="for each region: who makes its credentials (default server)"
    )
    voter_authentication: bool | None = Field(
        default=None, description="voters log in by one-time code (logins are e-mail addresses)"
    )
    group: Literal["Ed25519", "BELENIOS-2048", "RFC-3526-2048"] | None = Field(
        default=None,
        description="the group of the regions' elections: Ed25519 (the default: Belenios 3.x "
        "records), or BELENIOS-2048 or RFC-3526-2048 (the Belenios 2.0 record, which has no "
        "Lists question; BELENIOS-2048 homomorphic questions only)",
    )
    credential_delivery: Literal["mail"] | None = Field(
        default=None,
        description="'mail': the credentials of the regions whose authority is the server are "
        "made at creation and sent to the voters by e-mail (every such login an e-mail "
        "address; refused if the server has no outbox), each letter with the booth's link; "
        "neither the creation nor the opening returns them, and a voter's credential may be "
        "reissued until the opening",
    )


class AdminLogin(_Strict):
    name: Annotated[str, Field(max_length=256)]
    password: Annotated[str, Field(max_length=1024)]


class VoterRoll(_Strict):
    voters: list[str] | dict[str, str | None] = Field(
        description="the logins (e-mail addresses), or each login with its public credential"
    )


class CodeRequest(_Strict):
    login: Annotated[str, Field(min_length=1, max_length=254)]


class CodeLogin(_Strict):
    login: Annotated[str, Field(max_length=254)]
    code: Annotated[str, Field(max_length=64)]


class LinkLogin(_Strict):
    token: str = Field(description="the token of the message's link, after #login=")


class VoterLogin(RootModel[CodeLogin | LinkLogin]):
    """``{"login", "code"}`` or ``{"token"}``."""


class CeremonyMessage(_Open):
    """A message of the threshold key ceremony (certificate, polynomial, voutput), made by
    ``trustee-threshold`` or ``belenios-tool setup generate-trustee-key-threshold``."""


class Vinput(_Open):
    """A trustee's vinput (step 4 of the ceremony): its polynomial and the shares the other
    trustees sent it, encrypted to it."""

    polynomial: Any
    secrets: list[Any]
    coefexps: list[Any]


class EncryptedKey(_Open):
    """A trustee's decryption key, encrypted to itself (the ``private_key`` of its voutput,
    the ``.dkey`` file)."""


class PartialDecryption(_Open):
    """A trustee's partial decryption of a region's tally (``trustee decrypt``)."""

    decryption_factors: list[Any]
    decryption_proofs: list[Any]


class ShuffleMessage(_Open):
    """A shuffle of the ciphertexts of ``shuffle-input`` (``trustee shuffle``)."""

    ciphertexts: list[Any]
    proofs: list[Any]


class PublicCredentials(RootModel[list[str]]):
    """The public credential list: ``credential[,weight[,login]]``, one per voter."""


# -- answers: elections --------------------------------------------------------------------------


class ServerKey(_Open):
    key: str = Field(description="the server's Ed25519 public key (base64)")


class ReportQuestion(_Open):
    question: str
    answers: list[str]
    homomorphic: bool
    min: int | None = None
    max: int | None = None
    blank: bool | None = None


class ElectionSummary(_Open):
    """An election's status, recomputed by the server's verifier."""

    uuid: str
    name: str | None
    status: str = Field(
        description="empty, setup, open, closed, tallied, shuffling, shuffled, decrypting, done"
    )
    height: int | None
    last_event: str | None
    ballots: int
    voters: int
    voted: int
    turnout: float
    result: list[Any] | None
    questions: list[ReportQuestion]
    valid: bool


class ElectionList(RootModel[list[ElectionSummary]]):
    pass


class BallotOnBoard(_Open):
    tracker: str = Field(description="the smart ballot tracker (the ballot's SHA256)")
    height: int = Field(description="its place on the board")


class Checkpoint(_Open):
    election: str
    hash: str
    height: int
    phase: str
    previous: str | None
    time: UtcTime


class SignedCheckpoint(_Open):
    checkpoint: Checkpoint
    key: str
    signature: str


class CheckpointList(RootModel[list[SignedCheckpoint]]):
    pass


class BoxEntry(_Open):
    tracker: str = Field(description="the smart ballot tracker (43 characters of Base64)")
    height: int = Field(description="its place on the board")
    status: Literal["counted", "replaced"] = Field(
        description="counted: the last ballot of its credential so far; replaced: a later "
        "ballot of the same credential is on the board"
    )
    replaced_by: int | None = Field(description="the height of the replacing ballot")
    time: UtcTime | None = Field(description="null: the board records no time per ballot")


class BoxQuery(_Open):
    after: int | None
    before: int | None
    limit: int
    tracker: str | None


class BoxAfter(_Open):
    after: int


class BoxBefore(_Open):
    before: int


class BallotBox(_Open):
    """A page of the public ballot box."""

    election: str
    height: int | None = Field(description="the board's height (its last event)")
    ballots: int = Field(description="every ballot on the board")
    counted: int = Field(description="the ballots counted so far (one per credential)")
    checkpoint: SignedCheckpoint | None = Field(description="the board's last signed checkpoint")
    query: BoxQuery = Field(description="the page asked for")
    entries: list[BoxEntry] = Field(description="the ballots of the page, by height")
    next: BoxAfter | None = Field(description="the next page's parameters, if there is one")
    previous: BoxBefore | None = Field(description="the previous page's, if there is one")


class CredentialOnBoard(_Open):
    election: str
    name: str | None
    credential: str
    voted: bool = Field(description="a ballot of this credential is on the board")


class VotingRefusal(_Open):
    code: str = Field(description="voting_closed or not_yet_open")
    message: str


class VotingRegion(_Open):
    name: str
    election: str


class VotingReferendum(_Open):
    id: str
    kind: Literal["referendum", "poll"]
    title: str
    region: str
    regions: list[VotingRegion]
    language: str | None = Field(description="the language of the record's texts")
    translations: dict[str, Translation] = Field(
        description="the record's texts in other languages, for the booth"
    )


class Voting(_Open):
    election: str
    name: str | None
    status: str
    accepting: bool = Field(description="a ballot cast now is taken")
    refusal: VotingRefusal | None
    opening: UtcTime | None
    closing: UtcTime | None
    closed_at: UtcTime | None = Field(description="when the organiser closed voting")
    now: UtcTime = Field(description="the server's time")
    referendum: VotingReferendum | None


class ElectionJson(_Open):
    """The election (section 4.10), the exact text of the board's Setup."""

    version: int
    description: str
    name: str
    group: str
    public_key: str
    questions: list[Any]
    uuid: str
    administrator: str | None = None
    credential_authority: str | None = None


# -- answers: referendums -----------------------------------------------------------------------


class TrusteeLink(_Open):
    index: int
    name: str
    owner: int = Field(description="its owner number on the boards (the server is 1)")
    token: str = Field(description="its link token, shown this once")


class CreatedRegion(_Open):
    name: str
    election: str
    authority: Literal["server", "external"]
    authority_token: str | None = Field(
        default=None, description="the external credential authority's link token, shown once"
    )


class CreatedReferendum(_Open):
    id: str
    record: ReferendumRecord
    group: str
    voter_authentication: bool
    trustees: list[TrusteeLink]
    threshold: int
    regions: list[CreatedRegion]
    credential_delivery: Literal["mail"] | None = Field(
        default=None, description="present when the credentials are sent by mail"
    )


class PrivateCredential(_Open):
    login: str
    weight: int
    credential: str


class OpenedRegion(_Open):
    name: str
    election: str
    archive: str
    credentials: list[PrivateCredential] | None = Field(
        description="the voters' private credentials where the server made them: this once "
        "(null where they were sent by mail)"
    )


class OpenedReferendum(_Open):
    id: str
    record: ReferendumRecord
    fingerprint: str
    regions: list[OpenedRegion]


class CeremonyTrustee(_Open):
    index: int
    name: str
    owner: int
    certificate: str | None = Field(description="the id of its certificate, once sent")
    polynomial: bool
    voutput: bool


class CeremonyStatus(_Open):
    phase: Literal["certificates", "polynomials", "voutputs", "done"]
    threshold: int
    trustees: list[CeremonyTrustee]
    certificates: str | None
    threshold_parameters: dict[str, Any] | None
    server_key: dict[str, Any]
    trustees_hash: str | None
    error: str | None


class ShuffleStatus(_Open):
    questions: list[int]
    server: bool
    by: list[int]
    needed: int
    done: bool
    open: bool


class PoolStatus(_Open):
    size: int = Field(description="the credentials of the pool (all on the board)")
    assigned: int | None = Field(description="how many were given to signed-in accounts")
    holder: Literal["server"]
    powers: str = Field(description="who holds which power over the pool, in words")


class RegionStatus(_Open):
    name: str
    election: str
    credential_authority: Literal["server", "external"]
    credentials_ready: bool
    roll: int
    sign_in: Literal["oidc"] | None = None
    pool: PoolStatus | None = None
    status: str = Field(description="not-opened, or the status of the region's board")
    height: int | None = None
    ballots: int | None = None
    voted: int | None = None
    turnout: float | None = None
    result: list[Any] | None = None
    valid: bool | None = None
    archive: str | None = None
    decrypted_by: list[int] | None = None
    shuffles: ShuffleStatus | None = None


class Count(_Open):
    yes: int
    valid: int
    blank: int
    voted: int
    roll: int
    share: str | None
    turnout: str | None


class PooledCount(Count):
    verdict: str


class Counts(_Open):
    """The counts under no decision rule (a poll's)."""

    result: list[Any] = Field(description="each question's result, as the election's")
    shares: list[list[Fraction | None] | None] = Field(
        description="each homomorphic answer's share of its question's valid votes (blank "
        "not counted), exact; null for other questions"
    )
    voted: int
    roll: int
    turnout: Fraction | None


class RegionOutcome(_Open):
    name: str
    election: str
    verdict: Literal["passed", "failed", "quorum-not-met", "not-tallied"] | None = Field(
        description="null: no decision rule"
    )
    count: Count | None
    reason: str
    counts: Counts | None = Field(default=None, description="with no decision rule")


class Outcome(_Open):
    referendum: str = Field(description="the fingerprint of the referendum record")
    verdict: Literal["passed", "failed", "quorum-not-met", "not-tallied"] | None = Field(
        description="null: no decision rule, every region counted"
    )
    regions: list[RegionOutcome]
    pooled: PooledCount | None
    explanation: str
    pooled_counts: Counts | None = Field(
        default=None, description="with no decision rule: every region's counts pooled"
    )


class ReferendumStatus(_Open):
    id: str
    title: str
    phase: Literal["ceremony", "ready", "open", "decrypting", "done"]
    record: ReferendumRecord
    fingerprint: str
    group: str
    voter_authentication: bool
    credential_delivery: Literal["mail"] | None = Field(
        default=None, description="present when the credentials are sent by mail"
    )
    sign_in: Literal["oidc"] | None = None
    ceremony: CeremonyStatus
    server_can_decrypt: bool = Field(
        description="no trustee (a poll's record may have none): the election key is the "
        "server's alone, and the server can decrypt every ballot"
    )
    regions: list[RegionStatus]
    outcome: Outcome | None
    record_board: str = Field(
        description="where the referendum's record board is downloaded (its record, opening, "
        "close and signed outcome: plebiscite.protocol.record)"
    )
    close_error: str | None = Field(
        default=None,
        description="present while the close failed (the encrypted tally could not be "
        "computed, the database failed): why; the server's closer tries again",
    )


class LetterCounts(_Open):
    pending: int = Field(description="not sent yet (being sent, or to be tried again)")
    sent: int
    failed: int = Field(description="refused for good, or failed at every attempt")
    cancelled: int = Field(description="replaced by a reissued credential's letter")


class LetterState(_Open):
    id: str = Field(description="the letter's key (the after of the next page)")
    to: str = Field(description="the voter's e-mail address")
    label: str = Field(description="the voter's region")
    state: Literal["pending", "sent", "failed", "cancelled"]
    attempts: int
    error: str | None = Field(description="the kind of the last failure (smtp 550, ...)")
    sent: UtcTime | None = Field(description="when the outbox took it")


class LetterPage(_Open):
    id: str
    credential_delivery: Literal["mail"]
    counts: LetterCounts
    letters: list[LetterState]
    next: str | None = Field(description="the after of the next page; null: the last page")


class LettersResent(_Open):
    id: str
    resent: int = Field(description="how many failed letters are pending again")
    counts: LetterCounts


class ReissueRequest(_Strict):
    region: Name
    login: Annotated[str, Field(min_length=1, max_length=256)]


class PollReissueRequest(_Strict):
    login: Annotated[str, Field(min_length=1, max_length=256)]


class PollReissued(_Open):
    id: str
    shard: str
    login: str
    job: str = Field(description="the letter job of the new credential")
    counts: LetterCounts


class PollSignIn(_Open):
    issuer: str | None = Field(
        description="the OpenID Connect provider the voters sign in with (None: this server "
        "has none configured now)"
    )


class PollPoolStatus(_Open):
    shard: str
    size: int = Field(description="the shard's credentials, made at the opening (public)")
    handed_out: int = Field(description="how many were handed to accounts that signed in")


class PollVotersStatus(_Open):
    mode: Literal["list", "open"] = Field(
        description="'list': the voters listed at creation; 'open': whoever signs in"
    )
    delivery: Literal["mail", "organiser", "sign_in"] = Field(
        description="how the credentials reach the voters: by mail, through the organiser, "
        "or handed out to the accounts that sign in (an open poll)"
    )
    count: int = Field(
        description="the voters on the list, or an open poll's credentials (the most ballots "
        "counted)"
    )
    login_codes: bool
    sign_in: PollSignIn | None = Field(default=None, description="an open poll's sign-in")
    pools: list[PollPoolStatus] | None = Field(
        default=None, description="an open poll's credentials, shard by shard"
    )


class Reissued(_Open):
    id: str
    region: str
    login: str
    job: str = Field(description="the letter job of the new credential")
    counts: LetterCounts


class ReferendumSummary(_Open):
    id: str
    title: str
    phase: Literal["ceremony", "ready", "open", "decrypting", "done"]


class ReferendumList(RootModel[list[ReferendumSummary]]):
    pass


class RegionTally(_Open):
    election: str
    fingerprint: str
    encrypted_tally: list[Any]


class ShuffleInput(_Open):
    election: str
    fingerprint: str
    public_key: str
    questions: list[int]
    ciphertexts: list[Any]
    shuffles: ShuffleStatus


class RollEntry(_Open):
    login: str
    weight: int


class RegionVoters(_Open):
    election: str
    group: str
    voters: list[RollEntry]
    weighted: bool


class TurnoutRegion(_Open):
    name: str
    election: str
    roll: int
    samples: list[list[int]] = Field(description="[time, height, voted, ballots] samples")


class Turnout(_Open):
    id: str
    now: int
    regions: list[TurnoutRegion]


# -- answers: sessions, voter authentication ------------------------------------------------------


class AdminSession(_Open):
    token: str = Field(description="the session token, shown once")
    name: str
    expires: UtcTime


class CurrentAdmin(_Open):
    name: str | None
    bootstrap: bool
    expires: UtcTime | None


class Ended(_Open):
    ended: bool


class VoterRollSet(_Open):
    election: str
    required: bool
    voters: int


class VoterAuthentication(_Open):
    required: bool
    codes: bool


class CodeAccepted(_Open):
    status: Literal["accepted"]
    message: str


class VoterSession(_Open):
    token: str
    expires: int = Field(description="Unix time in seconds")


# -- polls (plebiscite.service.poll) -------------------------------------------------------------


class PollPool(_Strict):
    pool: int = Field(ge=1, description="credentials handed out at sign-in")


class PollVoters(_Strict):
    emails: list[Annotated[str, Field(min_length=3, max_length=254)]] | None = Field(
        default=None, description="the voters' e-mail addresses (their logins), at least one"
    )
    login_codes: bool | None = Field(
        default=None,
        description="voters log in by a one-time code sent to their address (needs an outbox)",
    )
    open: PollPool | None = Field(
        default=None,
        description="whoever signs in with the identity provider (not available unless one "
        "is configured)",
    )
    delivery: Literal["mail", "organiser"] | None = Field(
        default=None,
        description="how the credentials reach the voters: 'mail' (each voter is sent theirs; "
        "the default when the server has an outbox) or 'organiser' (returned once in the "
        "creation's answer)",
    )


class PollTrustees(_Strict):
    names: list[Name]
    threshold: int | None = Field(default=None, ge=1)


class PollCreation(_Strict):
    """A poll in one request (give ``question`` and ``answers``, or ``questions``)."""

    question: Text | None = None
    answers: list[Text] | None = Field(default=None, min_length=2)
    questions: list[Question] | None = Field(
        default=None, description="full questions, in the referendum record's shape"
    )
    title: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None, description="the question by default"
    )
    opening: UtcTime | Literal["now"] | None = Field(default=None, description="now by default")
    closing: UtcTime
    voters: PollVoters
    trustees: PollTrustees | None = Field(
        default=None,
        description="none: the election key is the server's alone (it can decrypt every "
        "ballot), and the poll opens at once",
    )
    shard_size: int | None = Field(
        default=None, ge=1, description="voters per shard, at most the server's"
    )
    language: LanguageTag | None = Field(
        default=None, description="the language of the texts above"
    )
    translations: Translations | None = Field(
        default=None,
        description="the title, questions and answers in other languages, by language tag, "
        "as in the referendum record",
    )


class PollShard(_Open):
    name: str
    election: str
    booth: str
    archive: str | None
    status: str
    roll: int
    ballots: int
    voted: int


class PollShardCounts(Counts):
    name: str
    election: str


class PollResult(_Open):
    shards: list[PollShardCounts]
    pooled: Counts
    explanation: str


class PollPowers(_Open):
    server_can_decrypt: bool
    summary: str = Field(description="who holds the election key")
    credentials: str = Field(description="who made the credentials and who holds them")


class PollStatus(_Open):
    id: str
    title: str
    questions: list[Question]
    language: str | None = Field(description="the language of the texts, when stated")
    translations: dict[str, Translation] = Field(
        description="the texts in other languages (the record's)"
    )
    state: Literal["ceremony", "scheduled", "open", "counting", "closed"]
    phase: Literal["ceremony", "ready", "open", "decrypting", "done"]
    opening: str
    closing: str
    closed_at: str | None
    share_link: str
    qr: str = Field(description="the share link's QR code (SVG)")
    login_codes: bool
    voters: PollVotersStatus
    vote_link: str | None = Field(
        description="an open poll's sign-in link, {base}/signin/poll/ID (a voter signs in "
        "there and lands in the booth with their credential); None for a list's voters, who "
        "use the link they were given"
    )
    trustees: dict[str, Any]
    powers: PollPowers = Field(description="who holds which power, in plain words")
    assignment: dict[str, str] = Field(description="the public rule of the voters' shards")
    shards: list[PollShard]
    turnout: dict[str, Any]
    result: PollResult | None = Field(description="once closed and counted")
    record_board: str
    referendum: str = Field(description="the poll as the referendum it is")
    fingerprint: str


class PollCredential(_Open):
    login: str
    shard: str
    election: str
    credential: str
    booth: str = Field(description="the voter's booth, the credential in the link's fragment")


class CreatedPoll(_Open):
    id: str
    share_link: str
    poll: PollStatus
    trustees: list[TrusteeLink] = Field(description="each trustee's link token, shown once")
    credentials: list[PollCredential] = Field(
        description="the voters' private credentials, shown this once (none when they go by "
        "mail, or for an open poll: the server hands them out at sign-in)"
    )


class PollSummary(_Open):
    id: str
    title: str
    state: str
    opening: str
    closing: str


class PollList(RootModel[list[PollSummary]]):
    pass


class PollOptions(_Open):
    mail: bool = Field(description="whether the server mails the voters' credentials")
    sign_in: list[str] = Field(description="the identity providers of open polls ('oidc')")
    max_shard_size: int = Field(description="the most voters in one shard")


# -- the OpenAPI pieces ---------------------------------------------------------------------------

_MODELS: dict[str, type[BaseModel]] = {}


def ref(model: type[BaseModel]) -> dict[str, Any]:
    """A reference to ``model`` in ``components/schemas`` (which :func:`definitions` fills)."""
    _MODELS[model.__name__] = model
    return {"$ref": REF.format(model=model.__name__)}


def definitions() -> dict[str, Any]:
    """The JSON schemas of the models :func:`ref` named, and of the models they use."""
    out: dict[str, Any] = {}
    for name, model in list(_MODELS.items()):
        schema = model.model_json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[name] = schema
    return out


def body(
    json: type[BaseModel] | None = None,
    *,
    text: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The ``openapi_extra`` of a route with a required request body: JSON described by the
    model ``json``, and/or ``text/plain`` (``text`` says what the text holds)."""
    content: dict[str, Any] = {}
    if json is not None:
        content["application/json"] = {"schema": ref(json)}
    if text is not None:
        content["text/plain"] = {"schema": {"type": "string", "description": text}}
    out: dict[str, Any] = {"required": True, "content": content}
    if description is not None:
        out["description"] = description
    return {"requestBody": out}


_ERRORS = {
    401: "the token (administrator, trustee, authority or voter session) missing or wrong",
    403: "refused: a cross-origin write, or a token acting for another party",
    404: "no such election, referendum, region, trustee or ballot",
    409: "not now: the election's or referendum's state forbids it, or it exists already",
    413: "the body is too large (refused before it is parsed)",
    422: "the body is refused: not the expected structure, or it does not verify",
    429: "rate limited, or too many requests in flight from the client's address "
    "(``Retry-After`` says when to try again)",
    500: "the server's own work failed its checks: nothing was published",
    503: "the database failed, the server lacks what this needs or has too many open "
    "connections: try again later",
}


def answers(
    status: int,
    answer: type[BaseModel] | None,
    description: str,
    *errors: int,
    content: dict[str, Any] | None = None,
    typed_params: bool = False,
) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route: its answer (``status``, the model ``answer`` or the
    media ``content``) and the error answers of ``errors``. ``typed_params``: a path
    parameter is an integer, so a 422 ``bad_parameter`` may answer any request."""
    out: dict[int | str, dict[str, Any]] = {}
    ok: dict[str, Any] = {"description": description}
    if answer is not None:
        ok["model"] = answer
    if content is not None:
        ok["content"] = content
    out[status] = ok
    for e in sorted(set(errors) | ({422} if typed_params else set())):
        out[e] = {"model": ErrorBody, "description": _ERRORS[e]}
    return out


#: the errors every write may give: the cross-origin refusal, the rate limit, the database
WRITE = (403, 429, 503)

#: the errors of every route, from :mod:`plebiscite.server.connections`: the time limits on
#: a request's headers and body, the requests in flight per address, the open connections
CONNECTIONS = {
    408: "the request's headers or body did not arrive within the server's time limit "
    "(``request_timeout``); the connection is closed",
    429: "rate limited, or too many requests in flight from the client's address "
    "(``too_many_connections``); ``Retry-After`` says when to try again",
    503: "the database failed, or the server has too many open connections (``busy``): "
    "try again later",
}


def connection_errors(responses: dict[str, Any]) -> None:
    """Add the errors of :data:`CONNECTIONS` to an operation's ``responses`` (of
    ``/openapi.json``) that does not declare them."""
    for status, description in CONNECTIONS.items():
        responses.setdefault(
            str(status),
            {
                "description": description,
                "content": {"application/json": {"schema": ref(ErrorBody)}},
            },
        )
