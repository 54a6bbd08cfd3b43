"""One party's connection to the board server: its HTTP client, its own token, the errors.

Every error of the server is JSON ``{"error": {"code", "message"}}``; :class:`Party` raises it
as :class:`PartyError` with the HTTP status, the server's stable code and its message.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import httpx

__all__ = ["DEFAULT_TIMEOUT", "Party", "PartyError", "connect"]

DEFAULT_TIMEOUT = 120.0
"""Seconds to wait for an answer: a ballot is answered after its durable commit, a closing
after every region's tally."""


class PartyError(Exception):
    """The server refused a party's request: the HTTP ``status``, the server's error ``code``
    (``"http"`` when the answer was not the server's JSON error) and its ``message``; ``str``
    of it names the request too."""

    def __init__(
        self, status: int, code: str, message: str, *, method: str = "", path: str = ""
    ) -> None:
        where = f"{method} {path}: " if method or path else ""
        super().__init__(f"{where}{message} (HTTP {status}, {code})")
        self.status, self.code, self.message = status, code, message
        self.method, self.path = method, path


def connect(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> httpx.Client:
    """An HTTP client for the server at ``url`` (``http://host:port``, no path)."""
    return httpx.Client(base_url=url.rstrip("/"), timeout=httpx.Timeout(timeout, connect=10.0))


def _refusal(r: httpx.Response, method: str, path: str) -> PartyError:
    try:
        err = r.json()["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http", r.text[:500] or r.reason_phrase
    return PartyError(r.status_code, code, message, method=method, path=path)


class Party:
    """One party's view of the server: an HTTP client (``http``, which may be replaced, for
    instance to go through another server process) and its own bearer ``token``, nothing
    else. ``http`` is an ``httpx.Client`` whose base URL is the server, or the server's URL
    (the party then makes its own client, closed by :meth:`disconnect` or ``with``)."""

    def __init__(
        self,
        http: httpx.Client | str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._owned = isinstance(http, str)
        self.http: httpx.Client = connect(http, timeout=timeout) if isinstance(http, str) else http
        self.token = token

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.disconnect()

    def disconnect(self) -> None:
        """Close the HTTP client if this party made it."""
        if self._owned:
            self.http.close()

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    def call(
        self, method: str, path: str, *, json: Any = None, content: bytes | None = None
    ) -> httpx.Response:
        """Send a request with this party's token; a refusal raises :class:`PartyError`."""
        r = self.http.request(method, path, json=json, content=content, headers=self.headers)
        if r.status_code >= 400:
            raise _refusal(r, method, path)
        return r

    def get(self, path: str) -> Any:
        """``GET path``, its JSON answer."""
        return self.call("GET", path).json()

    def _object(self, method: str, path: str, **body: Any) -> dict[str, Any]:
        r = self.call(method, path, **body)
        out = r.json()
        if not isinstance(out, dict):
            raise PartyError(
                r.status_code, "http", "expected a JSON object", method=method, path=path
            )
        return out

    def _list(self, path: str) -> list[Any]:
        r = self.call("GET", path)
        out = r.json()
        if not isinstance(out, list):
            raise PartyError(r.status_code, "http", "expected a JSON list", method="GET", path=path)
        return out

    def _stream_to(self, path: str, out: Any) -> int:
        """``GET path`` streamed into the binary file ``out``; the bytes written."""
        n = 0
        with self.http.stream("GET", path, headers=self.headers) as r:
            if r.status_code >= 400:
                r.read()
                raise _refusal(r, "GET", path)
            for chunk in r.iter_bytes():
                out.write(chunk)
                n += len(chunk)
        return n

    def _events(self, path: str) -> Iterator[dict[str, Any]]:
        """The server-sent events of ``path``, each ``data:`` line's JSON, until the caller
        stops iterating (the connection is then closed)."""
        with self.http.stream("GET", path, headers=self.headers) as r:
            if r.status_code >= 400:
                r.read()
                raise _refusal(r, "GET", path)
            for line in r.iter_lines():
                if line.startswith("data:"):
                    event = jsonlib.loads(line[5:])
                    if isinstance(event, dict):
                        yield event
