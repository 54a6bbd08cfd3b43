"""What the server keeps in memory for each election: a live verifier at the board's head,
the trackers on the board, the signed checkpoints, the live-feed subscribers."""

from __future__ import annotations

import asyncio
import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from plebiscite.board.base import Board, Head, Item, StoredMember
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.signing import SigningKey
from plebiscite.errors import StateError
from plebiscite.protocol.checkpoints import SignedCheckpoint, sign_checkpoint
from plebiscite.protocol.verifier import Verifier

__all__ = ["ElectionState", "now_iso"]


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _BoardStream(io.RawIOBase):
    """The board's archive as a readable stream (for the verifier's second passes)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self.buf:
            nxt = next(self.chunks, None)
            if nxt is None:
                return 0
            self.buf = nxt
        n = min(len(b), len(self.buf))
        b[:n] = self.buf[:n]
        self.buf = self.buf[n:]
        return n


@dataclass
class ElectionState:
    uuid: str
    board: Board
    key: SigningKey
    verifier: Verifier = field(init=False)
    head: Head = field(init=False)
    trackers: dict[str, int] = field(default_factory=dict)
    checkpoints: list[SignedCheckpoint] = field(default_factory=list)
    subscribers: set[asyncio.Queue[dict[str, Any]]] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.open_archive, name=self.uuid)
        report = self.verifier.run()
        if not report.valid:
            first = next(f for f in report.findings if f.severity == "error")
            raise StateError(f"the board of {self.uuid} does not verify: {first.describe()}")
        self.head = self.board.head(self.uuid)
        self.seq = -1
        pending: dict[str, bytes] = {}
        for m in self.board.members(self.uuid):
            self._index(m, pending)
        self.checkpoint()

    def _index(self, m: StoredMember, pending: dict[str, bytes]) -> None:
        """Keep the trackers of the ballots on the board and the last member number."""
        self.seq = m.seq
        if m.kind == "data":
            pending[m.hash] = m.content
            return
        if b'"type":"Ballot"' in m.content:
            payload = m.content.rsplit(b'"payload":"', 1)[1][:64].decode()
            self.trackers[h_json(pending[payload])] = self.head_height_of(m.content)
        pending.clear()

    @staticmethod
    def head_height_of(event: bytes) -> int:
        return int(event.split(b'"height":', 1)[1].split(b",", 1)[0])

    def open_archive(self) -> io.BufferedReader:
        return io.BufferedReader(_BoardStream(self.board.archive(self.uuid)))

    def checkpoint(self) -> SignedCheckpoint:
        """Sign the current head (on start-up, at each phase change, at intervals)."""
        assert self.head.height is not None and self.head.hash is not None
        cp = sign_checkpoint(
            self.key,
            election=self.uuid,
            height=self.head.height,
            hash=self.head.hash,
            time=now_iso(),
            phase=self.verifier.report.status,
            previous=self.checkpoints[-1] if self.checkpoints else None,
        )
        self.checkpoints.append(cp)
        return cp

    def append(self, items: list[Item]) -> Head:
        """Append to the board (compare-and-append on the head the verifier is at), then feed
        the verifier and the live feed. The caller holds :attr:`lock`."""
        head = self.board.append(self.uuid, self.head, items)
        pending: dict[str, bytes] = {}
        for m in self.board.members(self.uuid, after_seq=self.seq):
            self._index(m, pending)
            self.verifier.consume(m.kind, m.hash, m.content)
            if m.kind == "event":
                event = {
                    "height": self.head_height_of(m.content),
                    "hash": m.hash,
                    "type": m.content.split(b'"type":"', 1)[1].split(b'"', 1)[0].decode(),
                }
                for q in list(self.subscribers):
                    q.put_nowait(event)
        self.head = head
        return head

    def summary(self) -> dict[str, Any]:
        r = self.verifier.report
        return {
            "uuid": self.uuid,
            "name": r.name,
            "status": r.status,
            "height": self.head.height,
            "last_event": self.head.hash,
            "ballots": r.ballots,
            "voters": r.voters,
            "voted": len(self.verifier.last),
            "turnout": len(self.verifier.last) / r.voters if r.voters else 0.0,
            "result": r.result,
            "questions": r.questions,
            "valid": r.valid,
        }
