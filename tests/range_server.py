"""A small HTTP server of the files of a directory that answers range requests (RFC 9110
section 14), as object stores and web servers do: the tests of archives read by URL."""

from __future__ import annotations

import contextlib
import http.server
import re
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

__all__ = ["serving"]

_RANGE = re.compile(r"bytes=(\d+)-(\d*)\Z")


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return None
        size = path.stat().st_size
        f = path.open("rb")
        m = _RANGE.match(self.headers.get("Range", ""))
        if m is None:
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            start, length = 0, size
        else:
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else size - 1, size - 1)
            if start >= size:
                f.close()
                self.send_error(416)
                return None
            length = end - start + 1
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        f.seek(start)
        self._remaining = length
        return f

    def copyfile(self, source, outputfile):  # type: ignore[no-untyped-def]
        left = self._remaining
        while left > 0:
            chunk = source.read(min(left, 1 << 16))
            if not chunk:
                break
            outputfile.write(chunk)
            left -= len(chunk)


@contextlib.contextmanager
def serving(directory: Path) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT``) of ``directory``'s files while in the block."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
