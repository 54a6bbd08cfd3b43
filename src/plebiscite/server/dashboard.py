"""Public API routes for the observer dashboard, beside the referendum API.

- ``GET /api/referendums/{rid}/turnout``: every region's turnout over time. The board records
  no times, so the server samples its boards (at most once a second, when one changed) from
  the moment it starts; the signed checkpoints carry the times of the phases.
- ``GET /api/referendums/{rid}/events``: one live feed (server-sent events) for every region of
  the referendum, each event ``{"region", "election", "height", "type", "hash"}``: a browser
  keeps only a few connections to one server, so a page follows all the regions on one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse

from plebiscite.protocol.phases import RegionPhase
from plebiscite.server import livefeed, schemas
from plebiscite.server.context import elections_of, referendums_of
from plebiscite.server.schemas import answers

__all__ = ["MAX_SAMPLES", "SAMPLE_EVERY", "router", "sample"]

#: Seconds between two looks at the boards; a sample is kept only when a board changed.
SAMPLE_EVERY = 1.0
#: Samples kept per election: past it, every other one is dropped (the first and last stay).
MAX_SAMPLES = 2000
KEEP_ALIVE = 15.0


def _samples(app: FastAPI) -> dict[str, list[list[int]]]:
    if not hasattr(app.state, "turnout_samples"):
        app.state.turnout_samples = {}
    out: dict[str, list[list[int]]] = app.state.turnout_samples
    return out


def sample(app: FastAPI) -> None:
    """One look at every board: keep ``[time, height, voted, ballots]`` of each that changed."""
    samples = _samples(app)
    now = int(time.time())
    for uuid, s in list(elections_of(app).states.items()):
        row = [now, s.head.height or 0, s.verifier.voted, s.verifier.report.ballots]
        series = samples.setdefault(uuid, [])
        if series and series[-1][1:] == row[1:]:
            continue
        if series and series[-1][0] == now:
            series[-1] = row
        else:
            series.append(row)
        if len(series) > MAX_SAMPLES:
            del series[1:-1:2]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    async def sampler() -> None:
        while True:
            with contextlib.suppress(Exception):  # a board mid-append: the next look will do
                sample(app)
            await asyncio.sleep(SAMPLE_EVERY)

    task = asyncio.create_task(sampler())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


router = APIRouter(prefix="/api/referendums", tags=["referendums"], lifespan=_lifespan)


async def _regions(rid: str, request: Request) -> list[dict[str, Any]]:
    status = await referendums_of(request).status(rid)
    out: list[dict[str, Any]] = status["regions"]
    return out


@router.get(
    "/{rid}/turnout",
    summary="Turnout over time in every region",
    responses=answers(200, schemas.Turnout, "every region's turnout over time", 404, 503),
)
async def turnout(rid: str, request: Request) -> dict[str, Any]:
    """For each region: its roll and the samples ``[time, height, voted, ballots]`` (Unix time
    in seconds, board height, voters who voted, ballots on the board), taken by the server at
    most once a second when the board changed, since the server started; the last sample is
    the board as it is now. The board itself records no times: the signed checkpoints
    (``GET /api/elections/UUID/checkpoints``) give the time of each phase."""
    regions = await _regions(rid, request)
    sample(request.app)
    samples = _samples(request.app)
    return {
        "id": rid,
        "now": int(time.time()),
        "regions": [
            {
                "name": reg["name"],
                "election": reg["election"],
                "roll": reg["roll"],
                "samples": samples.get(reg["election"], []),
            }
            for reg in regions
        ],
    }


@router.get(
    "/{rid}/events",
    summary="Live feed of every region",
    response_class=StreamingResponse,
    responses=answers(
        200,
        None,
        'server-sent events, each data line {"region", "election", "height", "type", "hash"}',
        404,
        503,
        content={"text/event-stream": {"schema": {"type": "string"}}},
    ),
)
async def events(rid: str, request: Request) -> StreamingResponse:
    """Server-sent events: one ``data:`` line per new event on the board of any region of the
    referendum, as ``{"region", "election", "height", "type", "hash"}``. Regions not opened yet
    have no board: follow ``GET /api/referendums/ID`` until the referendum opens."""
    regions = await _regions(rid, request)
    elections = elections_of(request)
    feed = livefeed.feed_of(request)
    for reg in regions:
        if reg["status"] != RegionPhase.NOT_OPENED and (s := elections.get(reg["election"])):
            feed.follow(s, {"region": reg["name"], "election": reg["election"]})
    return livefeed.stream(request, feed, keep_alive=KEEP_ALIVE)
