"""A real SMTP server for the tests: aiosmtpd on a free loopback port, in a thread of the test
process, keeping every message it accepts.

Recipients may be refused: ``refuse[address] = 550`` refuses that address at every try (a
permanent refusal), ``temporary[address] = N`` answers 451 to its first N tries, then accepts
it (``N < 0``: 451 for ever). Every try of a recipient is counted in ``tries``.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["Mailbox", "SmtpServer"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """What the server accepted and refused."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, int] = field(default_factory=dict)
    temporary: dict[str, int] = field(default_factory=dict)
    tries: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        box = self.box
        with box.lock:
            box.tries[address] += 1
            if address in box.refuse:
                return f"{box.refuse[address]} 5.1.1 no such mailbox"
            left = box.temporary.get(address, 0)
            if left != 0:
                box.temporary[address] = left - 1 if left > 0 else left
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.box.lock:
            self.box.messages.append(message)
        return "250 OK queued"


class SmtpServer:
    """aiosmtpd on a free port of 127.0.0.1 (:meth:`stop` to close it)."""

    def __init__(self) -> None:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # it logs every line
        self.box = Mailbox()
        self.port = _free_port()
        self.controller = Controller(_Handler(self.box), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait(self, count: int, timeout: float = 60.0) -> list[EmailMessage]:
        """Wait until ``count`` messages are in: them all (AssertionError past ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.box.count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.box.count()} messages of {count} after {timeout} s")
            time.sleep(0.05)
        with self.box.lock:
            return list(self.box.messages)

    def stop(self) -> None:
        self.controller.stop()
