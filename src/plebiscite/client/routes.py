"""Every path of the board server, named in one place.

The server's routes live in ``plebiscite.server`` (``routes/elections.py``,
``routes/referendums.py``, ``accounts.py``, ``voterauth.py``, ``dashboard.py``, ``web.py``);
this module builds the same paths from their parameters, each path segment quoted, so that no
client writes a path by hand. The names follow the resources: an election's board
(``election``, ``ballots``, ``archive``, ...), a referendum and its regions, a trustee's
messages of the key ceremony and of the tally, the sessions of administrators and voters, and
the pages a person opens in a browser.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

__all__ = [
    "ADMIN_PAGES",
    "DOCS",
    "ELECTIONS",
    "HEALTH",
    "OPENAPI",
    "POLLS",
    "POLL_OPTIONS",
    "REFERENDUMS",
    "SERVER_KEY",
    "SESSION",
    "SESSION_LOGOUT",
    "SIGN_IN_CALLBACK",
    "archive",
    "ballot",
    "ballot_box",
    "ballot_box_page",
    "ballots",
    "booth",
    "card",
    "certificate",
    "checkpoints",
    "close_election",
    "close_poll",
    "close_referendum",
    "credential",
    "dkey",
    "election",
    "election_events",
    "election_json",
    "letters",
    "login_code",
    "observe",
    "open_referendum",
    "partial_decryption",
    "poll",
    "poll_card",
    "poll_letters",
    "poll_page",
    "poll_qr",
    "poll_reissue",
    "poll_resend_failed",
    "polynomial",
    "referendum",
    "referendum_events",
    "referendum_record",
    "region",
    "region_credentials",
    "region_election",
    "region_shuffle_input",
    "region_tally",
    "region_voters",
    "reissue",
    "resend_failed",
    "segment",
    "shuffle",
    "sign_in",
    "sign_in_poll",
    "trustee",
    "turnout",
    "vinput",
    "voter_authentication",
    "voter_login",
    "voter_logout",
    "voting",
    "voutput",
]


def segment(value: str | int) -> str:
    """One path segment: every character that is not unreserved percent-encoded (``/``
    included), so that a region named ``"North/East"`` stays one segment."""
    return quote(str(value), safe="")


# -- the server ---------------------------------------------------------------------------------

HEALTH = "/healthz"
"""``GET``: ``ok`` once the server serves (and, with ``serve --demo``, the demo is set up)."""
SERVER_KEY = "/api/server-key"
"""``GET``: the Ed25519 key that signs the board checkpoints."""
OPENAPI = "/openapi.json"
DOCS = "/docs"

# -- election boards ----------------------------------------------------------------------------

ELECTIONS = "/api/elections"
"""``GET``: every election on the board; ``POST`` (administrator): start an election."""


def election(uuid: str) -> str:
    """``GET``: an election's status (board height, ballots, turnout, result)."""
    return f"{ELECTIONS}/{segment(uuid)}"


def election_json(uuid: str) -> str:
    """``GET``: the exact election JSON of the board's Setup."""
    return f"{election(uuid)}/election"


def archive(uuid: str) -> str:
    """``GET``: the election archive (``UUID.bel``), streamed."""
    return f"{election(uuid)}/archive"


def ballots(uuid: str) -> str:
    """``POST``: cast a ballot."""
    return f"{election(uuid)}/ballots"


def ballot(uuid: str, tracker: str) -> str:
    """``GET``: where the ballot with this smart ballot tracker is on the board."""
    return f"{ballots(uuid)}/{segment(tracker)}"


def ballot_box(uuid: str, **query: int | str | None) -> str:
    """``GET``: a page of the public ballot box; ``query``: ``after``, ``before``, ``limit``,
    ``tracker`` (those that are not None)."""
    given = {k: str(v) for k, v in query.items() if v is not None}
    return f"{election(uuid)}/ballot-box" + (f"?{urlencode(given)}" if given else "")


def credential(uuid: str, public: str) -> str:
    """``GET``: whether a public credential is on the board's list (or on which other)."""
    return f"{election(uuid)}/credentials/{segment(public)}"


def voting(uuid: str) -> str:
    """``GET``: whether the board takes ballots now, its voting hours and referendum."""
    return f"{election(uuid)}/voting"


def close_election(uuid: str) -> str:
    """``POST`` (administrator): close voting on a board."""
    return f"{election(uuid)}/close"


def checkpoints(uuid: str) -> str:
    """``GET``: the signed checkpoints of a board."""
    return f"{election(uuid)}/checkpoints"


def election_events(uuid: str) -> str:
    """``GET``: the live feed of a board (server-sent events)."""
    return f"{election(uuid)}/events"


# -- voters' sessions ---------------------------------------------------------------------------


def voter_authentication(uuid: str) -> str:
    """``GET``: whether voters must log in; ``POST`` (administrator): require it."""
    return f"{election(uuid)}/voter-authentication"


def login_code(uuid: str) -> str:
    """``POST`` ``{"login"}``: ask for a one-time login code."""
    return f"{election(uuid)}/login-code"


def voter_login(uuid: str) -> str:
    """``POST`` ``{"login", "code"}`` or ``{"token"}``: a voter session."""
    return f"{election(uuid)}/login"


def voter_logout(uuid: str) -> str:
    """``POST``: end the voter session of the bearer token."""
    return f"{election(uuid)}/logout"


# -- administrators' sessions -------------------------------------------------------------------

SESSION = "/api/session"
"""``POST`` ``{"name", "password"}``: sign in; ``GET``: the current session."""
SESSION_LOGOUT = f"{SESSION}/logout"
"""``POST``: end the administrator session of the bearer token."""

# -- referendums --------------------------------------------------------------------------------

REFERENDUMS = "/api/referendums"
"""``GET``: every referendum; ``POST`` (administrator): create one."""


def referendum(rid: str) -> str:
    """``GET``: a referendum's public status."""
    return f"{REFERENDUMS}/{segment(rid)}"


def referendum_record(rid: str) -> str:
    """``GET``: a referendum's record board (``RID.record.bel``), streamed."""
    return f"{referendum(rid)}/record"


def open_referendum(rid: str) -> str:
    """``POST`` (administrator): open every region."""
    return f"{referendum(rid)}/open"


def close_referendum(rid: str) -> str:
    """``POST`` (administrator): close voting in every region and tally."""
    return f"{referendum(rid)}/close"


def letters(rid: str) -> str:
    """``GET`` (administrator): the delivery of the credential letters
    (``?state=&after=&limit=``)."""
    return f"{referendum(rid)}/letters"


def resend_failed(rid: str) -> str:
    """``POST`` (administrator): the failed credential letters pending again."""
    return f"{referendum(rid)}/letters/resend-failed"


def reissue(rid: str) -> str:
    """``POST`` (administrator): a voter's credential reissued before the opening."""
    return f"{referendum(rid)}/voters/reissue"


def turnout(rid: str) -> str:
    """``GET``: the turnout over time in every region."""
    return f"{referendum(rid)}/turnout"


def card(rid: str, lang: str | None = None) -> str:
    """``GET``: the result card, a 1200×630 PNG (its words in ``lang``: en, uk or ru)."""
    path = f"{referendum(rid)}/card.png"
    return path if lang is None else f"{path}?lang={quote(lang, safe='')}"


def referendum_events(rid: str) -> str:
    """``GET``: the live feed of every region (server-sent events)."""
    return f"{referendum(rid)}/events"


def region(rid: str, name: str) -> str:
    """The prefix of a region's routes."""
    return f"{referendum(rid)}/regions/{segment(name)}"


def region_election(rid: str, name: str) -> str:
    """``GET``: a region's election JSON."""
    return f"{region(rid, name)}/election"


def region_tally(rid: str, name: str) -> str:
    """``GET``: a region's encrypted tally."""
    return f"{region(rid, name)}/tally"


def region_shuffle_input(rid: str, name: str) -> str:
    """``GET``: the ciphertexts the region's next shuffle takes."""
    return f"{region(rid, name)}/shuffle-input"


def region_voters(rid: str, name: str) -> str:
    """``GET`` (the region's external credential authority): the voter list."""
    return f"{region(rid, name)}/voters"


def region_credentials(rid: str, name: str) -> str:
    """``PUT`` (the region's external credential authority): the public credentials."""
    return f"{region(rid, name)}/credentials"


# -- polls --------------------------------------------------------------------------------------

POLLS = "/api/polls"
"""``GET``: every poll; ``POST`` (administrator): create one in one request."""


def poll(pid: str) -> str:
    """``GET``: a poll's public status."""
    return f"{POLLS}/{segment(pid)}"


def close_poll(pid: str) -> str:
    """``POST`` (administrator): close a poll now."""
    return f"{poll(pid)}/close"


def poll_qr(pid: str) -> str:
    """``GET``: the QR code of a poll's share link (SVG)."""
    return f"{poll(pid)}/qr.svg"


def poll_card(pid: str, lang: str | None = None) -> str:
    """``GET``: the poll's result card, a 1200×630 PNG (its words in ``lang``: en, uk or
    ru)."""
    path = f"{poll(pid)}/card.png"
    return path if lang is None else f"{path}?lang={quote(lang, safe='')}"


POLL_OPTIONS = f"{POLLS}/options"
"""``GET``: what the server offers a poll's creator (mail, sign-in, the largest shard)."""


def poll_letters(pid: str) -> str:
    """``GET`` (administrator): the delivery of a mail poll's credential letters."""
    return f"{poll(pid)}/letters"


def poll_resend_failed(pid: str) -> str:
    """``POST`` (administrator): a mail poll's failed credential letters pending again."""
    return f"{poll_letters(pid)}/resend-failed"


def poll_reissue(pid: str) -> str:
    """``POST`` (administrator): a new credential for a mail poll's voter (before the
    opening)."""
    return f"{poll(pid)}/voters/reissue"


# -- a trustee's messages -----------------------------------------------------------------------


def trustee(rid: str, index: int) -> str:
    """The prefix of trustee ``index``'s routes (its link token as bearer token)."""
    return f"{referendum(rid)}/trustees/{segment(index)}"


def certificate(rid: str, index: int) -> str:
    """``POST``: the trustee's certificate (ceremony step 1)."""
    return f"{trustee(rid, index)}/certificate"


def polynomial(rid: str, index: int) -> str:
    """``POST``: the trustee's polynomial (step 3)."""
    return f"{trustee(rid, index)}/polynomial"


def vinput(rid: str, index: int) -> str:
    """``GET``: the trustee's vinput (step 4's output for it)."""
    return f"{trustee(rid, index)}/vinput"


def voutput(rid: str, index: int) -> str:
    """``POST``: the trustee's voutput (step 5)."""
    return f"{trustee(rid, index)}/voutput"


def dkey(rid: str, index: int) -> str:
    """``GET``: the trustee's decryption key, encrypted to itself."""
    return f"{trustee(rid, index)}/dkey"


def shuffle(rid: str, index: int, name: str) -> str:
    """``POST``: the trustee's shuffle of a region's non-homomorphic ciphertexts."""
    return f"{trustee(rid, index)}/regions/{segment(name)}/shuffle"


def partial_decryption(rid: str, index: int, name: str) -> str:
    """``POST``: the trustee's partial decryption of a region's tally."""
    return f"{trustee(rid, index)}/regions/{segment(name)}/partial-decryption"


# -- pages --------------------------------------------------------------------------------------

ADMIN_PAGES = "/admin/"
"""The administrator's pages."""


def observe(rid: str) -> str:
    """The observer dashboard of a referendum."""
    return f"/observe/{segment(rid)}"


def poll_page(pid: str) -> str:
    """A poll's page (its share link)."""
    return f"/poll/{segment(pid)}"


def booth(uuid: str) -> str:
    """The voting booth of an election."""
    return f"/booth/{segment(uuid)}"


def ballot_box_page(uuid: str, tracker: str | None = None) -> str:
    """The public ballot box of an election (opened at the ballot ``tracker``, if given)."""
    page = f"/ballots/{segment(uuid)}"
    return page if tracker is None else f"{page}?{urlencode({'tracker': tracker})}"


def sign_in(uuid: str) -> str:
    """Where a voter of an open poll signs in for a credential of the election's pool (a
    redirect to the identity provider)."""
    return f"/signin/{segment(uuid)}"


def sign_in_poll(pid: str) -> str:
    """Where a voter of an open poll signs in for a credential of the poll (its ``vote_link``:
    the account gets its credential from its own shard)."""
    return f"/signin/poll/{segment(pid)}"


SIGN_IN_CALLBACK = "/signin/callback"
"""Where the identity provider sends the voter back (then to the booth)."""
