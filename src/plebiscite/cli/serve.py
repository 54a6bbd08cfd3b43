"""``plebiscite serve``: run the board server."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from plebiscite.board import open_board
    from plebiscite.crypto.rand import SystemRandom
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.server.app import create_app

    key_file = Path(args.key_file or f"{args.database}.key")
    if key_file.exists():
        key = SigningKey.from_base64(key_file.read_text().strip(), where=str(key_file))
    else:
        key = SigningKey.generate(SystemRandom())
        key_file.touch(mode=0o600)
        key_file.write_text(key.to_base64() + "\n")
    token = os.environ.get("PLEBISCITE_ADMIN_TOKEN") or secrets.token_urlsafe(32)
    board = open_board(args.database)
    app = create_app(board, admin_token=token, key=key)
    print(f"board: {args.database}; checkpoint key: {key.public().to_base64()}", file=sys.stderr)
    if "PLEBISCITE_ADMIN_TOKEN" not in os.environ:
        print(f"administrator token: {token}", file=sys.stderr)
    print(
        f"listening on http://{args.host}:{args.port}/ (API documentation: /docs)", file=sys.stderr
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def register(sub: Any) -> None:
    s = sub.add_parser(
        "serve",
        help="run the board server",
        description="Serve the public boards over HTTP: election archives, ballot submission, "
        "live feed, signed checkpoints. The administrator token comes from "
        "PLEBISCITE_ADMIN_TOKEN or is generated and printed.",
    )
    s.add_argument(
        "--database",
        default="plebiscite.db",
        help="SQLite file (default: %(default)s) or postgresql://... URL",
    )
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--port", type=int, default=8000, help="port to listen on")
    s.add_argument("--key-file", help="the checkpoint signing key (default: DATABASE.key)")
    s.set_defaults(func=_cmd_serve)
