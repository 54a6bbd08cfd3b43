"""What the routes take from the application: the domain services it was made with
(:func:`plebiscite.server.app.create_app` sets them once)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request

if TYPE_CHECKING:
    from plebiscite.board.private import PrivateStore
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.service.election import Elections
    from plebiscite.service.poll import Polls
    from plebiscite.service.referendum import Referendums

__all__ = ["elections_of", "key_of", "polls_of", "referendums_of", "store_of"]


def elections_of(request: Request | FastAPI) -> Elections:
    app = request.app if isinstance(request, Request) else request
    out: Elections = app.state.elections
    return out


def referendums_of(request: Request | FastAPI) -> Referendums:
    app = request.app if isinstance(request, Request) else request
    out: Referendums = app.state.referendums
    return out


def polls_of(request: Request | FastAPI) -> Polls:
    app = request.app if isinstance(request, Request) else request
    out: Polls = app.state.polls
    return out


def key_of(request: Request) -> SigningKey:
    out: SigningKey = request.app.state.key
    return out


def store_of(request: Request) -> PrivateStore:
    out: PrivateStore = request.app.state.private
    return out
