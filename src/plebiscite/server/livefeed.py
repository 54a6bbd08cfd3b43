"""The live feeds (server-sent events) of the boards, with a bounded queue per subscriber.

A subscriber's events wait in a queue of at most ``app.state.feed_queue`` events (default
:data:`FEED_QUEUE`) while its connection cannot take them (the client does not read: the
socket's buffers and uvicorn's are full). An event that finds the queue full drops the
subscriber: it is unsubscribed from every board, its connection is closed at once, discarding
what was still buffered for it (:func:`plebiscite.server.connections.abort_of`), and one line
is logged. The connection's buffers are small (4 KiB in uvicorn's transport and 4 KiB in the
kernel: :data:`plebiscite.server.connections.STREAM_BUFFER`), so a client that stops reading
fills its queue soon; one that reads, however slowly, never has more than the queue waiting.
The memory a subscriber holds is thus bounded whatever it does: the queue's events (a few
hundred bytes each) and the two buffers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from plebiscite.server.connections import abort_of, streaming
from plebiscite.service.election import ElectionState

__all__ = ["FEED_QUEUE", "LiveFeed", "stream"]

log = logging.getLogger("plebiscite.server.livefeed")

FEED_QUEUE = 256
"""Events that may wait for one subscriber (a few hundred bytes each) before it is dropped."""


class _Tap:
    """Subscribed to one board: passes each event on to the feed, with ``tag`` added."""

    def __init__(self, feed: LiveFeed, tag: dict[str, Any] | None) -> None:
        self.feed, self.tag = feed, tag

    def put_nowait(self, item: dict[str, Any]) -> None:
        self.feed.put_nowait({**self.tag, **item} if self.tag else item)


class LiveFeed:
    """One subscriber's bounded queue over one or more boards."""

    def __init__(self, request: Request, limit: int) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(limit)
        self.limit = limit
        self.dropped = False
        self._abort = abort_of(request.scope)
        streaming(request.scope)
        self._taps: list[tuple[ElectionState, _Tap]] = []

    def follow(self, state: ElectionState, tag: dict[str, Any] | None = None) -> None:
        tap = _Tap(self, tag)
        self._taps.append((state, tap))
        state.subscribe(tap)

    def close(self) -> None:
        for state, tap in self._taps:
            state.unsubscribe(tap)
        self._taps.clear()

    def put_nowait(self, item: dict[str, Any]) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped = True
            self.close()
            log.warning(
                "a live-feed subscriber left %d events unread: dropped, connection closed",
                self.limit,
            )
            if self._abort is not None:
                self._abort()


def stream(request: Request, feed: LiveFeed, keep_alive: float) -> StreamingResponse:
    """The server-sent events of ``feed``: a ``data:`` line per event, a comment every
    ``keep_alive`` seconds without one."""

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": plebiscite live feed\n\n"
            while not feed.dropped and not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(feed.queue.get(), timeout=keep_alive)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield f"data: {json.dumps(event)}\n\n".encode()
        finally:
            feed.close()

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


def feed_of(request: Request) -> LiveFeed:
    """A new feed for ``request`` with the app's queue bound."""
    limit: int = getattr(request.app.state, "feed_queue", FEED_QUEUE)
    return LiveFeed(request, limit)
