"""A small progress line for terminals."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.done = 0
        self.start = time.monotonic()
        self.last = 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            self.stream.write(f"\r{self.label}: {self.done} ({rate:.0f}/s)")
            self.stream.flush()

    def close(self) -> None:
        if self.done:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
