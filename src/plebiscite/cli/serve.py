"""``plebiscite serve``: run the board server.

Fault injection, for the tests only: with ``PLEBISCITE_TEST_CRASH=region-closed:NAME`` in its
environment the server kills itself (SIGKILL, as a crash would stop it) right after the
administrator's close of a referendum closed its region ``NAME``, before the next region: the
tests check that the next start closes every region of it. With
``PLEBISCITE_TEST_CRASH=letter-claimed:N`` it kills itself once it has claimed its N-th
credential letter, before sending it (:attr:`plebiscite.service.letters.Letters.claimed`): the
tests check that the next start sends it and the rest, each once. Unset, nothing is injected.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.protocol.reduce import Runner
    from plebiscite.server.connections import ConnectionLimits
    from plebiscite.server.outbox import Outbox
    from plebiscite.server.ratelimit import RateLimits
    from plebiscite.server.signin import OidcConfig
    from plebiscite.service.letters import Policy

__all__ = ["register"]


def _cmd_serve(args: argparse.Namespace) -> int:
    from plebiscite.cli.common import CommandError
    from plebiscite.crypto.rand import SystemRandom
    from plebiscite.crypto.signing import SigningKey
    from plebiscite.server.connections import ConnectionLimits
    from plebiscite.server.memory import return_freed_memory
    from plebiscite.server.outbox import outbox_from
    from plebiscite.server.ratelimit import RateLimits
    from plebiscite.service.letters import Policy

    return_freed_memory()
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
        if not args.mail_timeout > 0:
            raise ValueError("--mail-timeout must be above 0 seconds")
        if args.poll_shard_size < 1:
            raise ValueError("--poll-shard-size must be at least 1")
        if args.jobs < 0:
            raise ValueError("--jobs must be at least 1")
        if args.cluster and args.jobs:
            raise ValueError("give --jobs or --cluster, not both")
        outbox = outbox_from(
            directory=args.outbox_dir,
            smtp_url=args.smtp_url or os.environ.get("PLEBISCITE_SMTP_URL"),
            starttls=args.smtp_starttls,
            sender=args.mail_from,
            timeout=args.mail_timeout,
        )
        # a letter being sent is claimed for longer than its SMTP exchange may take
        mail = Policy(
            rate=args.mail_rate,
            attempts=args.mail_attempts,
            backoff=args.mail_backoff,
            claim=3 * args.mail_timeout,
            parallel=args.mail_parallel,
        )
        oidc = _oidc(args)
    except ValueError as e:
        raise CommandError(str(e), status=2) from None
    _log_to_stderr(args.log_level)
    if args.admin_account:
        from plebiscite.cli.accounts import ensure_account

        if ensure_account(args.database, args.admin_account):
            print(f"administrator account {args.admin_account!r} created", file=sys.stderr)
    with contextlib.ExitStack() as stack:
        runner = _tally_runner(stack, args.cluster, args.cluster_timeout)
        return _serve(args, key, token, limits, guard, outbox, mail, oidc, runner)


def _tally_runner(
    stack: contextlib.ExitStack[Any], address: str | None, timeout: float
) -> Runner | None:
    """The runner of the encrypted tallies on the Dask cluster ``address``
    (:class:`plebiscite.compute.cluster.DaskRunner`), its client closed by ``stack``; None
    without one (local worker processes). An unreachable scheduler stops the start-up."""
    if not address:
        return None
    from plebiscite.cli.common import CommandError
    from plebiscite.compute.cluster import (
        ClusterError,
        DaskRunner,
        connect,
        dashboard,
        executor_of,
    )

    try:
        client = stack.enter_context(connect(address, timeout=timeout))
        _, width = executor_of(client)  # its workers' threads; none: ClusterError
    except ClusterError as e:
        raise CommandError(f"--cluster: {e}", status=2) from None
    print(
        f"tallies on the Dask cluster {address} ({width} workers; dashboard: {dashboard(client)})",
        file=sys.stderr,
        flush=True,
    )
    return DaskRunner(client, width)


def _serve(
    args: argparse.Namespace,
    key: SigningKey,
    token: str,
    limits: RateLimits,
    guard: ConnectionLimits,
    outbox: Outbox | None,
    mail: Policy,
    oidc: OidcConfig | None,
    runner: Runner | None,
) -> int:
    """The server over ``args.database``, its tallies on ``runner`` (None: local workers),
    until it is stopped."""
    import uvicorn

    from plebiscite.board import open_board
    from plebiscite.server.app import create_app
    from plebiscite.server.connections import protocol_class

    is_url = "://" in args.database
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
        mail=mail,
        poll_shard_size=args.poll_shard_size,
        oidc=oidc,
        runner=runner,
        jobs=args.jobs,
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


def _save_demo(out: Path, d: Any) -> None:
    """Write the secrets of the new demo referendum ``d`` to ``out/RID/`` (a new directory:
    never over an earlier demo's), then name it in ``out/demo.json``."""
    secrets_dir = out / d.rid
    secrets_dir.mkdir(parents=True, mode=0o700)
    trustees = [
        {"index": t.index, "token": t.token, "seed": t.secret.seed if t.secret else None}
        for t in d.trustees
    ]
    (secrets_dir / "trustees.json").write_text(json.dumps(trustees, indent=1) + "\n")
    lines = [
        f"{name} {login} {cred}"
        for name in d.names
        for login, cred in sorted(d.private[name].items())
    ]
    (secrets_dir / "credentials.txt").write_text("\n".join(lines) + "\n")
    state = out / DEMO_STATE
    tmp = out / (DEMO_STATE + ".tmp")
    tmp.write_text(json.dumps({"current": d.rid}) + "\n")
    tmp.replace(state)


OIDC_SECRET_VARIABLE = "PLEBISCITE_OIDC_CLIENT_SECRET"  # noqa: S105 (its name, not a secret)
"""Where ``serve`` takes the OpenID Connect client secret from (never the command line)."""


def _log_to_stderr(level: str) -> None:
    """The server's own messages (the ``plebiscite`` loggers: a job's progress, a failed
    letter, an opening) on standard error, from ``level`` up, one a line with its time."""
    import logging

    logger = logging.getLogger("plebiscite")
    if any(getattr(h, "plebiscite_serve", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.plebiscite_serve = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level.upper())


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
    if point == "letter-claimed" and region.isdigit() and app.state.letters is not None:
        left = [int(region)]

        def claimed(key: str) -> None:
            left[0] -= 1
            if left[0] == 0:
                print(f"{CRASH_VARIABLE}: a letter claimed, crashing", file=sys.stderr, flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

        app.state.letters.claimed = claimed
        print(f"{CRASH_VARIABLE}: crashing at letter {region}'s claim", file=sys.stderr)
        return
    if point != "region-closed" or not region:
        raise CommandError(
            f"{CRASH_VARIABLE}={spec!r}: expected region-closed:NAME or letter-claimed:N (a "
            "test's fault injection)",
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


DEMO_STATE = "demo.json"
"""In the demo directory: which demo referendum the database holds (``{"current": RID}``); its
secrets are in ``RID/credentials.txt`` and ``RID/trustees.json`` beside it."""


def _saved_demo(out: Path) -> str | None:
    """The id of the demo referendum the demo directory holds the secrets of, or None."""
    try:
        saved = json.loads((out / DEMO_STATE).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise OSError(
            f"{out / DEMO_STATE}: unreadable ({e}); move it away to start a new demo"
        ) from None
    rid = saved.get("current") if isinstance(saved, dict) else None
    if (
        not isinstance(rid, str)
        or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", rid)
        or not (out / rid / "credentials.txt").is_file()
    ):
        raise OSError(f"{out / DEMO_STATE}: names no demo referendum of this directory")
    return rid


def _demo(server: Any, gate: _DemoGate, token: str, base: str, out: Path, voters: int) -> None:
    """Set up a demo referendum over HTTP once the server answers, each party its own client
    (:mod:`plebiscite.client`): four regions, three trustees (2 of 3) plus the server's own
    key, credentials made; voting open. The trustees' and voters' secrets are written to
    ``out/RID/`` (they would never be on a real server). A failure stops the server.

    Nothing is ever deleted or overwritten: if ``out`` names a demo referendum that the
    database holds and that is still open (a second start on the same database), it is the
    demo again, with its ballots; otherwise a new one is made beside the earlier ones, whose
    secrets stay where they are."""
    import httpx

    from plebiscite.cli.common import CommandError
    from plebiscite.cli.demo_server import setup_referendum
    from plebiscite.client import PartyError, connect, routes
    from plebiscite.crypto.rand import SystemRandom
    from plebiscite.errors import PlebisciteError

    def say(text: str) -> None:
        print(f"demo: {text}", file=sys.stderr)

    try:
        previous = _saved_demo(out)
        with connect(_local_url(base), timeout=600) as http:
            while True:  # any answer of /healthz (503 until the demo is set up): it listens
                if server.should_exit:
                    return
                try:
                    http.get(routes.HEALTH)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            status: dict[str, Any] | None = None
            if previous is not None:
                r = http.get(routes.referendum(previous))
                if r.status_code == 200 and r.json().get("phase") == "open":
                    status = r.json()
                    rid = previous
                    say(f"the demo referendum {rid} of {out} is still open: serving it again")
            if status is None:
                d = setup_referendum(
                    http, token, voters=voters, regions=4, rng=SystemRandom(), say=say
                )
                rid = d.rid
                status = d.admin.status(rid)
                _save_demo(out, d)
    except (PartyError, PlebisciteError, httpx.HTTPError, CommandError, OSError) as e:
        gate.failed = str(e)
        say(f"the demo referendum could not be set up: {e}")
        server.should_exit = True
        return
    uuids = {r["name"]: r["election"] for r in status.get("regions", [])}
    secrets_dir = out / rid
    first: dict[str, tuple[str, str]] = {}
    for line in (secrets_dir / "credentials.txt").read_text().splitlines():
        name, login, cred = line.split(" ", 2)
        first.setdefault(name, (login, cred))
    print(f"demo referendum {rid}:", file=sys.stderr)
    print(f"  observer dashboard: {base}{routes.observe(rid)}", file=sys.stderr)
    print(
        f"  administrator pages: {base}{routes.ADMIN_PAGES} (sign in with the token above)",
        file=sys.stderr,
    )
    print(f"  API: {base}{routes.referendum(rid)}", file=sys.stderr)
    for name, (login, cred) in first.items():
        if name not in uuids:
            print(f"  region {name}: (not open)", file=sys.stderr)
            continue
        booth = f"{base}{routes.booth(uuids[name])}"
        print(
            f"  region {name}: voting booth {booth}; voter {login} has credential {cred} "
            f"(their link: {booth}#credential={cred}); ballot box "
            f"{base}{routes.ballot_box_page(uuids[name])}",
            file=sys.stderr,
        )
    print(
        f"  every credential: {secrets_dir / 'credentials.txt'}; trustee links and seeds: "
        f"{secrets_dir / 'trustees.json'}",
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
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="local worker processes computing the encrypted tally of a closing region of "
        "2,000 ballots or more (default: all cores; smaller boards in the server's process)",
    )
    s.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="compute the encrypted tallies on a Dask cluster, the pipeline of plebiscite "
        "verify --cluster: local:N starts N worker processes here, tcp://HOST:PORT uses a "
        "running scheduler (the server does not start if it cannot be reached); the workers "
        "read the board themselves, so they must reach its database (an SQLite file at the "
        "same path)",
    )
    s.add_argument(
        "--cluster-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the scheduler of --cluster and its first worker "
        "(default: %(default)s)",
    )
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
        "--mail-rate",
        metavar="PER_SECOND",
        type=float,
        default=20.0,
        help="credential letters sent a second at most, all server processes of the database "
        "together (default: %(default)s)",
    )
    s.add_argument(
        "--mail-attempts",
        metavar="N",
        type=int,
        default=5,
        help="tries of a credential letter the mail server fails to take for a while (a 4xx "
        "answer, no connection) before it is marked failed; a 5xx refusal fails it at once "
        "(default: %(default)s)",
    )
    s.add_argument(
        "--mail-backoff",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="wait before a failed letter's first retry, doubled at each attempt "
        "(default: %(default)s)",
    )
    s.add_argument(
        "--mail-parallel",
        metavar="N",
        type=int,
        default=4,
        help="credential letters handed to the mail server at once (default: %(default)s)",
    )
    s.add_argument(
        "--mail-timeout",
        metavar="SECONDS",
        type=float,
        default=30.0,
        help="the SMTP connection's time-out; a letter being sent is claimed by its process for "
        "three times as long (default: %(default)s)",
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
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="the least important of the server's own messages written to standard error "
        "(they never hold a vote, a credential, a token or an address; default: %(default)s)",
    )
    s.add_argument(
        "--poll-shard-size",
        metavar="N",
        type=int,
        default=100_000,
        help="the most voters of one shard of a poll: a poll with more is split into "
        "ceil(voters / N) shards, separate elections (default: %(default)s)",
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
