"""A client library for every party of an election over HTTP.

Each party is one object over an ``httpx.Client`` (or the server's URL) holding only its own
secrets: :class:`Administrator`, :class:`Trustee`, :class:`CredentialAuthority`,
:class:`Voter`, and :class:`Observer` for anyone (every party is an observer too). The paths
of the server are named in :mod:`plebiscite.client.routes`.

The errors::

    PartyError                      the server refused: HTTP status, its code, its message
    plebiscite.errors.ConsistencyError   what the server served is not what the party checked
                                         (the archive does not verify, the tally is not the board's)
    plebiscite.errors.StateError    a step out of order on the party's side
    httpx.HTTPError                 the server could not be reached, or did not answer in time

This package imports :mod:`plebiscite.crypto`, :mod:`plebiscite.protocol` and
:mod:`plebiscite.errors` only, never the server.
"""

from __future__ import annotations

from plebiscite.client import routes
from plebiscite.client._http import DEFAULT_TIMEOUT, Party, PartyError, connect
from plebiscite.client.parties import (
    Administrator,
    CredentialAuthority,
    Observer,
    Trustee,
    Voter,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Administrator",
    "CredentialAuthority",
    "Observer",
    "Party",
    "PartyError",
    "Trustee",
    "Voter",
    "connect",
    "routes",
]
