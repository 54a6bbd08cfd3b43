"""The refusals of the domain layer: what a request asked for cannot be done, and why.

Each carries a stable ``code`` (what clients test) and a message that says what was wrong and
where. The server maps each class to one HTTP status (:mod:`plebiscite.server.http`); nothing
here knows HTTP.
"""

from __future__ import annotations

from plebiscite.errors import PlebisciteError

__all__ = [
    "Forbidden",
    "Internal",
    "Invalid",
    "NotFound",
    "Refusal",
    "Refused",
    "Unauthorized",
    "Unavailable",
]


class Refusal(PlebisciteError):  # noqa: N818
    """A request of a party refused by the domain layer (its code set per instance)."""

    def __init__(self, code: str, message: str, *, where: str = "") -> None:
        super().__init__(message, where=where)
        self.code = code

    def at(self, where: str) -> PlebisciteError:
        new_where = f"{where}, {self.where}" if self.where else where
        return type(self)(self.code, self.message, where=new_where)


class NotFound(Refusal):
    """No such referendum, region, trustee, election, ballot."""


class Refused(Refusal):
    """Not now: the phase, the state of the board or of a record does not allow it, or it
    exists already."""


class Unauthorized(Refusal):
    """The credential that would allow it (a link token, a session) is missing or wrong."""


class Forbidden(Refusal):
    """A valid credential, but of another party."""


class Invalid(Refusal):
    """The request's content is refused."""


class Unavailable(Refusal):
    """A party the server depends on (an identity provider) cannot be reached or answered
    nonsense: nothing was done, try again later."""


class Internal(Refusal):
    """The server's own work came out wrong (a bug): nothing was published."""
