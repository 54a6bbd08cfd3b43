"""``plebiscite serve``: run the board server.

Fault injection, for the tests only: with ``PLEBISCITE_TEST_CRASH=region-closed:NAME`` in its
environment the server kills itself (SIGKILL, as a crash would stop it) right after the
administrator's close of a referendum closed its region ``NAME``, before the next region: the
tests check that the next start closes every region of it. Unset, nothing is injected.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plebiscite.server.signin import OidcConfig

__all__ = ["register"]


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from plebiscite.board import open_board
    from plebiscite.cli.common import CommandError
    from plebiscite.crypto.rand import SystemRandom
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.server.app import create_app
    from plebiscite.server.connections import ConnectionLimits, protocol_class
    from plebiscite.server.outbox import outbox_from
    from plebiscite.server.ratelimit import RateLimits

    is_url = "://" in args.database
    key_file = Path(
        args.key_file or ("plebiscite-server.key" if is_url else f"{args.database}.key")
    )
    if key_file.exists():
        key = SigningKey.from_base64(key_file.read_text().strip(), where=str(key_file))
    else:
        key = SigningKey.generate(SystemRandom())
        key_file.touch(mode=0o600)
        key_file.write_text(key.to_base64() + "\n")
    token = os.environ.get("PLEBISCITE_ADMIN_TOKEN") or secrets.token_urlsafe(32)
    try:
        limits = RateLimits.parse(args.rate_limits)
        guard = ConnectionLimits(
            headers=args.header_timeout,
            body=args.body_timeout,
            max_connections=args.max_connections,
            per_address=args.max_per_address,
        )
        if args.feed_queue < 1:
            raise ValueError("--feed-queue must be at least 1")
        outbox = outbox_from(
            directory=args.outbox_dir,
            smtp_url=args.smtp_url or os.environ.get("PLEBISCITE_SMTP_URL"),
            starttls=args.smtp_starttls,
            sender=args.mail_from,
        )
        oidc = _oidc(args)
    except ValueError as e:
        raise CommandError(str(e), status=2) from None
    if args.admin_account:
        from plebiscite.cli.accounts import ensure_account

        if ensure_account(args.database, args.admin_account):
            print(f"administrator account {args.admin_account!r} created", file=sys.stderr)
    board = open_board(args.database)
    claim = getattr(board, "claim_server", None)  # SQLite: one server process per file
    if claim is not None:
        claim()
    app = create_app(
        board,
        admin_token=token,
        key=key,
        rate_limits=limits,
        outbox=outbox,
        public_url=args.public_url,
        per_address=guard.per_address,
        feed_queue=args.feed_queue,
        oidc=oidc,
    )
    crash = os.environ.get(CRASH_VARIABLE)
    if crash:
        _inject_crash(app, crash)
    print(f"board: {args.database}; checkpoint key: {key.public().to_base64()}", file=sys.stderr)
    if "PLEBISCITE_ADMIN_TOKEN" not in os.environ:
        print(f"administrator token: {token}", file=sys.stderr)
    base = f"http://{args.host}:{args.port}"

    def config(asgi: Any) -> uvicorn.Config:
        # no access log: addresses are personal data, and nothing else in it is needed
        return uvicorn.Config(
            asgi,
            host=args.host,
            port=args.port,
            log_level="warning",
            access_log=False,
            http=protocol_class(guard),  # the time limits and the connection cap
        )

    if not args.demo:
        print(f"listening on {base}/ (API documentation: {base}/docs)", file=sys.stderr)
        uvicorn.Server(config(app)).run()
        return 0
    demo_dir = Path(args.demo_dir or ("plebiscite-demo" if is_url else f"{args.database}.demo"))
    gate = _DemoGate(app)
    server = uvicorn.Server(config(gate))
    demo = threading.Thread(
        target=_demo,
        args=(server, gate, token, base, demo_dir, args.demo_voters),
        name="demo-setup",
        daemon=True,
    )
    demo.start()
    server.run()  # in the main thread: it handles the signals
    return 0 if gate.failed is None else 1


OIDC_SECRET_VARIABLE = "PLEBISCITE_OIDC_CLIENT_SECRET"  # noqa: S105 (its name, not a secret)
"""Where ``serve`` takes the OpenID Connect client secret from (never the command line)."""


def _oidc(args: argparse.Namespace) -> OidcConfig | None:
    """The OpenID Connect provider of ``--oidc-issuer``, or None; ValueError if incomplete."""
    from plebiscite.server.signin import OidcConfig

    if not args.oidc_issuer and not args.oidc_client_id:
        return None
    if not args.oidc_issuer or not args.oidc_client_id:
        raise ValueError("--oidc-issuer and --oidc-client-id go together")
    from urllib.parse import urlsplit

    parts = urlsplit(args.oidc_issuer)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if (
        not parts.hostname
        or parts.scheme not in ("https", "http")
        or (parts.scheme == "http" and not loopback)
    ):
        raise ValueError(
            f"--oidc-issuer {args.oidc_issuer!r}: expected an https:// URL (http:// only on "
            "the loopback address, for tests)"
        )
    secret = os.environ.get(OIDC_SECRET_VARIABLE, "")
    if not secret:
        raise ValueError(
            f"--oidc-issuer needs the client secret in {OIDC_SECRET_VARIABLE} (never on the "
            "command line, where other users of the machine read it)"
        )
    return OidcConfig(
        args.oidc_issuer.rstrip("/"), args.oidc_client_id, secret, args.oidc_redirect_uri
    )


CRASH_VARIABLE = "PLEBISCITE_TEST_CRASH"
"""The environment variable of the fault injection (see the module's documentation)."""


def _inject_crash(app: Any, spec: str) -> None:
    """Make the server kill itself where ``spec`` says (``region-closed:NAME``)."""
    import signal

    from plebiscite.cli.common import CommandError

    point, _, region = spec.partition(":")
    if point != "region-closed" or not region:
        raise CommandError(
            f"{CRASH_VARIABLE}={spec!r}: expected region-closed:NAME (a test's fault injection)",
            status=2,
        )

    def closed(rid: str, name: str) -> None:
        if name == region:
            print(f"{CRASH_VARIABLE}: region {name} closed, crashing", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    app.state.referendums.region_closed = closed
    print(f"{CRASH_VARIABLE}: crashing once region {region} is closed", file=sys.stderr)


class _DemoGate:
    """The app, with ``/healthz`` answering 503 ``starting`` until the demo referendum is set
    up: whoever waits for the server to be healthy finds the demo open. Every other route is
    the app's from the start (the set-up itself goes through them)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ready = threading.Event()
        self.failed: str | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/healthz" and not self.ready.is_set():
            body = json.dumps(
                {"error": {"code": "starting", "message": "the demo referendum is being set up"}}
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"retry-after", b"1")]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _local_url(base: str) -> str:
    """The address the demo's own clients reach the server at (a wildcard address listens
    on the loopback too)."""
    host_port = base.removeprefix("http://")
    host, _, port = host_port.rpartition(":")
    if host in ("0.0.0.0", ""):  # noqa: S104 (a comparison: the server binds it, not this)
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _demo(server: Any, gate: _DemoGate, token: str, base: str, out: Path, voters: int) -> None:
    """Set up a demo referendum over HTTP once the server answers, each party its own client
    (:mod:`plebiscite.client`): four regions, three trustees (2 of 3) plus the server's own
    key, credentials made; voting open. The trustees' and voters' secrets are written to
    ``out`` (they would never be on a real server). A failure stops the server."""
    import httpx

    from plebiscite.cli.common import CommandError
    from plebiscite.cli.demo_server import setup_referendum
    from plebiscite.client import PartyError, connect, routes
    from plebiscite.crypto.rand import SystemRandom
    from plebiscite.errors import PlebisciteError

    def say(text: str) -> None:
        print(f"demo: {text}", file=sys.stderr)

    try:
        with connect(_local_url(base), timeout=600) as http:
            while True:  # any answer of /healthz (503 until the demo is set up): it listens
                if server.should_exit:
                    return
                try:
                    http.get(routes.HEALTH)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            d = setup_referendum(http, token, voters=voters, regions=4, rng=SystemRandom(), say=say)
            status = d.admin.status(d.rid)
    except (PartyError, PlebisciteError, httpx.HTTPError, CommandError) as e:
        gate.failed = str(e)
        say(f"the demo referendum could not be set up: {e}")
        server.should_exit = True
        return
    uuids = {r["name"]: r["election"] for r in status.get("regions", [])}
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    trustees = [
        {"index": t.index, "token": t.token, "seed": t.secret.seed if t.secret else None}
        for t in d.trustees
    ]
    (out / "trustees.json").write_text(json.dumps(trustees, indent=1) + "\n")
    lines = [
        f"{name} {login} {cred}"
        for name in d.names
        for login, cred in sorted(d.private[name].items())
    ]
    (out / "credentials.txt").write_text("\n".join(lines) + "\n")
    print(f"demo referendum {d.rid}:", file=sys.stderr)
    print(f"  observer dashboard: {base}{routes.observe(d.rid)}", file=sys.stderr)
    print(
        f"  administrator pages: {base}{routes.ADMIN_PAGES} (sign in with the token above)",
        file=sys.stderr,
    )
    print(f"  API: {base}{routes.referendum(d.rid)}", file=sys.stderr)
    for name in d.names:
        login, cred = sorted(d.private[name].items())[0]
        booth = f"{base}{routes.booth(uuids[name])}" if name in uuids else "(not open)"
        print(
            f"  region {name}: voting booth {booth}; voter {login} has credential {cred}",
            file=sys.stderr,
        )
    print(
        f"  every credential: {out / 'credentials.txt'}; trustee links and seeds: "
        f"{out / 'trustees.json'}",
        file=sys.stderr,
    )
    print(f"listening on {base}/ (API documentation: {base}{routes.DOCS})", file=sys.stderr)
    gate.ready.set()


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
    s.add_argument(
        "--key-file",
        help="the checkpoint signing key (default: DATABASE.key, or plebiscite-server.key "
        "for a PostgreSQL URL)",
    )
    s.add_argument(
        "--demo",
        action="store_true",
        help="set up a demo referendum first: 4 regions, trustees 2 of 3, voting open",
    )
    s.add_argument(
        "--demo-voters",
        type=int,
        default=40,
        help="voters of the demo referendum (default: %(default)s)",
    )
    s.add_argument("--demo-dir", help="where the demo's secrets go (default: DATABASE.demo)")
    s.add_argument(
        "--public-url",
        metavar="URL",
        help="the server's address as its users see it (https://vote.example.org): the only "
        "origin whose pages may send state-changing requests, and the base of the links "
        "sent to voters (without it, voters get a code and no link)",
    )
    s.add_argument(
        "--admin-account",
        metavar="NAME",
        help="create this administrator account first if it does not exist (password from "
        "PLEBISCITE_ADMIN_PASSWORD or the terminal)",
    )
    s.add_argument(
        "--outbox-dir",
        metavar="DIR",
        help="write the messages to voters (login codes) as files in DIR (development, tests)",
    )
    s.add_argument(
        "--smtp-url",
        metavar="URL",
        help="send the messages to voters through this SMTP server: "
        "smtp://USER:PASSWORD@HOST:PORT or smtps://... (better in PLEBISCITE_SMTP_URL, which "
        "other users cannot read in the process list)",
    )
    s.add_argument(
        "--smtp-starttls", action="store_true", help="upgrade the smtp:// connection to TLS"
    )
    s.add_argument(
        "--mail-from",
        metavar="ADDRESS",
        default="plebiscite@localhost",
        help="the sender of the messages (default: %(default)s)",
    )
    s.add_argument(
        "--rate-limits",
        metavar="SPEC",
        default="default",
        help="requests per client address: 'default', 'off', or CLASS=BURST/PER_SECOND,... "
        "with CLASS ballot, login, code or write (e.g. login=10/0.1); default: ballot=600/30, "
        "login=10/0.167, code=5/0.05, write=300/5",
    )
    s.add_argument(
        "--header-timeout",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="time a client has to send a request's headers, from its connection or the "
        "request's first byte; past it 408 and the connection closed (default: %(default)s)",
    )
    s.add_argument(
        "--body-timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="time a client has to send a request's body once its headers are in; past it "
        "408 and the connection closed (default: %(default)s)",
    )
    s.add_argument(
        "--max-connections",
        metavar="N",
        type=int,
        default=1000,
        help="open connections served at once; past it 503 (default: %(default)s; keep it "
        "below the process's limit on open files)",
    )
    s.add_argument(
        "--max-per-address",
        metavar="N",
        type=int,
        default=256,
        help="requests in flight per client address (a live feed counts while it is "
        "followed), and open connections per peer address that is not a trusted proxy; past "
        "it 429 (default: %(default)s)",
    )
    s.add_argument(
        "--feed-queue",
        metavar="N",
        type=int,
        default=256,
        help="events a live-feed subscriber may leave unread before it is dropped "
        "(default: %(default)s)",
    )
    s.add_argument(
        "--oidc-issuer",
        metavar="URL",
        help="the OpenID Connect provider the voters of open polls (regions with a credential "
        "pool) sign in with: its issuer URL, whose .well-known/openid-configuration is read; "
        f"the client secret comes from {OIDC_SECRET_VARIABLE}",
    )
    s.add_argument("--oidc-client-id", metavar="ID", help="this server's client id at the provider")
    s.add_argument(
        "--oidc-redirect-uri",
        metavar="URL",
        help="the redirect URI registered at the provider (default: the public URL, or the "
        "address of the request, followed by /signin/callback)",
    )
    s.set_defaults(func=_cmd_serve)
