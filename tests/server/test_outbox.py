"""The outbox: messages as files (local) or through SMTP (against a small fake SMTP server),
and never a message's body in a log, an error or a repr."""

from __future__ import annotations

import base64
import email
import email.policy
import logging
import os
import socketserver
import stat
import threading

import anyio
import pytest

from plebiscite.server.outbox import LocalOutbox, Message, OutboxError, SmtpOutbox, outbox_from
from readonly import immutable

SECRET = "K7Q2M-9XWTR"
MESSAGE = Message(to="voter@example.org", subject="Your voting code", body=f"code {SECRET}\n")


def send(outbox, message=MESSAGE):
    anyio.run(outbox.send, message)


def test_a_local_outbox_writes_one_private_file_per_message(tmp_path):
    d = tmp_path / "outbox"
    outbox = LocalOutbox(d, sender="poll@example.org")
    send(outbox)
    send(outbox, Message("other@example.org", "Hello", "second"))
    files = sorted(d.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary file left
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    m = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert m["To"] == "voter@example.org" and m["From"] == "poll@example.org"
    assert m["Subject"] == "Your voting code" and SECRET in m.get_content()
    assert SECRET not in repr(MESSAGE) and SECRET not in repr(outbox)


def test_a_local_outbox_that_cannot_write_says_so_without_the_message(tmp_path, caplog):
    d = tmp_path / "outbox"
    outbox = LocalOutbox(d)
    with immutable(d):  # not chmod: root would write anyway
        assert not os.access(d, os.W_OK)
        with pytest.raises(OutboxError) as e:
            send(outbox)
    assert SECRET not in str(e.value) and SECRET not in caplog.text
    assert list(d.iterdir()) == []


# -- SMTP ----------------------------------------------------------------------------------------


class FakeSmtp(socketserver.ThreadingTCPServer):
    """Just enough SMTP: EHLO (AUTH PLAIN, STARTTLS if ``tls``), AUTH, MAIL, RCPT, DATA."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, refuse_rcpt: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse_rcpt = refuse_rcpt
        self.auth: list[str] = []
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"smtp://mailer:s3cret%21pass@127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        server: FakeSmtp = self.server  # type: ignore[assignment]
        self.reply("220 fake ESMTP")
        while line := self.rfile.readline():
            cmd = line.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-fake\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                server.auth.append(base64.b64decode(cmd.split()[2]).decode())
                self.reply("235 ok")
            elif verb == "MAIL":
                self.reply("250 ok")
            elif verb == "RCPT":
                self.reply("550 no such user" if server.refuse_rcpt else "250 ok")
            elif verb == "DATA":
                self.reply("354 go")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    data += chunk
                server.received.append(data)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb == "STARTTLS":
                self.reply("454 TLS not available")
            else:
                self.reply("502 unknown")


@pytest.fixture
def smtp():
    s = FakeSmtp()
    yield s
    s.stop()


def test_smtp_sends_with_authentication(smtp):
    outbox = SmtpOutbox(smtp.url, sender="poll@example.org")
    assert "s3cret" not in repr(outbox)
    send(outbox)
    assert smtp.auth == ["\0mailer\0s3cret!pass"]
    (data,) = smtp.received
    m = email.message_from_bytes(data[: -len(b".\r\n")], policy=email.policy.default)
    assert m["To"] == "voter@example.org" and SECRET in m.get_content()


def test_smtp_never_falls_back_to_clear_text(smtp, caplog):
    caplog.set_level(logging.DEBUG)
    outbox = SmtpOutbox(smtp.url, starttls=True)
    with pytest.raises(OutboxError) as e:
        send(outbox)
    assert smtp.received == [] and smtp.auth == []  # no password, no message sent
    assert SECRET not in str(e.value) and SECRET not in caplog.text
    assert "s3cret" not in str(e.value) and "s3cret" not in caplog.text


def test_smtp_failures_name_no_recipient_and_no_body(caplog):
    caplog.set_level(logging.DEBUG)
    s = FakeSmtp(refuse_rcpt=True)
    try:
        with pytest.raises(OutboxError) as e:
            send(SmtpOutbox(s.url))
    finally:
        s.stop()
    for text in (str(e.value), caplog.text):
        assert SECRET not in text and "voter@example.org" not in text and "s3cret" not in text
    # nobody listening
    with pytest.raises(OutboxError):
        send(SmtpOutbox("smtp://127.0.0.1:1", timeout=5))


def test_the_outbox_options():
    assert outbox_from() is None
    assert isinstance(outbox_from(smtp_url="smtps://u:p@mail.example.org"), SmtpOutbox)
    assert outbox_from(smtp_url="smtps://mail.example.org").target.port == 465
    for bad in ("http://mail.example.org", "smtp://", "smtp://host:port"):
        with pytest.raises(ValueError):
            outbox_from(smtp_url=bad)
    with pytest.raises(ValueError):
        outbox_from(directory="x", smtp_url="smtp://mail.example.org")
