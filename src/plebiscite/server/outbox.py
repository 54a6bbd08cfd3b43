"""The outbox: how the server sends a message to a person (a voter's one-time code).

Two implementations of :class:`Outbox`:

- :class:`LocalOutbox` writes each message as one file (RFC 5322, ``.eml``) in a directory,
  readable by its owner only (mode 0600, written under a temporary name then renamed, so a
  reader never sees half a message): for development and tests (``serve --outbox-dir DIR``).
- :class:`SmtpOutbox` hands each message to an SMTP server (``serve --smtp-url
  smtp://USER:PASSWORD@HOST:PORT``, STARTTLS with ``--smtp-starttls``, or ``smtps://`` for TLS
  from the start), with :mod:`smtplib` in a worker thread so the server never waits on it.

What is guaranteed: a message's body (which holds a one-time code or link) is never logged,
never part of an exception's text and never in a :class:`Message`'s ``repr``; the SMTP
password is not in :class:`SmtpOutbox`'s ``repr`` either. A failure is logged with the kind of
failure only, without the recipient (personal data) or the body; the :class:`OutboxError`
names it (``kind``) and says whether trying again may help (``permanent``: a 5xx answer of the
SMTP server). Nothing is retried here: a voter whose login code was lost asks for another, and
the credential letters (:mod:`plebiscite.service.letters`) retry on their own. :class:`Message`,
:class:`Outbox` and :class:`OutboxError` are the domain layer's
(:mod:`plebiscite.service.mail`), named here too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import anyio

from plebiscite.service.mail import DEFAULT_SENDER, Message, Outbox, OutboxError

__all__ = ["LocalOutbox", "Message", "Outbox", "OutboxError", "SmtpOutbox", "outbox_from"]

log = logging.getLogger("plebiscite.server.outbox")


class LocalOutbox:
    """Each message a file ``TIME-RANDOM.eml`` in ``directory`` (made 0700 if missing)."""

    def __init__(self, directory: str | os.PathLike[str], sender: str = DEFAULT_SENDER) -> None:
        self.directory = Path(directory)
        self.sender = sender
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def __repr__(self) -> str:
        return f"LocalOutbox({str(self.directory)!r})"

    def _write(self, message: Message) -> Path:
        data = bytes(message.to_email(self.sender))
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        tmp = self.directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            path = self.directory / f"{name}.eml"
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return path

    async def send(self, message: Message) -> None:
        try:
            await anyio.to_thread.run_sync(self._write, message)
        except OSError as e:
            log.warning("local outbox: a message could not be written (%s)", e.strerror)
            raise OutboxError(
                f"the local outbox could not write a message: {e.strerror}",
                kind=f"OSError {e.errno}" if e.errno else "OSError",
            ) from None


@dataclass(frozen=True)
class _SmtpTarget:
    host: str
    port: int
    tls: bool  # TLS from the start (smtps://)
    user: str | None
    password: str | None = field(repr=False)


def _parse_smtp_url(url: str) -> _SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("expected smtp://[USER:PASSWORD@]HOST[:PORT] or smtps://...")
    tls = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if tls else 25)
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number") from None
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return _SmtpTarget(parts.hostname, port, tls, user, password)


#: messages sent on one SMTP connection before it is closed
PER_CONNECTION = 100
#: idle connections kept at most
MAX_IDLE = 16
#: seconds an idle connection is kept
IDLE_SECONDS = 20.0


class SmtpOutbox:
    """Messages through an SMTP server; ``starttls`` upgrades a ``smtp://`` connection (and a
    server that cannot is an error, never a fallback to clear text). Certificates are checked
    against the system's authorities. A connection carries up to :data:`PER_CONNECTION`
    messages, kept idle between them for :data:`IDLE_SECONDS` at most (as many as are sent at
    once, up to :data:`MAX_IDLE`)."""

    def __init__(
        self,
        url: str,
        *,
        starttls: bool = False,
        sender: str = DEFAULT_SENDER,
        timeout: float = 30,
    ) -> None:
        self.target = _parse_smtp_url(url)
        self.starttls = starttls
        self.sender = sender
        self.timeout = timeout
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()
        self._idle: list[tuple[smtplib.SMTP, int, float]] = []
        if self.target.password is not None and not (self.target.tls or starttls):
            log.warning("SMTP: the password will cross the network in clear (no TLS)")

    def __repr__(self) -> str:
        t = self.target
        scheme = "smtps" if t.tls else "smtp"
        return f"SmtpOutbox('{scheme}://{t.host}:{t.port}', starttls={self.starttls})"

    def _tls(self) -> ssl.SSLContext:
        """The TLS context, made once (loading the system's authorities takes about 0.1 s, far
        longer than a message's whole exchange with a nearby server)."""
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        smtp: smtplib.SMTP
        if t.tls:
            smtp = smtplib.SMTP_SSL(t.host, t.port, timeout=self.timeout, context=self._tls())
        else:
            smtp = smtplib.SMTP(t.host, t.port, timeout=self.timeout)
        try:
            if self.starttls and not t.tls:
                smtp.starttls(context=self._tls())
            if t.user is not None:
                smtp.login(t.user, t.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _take(self) -> tuple[smtplib.SMTP, int] | None:
        """An idle connection kept from an earlier message (and how many it carried), unless
        it has rested longer than :data:`IDLE_SECONDS`."""
        now = time.monotonic()
        with self._lock:
            while self._idle:
                smtp, sent, since = self._idle.pop()
                if now - since < IDLE_SECONDS:
                    return smtp, sent
                self._quit(smtp)
        return None

    def _keep(self, smtp: smtplib.SMTP, sent: int) -> None:
        if sent >= PER_CONNECTION:
            self._quit(smtp)
            return
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append((smtp, sent, time.monotonic()))
                return
        self._quit(smtp)

    @staticmethod
    def _quit(smtp: smtplib.SMTP) -> None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _send(self, message: Message) -> None:
        """One message, on a connection kept from an earlier one when there is one (a server
        that closed it meanwhile: once more on a new connection), the connection kept for
        the next (at most :data:`PER_CONNECTION` messages each); a connection that failed
        otherwise is closed."""
        email = message.to_email(self.sender)
        kept = self._take()
        if kept is not None:
            smtp, sent = kept
            try:
                smtp.send_message(email)
            except smtplib.SMTPServerDisconnected:
                smtp.close()
            except BaseException:
                self._drop(smtp)
                raise
            else:
                self._keep(smtp, sent + 1)
                return
        smtp = self._connect()
        try:
            smtp.send_message(email)
        except BaseException:
            self._drop(smtp)
            raise
        self._keep(smtp, 1)

    def _drop(self, smtp: smtplib.SMTP) -> None:
        """A connection after a failure: closed (politely if the server still talks)."""
        self._quit(smtp)

    def close(self) -> None:
        """Close the connections kept."""
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp, _, _ in idle:
            self._quit(smtp)

    async def send(self, message: Message) -> None:
        try:
            await anyio.to_thread.run_sync(self._send, message)
        except smtplib.SMTPRecipientsRefused as e:  # every recipient refused: its code
            codes = [c for c, _ in e.recipients.values()] or [550]
            raise _refused(int(codes[0])) from None
        except smtplib.SMTPResponseException as e:
            raise _refused(e.smtp_code) from None
        except (smtplib.SMTPException, OSError) as e:
            kind = type(e).__name__
            log.warning("SMTP: a message could not be sent (%s)", kind)
            raise OutboxError(f"the message could not be sent ({kind})", kind=kind) from None


def _refused(code: int) -> OutboxError:
    log.warning("SMTP: the server refused a message (code %d)", code)
    return OutboxError(
        f"the SMTP server refused the message (code {code})",
        kind=f"smtp {code}",
        permanent=500 <= code < 600,
    )


def outbox_from(
    *,
    directory: str | None = None,
    smtp_url: str | None = None,
    starttls: bool = False,
    sender: str = DEFAULT_SENDER,
    timeout: float = 30,
) -> Outbox | None:
    """The outbox the server's options choose (None: no outbox, voters cannot get codes)."""
    if directory and smtp_url:
        raise ValueError("choose one outbox: a directory or an SMTP server")
    if directory:
        return LocalOutbox(directory, sender)
    if smtp_url:
        return SmtpOutbox(smtp_url, starttls=starttls, sender=sender, timeout=timeout)
    return None
