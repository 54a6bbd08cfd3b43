"""What the domain layer needs of an outbox: a :class:`Message` to one address, the
:class:`Outbox` protocol that sends it and the :class:`OutboxError` of a failed send.

The implementations (a directory of ``.eml`` files, an SMTP server) are the server's
(:mod:`plebiscite.server.outbox`); the credential letters (:mod:`plebiscite.service.letters`)
and the login codes use them through this protocol only.

A message's body holds secrets (a login code, a credential): it is never in a ``repr``, an
error's text or a log. An :class:`OutboxError` says what kind of failure it was
(:attr:`OutboxError.kind`: ``smtp 550``, ``ConnectionRefusedError``, ...) and whether trying
again may help (:attr:`OutboxError.permanent`: the SMTP server refused for good, a 5xx
answer), never the recipient or the body.
"""

from __future__ import annotations

import email.message
import email.utils
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["DEFAULT_SENDER", "Message", "Outbox", "OutboxError"]

DEFAULT_SENDER = "plebiscite@localhost"


class OutboxError(Exception):
    """A message could not be sent; the text never holds the message's body or recipient.

    ``kind``: a short name of the failure, fit for a log and for the organiser's view of a
    delivery (``smtp 451``, ``SMTPServerDisconnected``, ``OSError``); ``permanent``: the
    receiving side refused for good (trying again would fail the same way)."""

    def __init__(self, message: str, *, kind: str = "error", permanent: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    """One message to one address. ``body`` holds secrets: it is left out of the ``repr``."""

    to: str
    subject: str
    body: str = field(repr=False)

    def to_email(self, sender: str) -> email.message.EmailMessage:
        m = email.message.EmailMessage()
        m["From"] = sender
        m["To"] = self.to
        m["Subject"] = self.subject
        m["Date"] = email.utils.formatdate(usegmt=True)
        m["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2] or None)
        m["Auto-Submitted"] = "auto-generated"
        m.set_content(self.body)
        return m


class Outbox(Protocol):
    """Where the server's messages go. :meth:`send` returns once the message is handed over
    (written, or accepted by the SMTP server); it raises :class:`OutboxError` otherwise."""

    async def send(self, message: Message) -> None: ...
