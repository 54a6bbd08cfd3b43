"""Rewrite election archives the way an attacker who controls the board would.

An archive is loaded as a list of members; a change to one member's content is propagated: every
later member that refers to its hash (setup data, events, the chain of parents) is rewritten and
re-hashed, so the only thing wrong with the result is the change itself.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plebiscite.protocol.archive import iter_members, member_bytes


@dataclass
class Entry:
    kind: str  # header, data, event
    content: bytes
    mtime: int

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def name(self) -> str:
        return "BELENIOS" if self.kind == "header" else f"{self.hash}.{self.kind}.json"


class Archive:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries

    @classmethod
    def load(cls, path: Path) -> Archive:
        with path.open("rb") as f:
            return cls([Entry(m.kind, m.content, m.mtime) for m in iter_members(f)])

    def to_bytes(self) -> bytes:
        return b"".join(member_bytes(e.name, e.content, e.mtime) for e in self.entries)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.to_bytes())
        return path

    def copy(self) -> Archive:
        return Archive([Entry(e.kind, e.content, e.mtime) for e in self.entries])

    # -- finding things ----------------------------------------------------------------------
    def events(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, json.loads(e.content)) for i, e in enumerate(self.entries) if e.kind == "event"]

    def index_of_hash(self, h: str) -> int:
        for i, e in enumerate(self.entries):
            if e.kind != "header" and e.hash == h:
                return i
        raise KeyError(h)

    def payload_index(self, event_type: str, nth: int = 0) -> int:
        evs = [ev for _, ev in self.events() if ev["type"] == event_type]
        return self.index_of_hash(evs[nth]["payload"])

    def data(self, i: int) -> Any:
        return json.loads(self.entries[i].content)

    # -- changing things ---------------------------------------------------------------------
    def replace_content(self, i: int, content: bytes) -> Archive:
        """Replace member ``i`` and propagate its new hash to every later member."""
        mapping = {self.entries[i].hash: hashlib.sha256(content).hexdigest()}
        self.entries[i].content = content
        for e in self.entries[i + 1 :]:
            text = e.content.decode()
            old = e.hash
            for a, b in mapping.items():
                text = text.replace(a, b)
            if text.encode() != e.content:
                e.content = text.encode()
                mapping[old] = e.hash
        return self

    def edit(self, i: int, fn: Callable[[Any], Any]) -> Archive:
        value = fn(json.loads(self.entries[i].content))
        return self.replace_content(i, json.dumps(value, separators=(",", ":")).encode())

    def remove_event(self, nth_event: int) -> Archive:
        """Delete an event (and its payload), then renumber and re-chain the events after it."""
        i, ev = self.events()[nth_event]
        drop = {i}
        if "payload" in ev:
            drop.add(self.index_of_hash(ev["payload"]))
        self.entries = [e for k, e in enumerate(self.entries) if k not in drop]
        return self.rechain()

    def rechain(self) -> Archive:
        """Rewrite heights and parents of all events in order, as a dishonest board would."""
        height = 0
        parent: str | None = None
        for e in self.entries:
            if e.kind != "event":
                continue
            obj = json.loads(e.content)
            new: dict[str, Any] = {}
            if parent is not None:
                new["parent"] = parent
            new["height"] = height
            new["type"] = obj["type"]
            if "payload" in obj:
                new["payload"] = obj["payload"]
            e.content = json.dumps(new, separators=(",", ":")).encode()
            parent = e.hash
            height += 1
        return self


def open_bytes(data: bytes) -> Callable[[], io.BytesIO]:
    return lambda: io.BytesIO(data)


def member_header(name: str, size: int, mtime: int) -> bytes:
    """The tar header of a member ``name`` that declares ``size`` bytes of content (whatever
    follows it), its checksum right: what a board that lies about sizes would write."""
    header = bytearray(member_bytes(name, b"", mtime)[:512])
    header[124:136] = b"%011o\0" % size
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header)
