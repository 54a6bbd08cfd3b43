"""``plebiscite poll``: create a poll on a server in one step, follow it, verify it.

``poll create`` and ``poll status`` are clients of the server (:mod:`plebiscite.client`; the
administrator's token from ``PLEBISCITE_ADMIN_TOKEN``, as ``demo --server`` takes it).
``poll verify`` is ``referendum verify`` (:mod:`plebiscite.cli.referendum`): a poll is a
referendum record whose regions are its shards, with no decision rule; its report gives every
shard's counts and the pooled counts with each answer's share.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from plebiscite.cli.common import CommandError
from plebiscite.cli.referendum import add_cluster_options

__all__ = ["register"]


def _admin_token() -> str:
    token = os.environ.get("PLEBISCITE_ADMIN_TOKEN")
    if not token:
        raise CommandError("the administrator token goes in PLEBISCITE_ADMIN_TOKEN", 2)
    return token


def _emails(args: argparse.Namespace) -> list[str]:
    """The voters' addresses: ``--voter`` and the lines of ``--voters FILE`` (one address a
    line, or the first field of a CSV line; blank lines and ``#`` comments skipped)."""
    out = list(args.voter or [])
    if args.voters:
        text = Path(args.voters).read_text(encoding="utf-8")
        for line in text.splitlines():
            first = line.split(",", 1)[0].strip()
            if first and not first.startswith("#"):
                out.append(first)
    if not out:
        raise CommandError("give the voters: --voters FILE (one e-mail address a line)", 2)
    return out


#: the largest translations file read (the server's limit of a poll's creation is larger)
MAX_TRANSLATIONS_FILE = 1 << 20


def _translations(path: str | None) -> dict[str, Any] | None:
    """The ``--translations FILE``: a JSON object, language tag -> ``{"title", "questions":
    [{"question", "answers"}, ...]}``, read strictly; the server checks its content."""
    if path is None:
        return None
    from plebiscite import strictjson
    from plebiscite.errors import EncodingError

    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TRANSLATIONS_FILE + 1)
    except OSError as e:
        raise CommandError(f"{path}: {e.strerror}", 2) from None
    if len(raw) > MAX_TRANSLATIONS_FILE:
        raise CommandError(f"{path}: more than {MAX_TRANSLATIONS_FILE} bytes", 2)
    try:
        value = strictjson.loads(raw, max_size=MAX_TRANSLATIONS_FILE, where=path)
    except EncodingError as e:
        raise CommandError(str(e), 2) from None
    if not isinstance(value, dict):
        raise CommandError(
            f'{path}: expected a JSON object, language tag -> {{"title", "questions"}}', 2
        )
    return value


def _time(value: str | None, default: datetime.datetime | None) -> str | None:
    """A time as the server takes it (``YYYY-MM-DDTHH:MM:SSZ``, UTC), or ``now``."""
    if value is None:
        return None if default is None else default.strftime("%Y-%m-%dT%H:%M:%SZ")
    if value == "now":
        return value
    try:
        t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"{value!r}: expected a time like 2030-05-12T18:00:00Z", 2) from None
    if t.tzinfo is None:
        t = t.astimezone()  # the local time zone
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _client_call(server: str, call: Any) -> Any:
    import httpx

    from plebiscite.client import PartyError

    try:
        return call()
    except PartyError as e:
        raise CommandError(f"{server}: {e}") from None
    except httpx.HTTPError as e:
        raise CommandError(f"{server}: {e}", 2) from None


def _cmd_create(args: argparse.Namespace) -> int:
    from plebiscite.client import Administrator

    token = _admin_token()
    if len(args.answer or []) < 2:
        raise CommandError("give at least two answers: --answer A --answer B", 2)
    if args.threshold is not None and not args.trustee:
        raise CommandError("--threshold goes with --trustee NAME ...", 2)
    emails: list[str] | None = None
    if args.open_pool is None:
        emails = _emails(args)
    else:
        given = [
            o
            for o, v in (
                ("--voters", args.voters),
                ("--voter", args.voter),
                ("--login-codes", args.login_codes),
                ("--delivery", args.delivery),
            )
            if v
        ]
        if given:
            raise CommandError(
                f"{given[0]} goes with a voter list, not --open-pool (whoever signs in)", 2
            )
        if args.open_pool < 1:
            raise CommandError("--open-pool N: at least one credential", 2)
    translations = _translations(args.translations)
    now = datetime.datetime.now(datetime.UTC)
    closing = _time(args.closing, now + datetime.timedelta(days=1))
    assert closing is not None
    out_path = Path(args.credentials_out) if args.credentials_out else None
    if out_path is not None and out_path.exists():
        raise CommandError(f"{out_path}: exists already (it is never overwritten)", 2)
    admin = Administrator(args.server.rstrip("/"), token)
    try:
        created = _client_call(
            args.server,
            lambda: admin.create_poll(
                args.question,
                args.answer,
                closing=closing,
                opening=_time(args.opening, None),
                title=args.title,
                emails=emails,
                open_pool=args.open_pool,
                trustees=args.trustee or (),
                threshold=args.threshold,
                shard_size=args.shard_size,
                login_codes=args.login_codes,
                delivery=args.delivery,
                language=args.language,
                translations=translations,
            ),
        )
    finally:
        admin.disconnect()
    pid = created["id"]
    st = created["poll"]
    delivery = st["voters"]["delivery"]
    mailed = delivery == "mail"
    # the private credentials the server gave (and the trustees' tokens), once, to a new file
    path = out_path or Path(f"{pid}.credentials.json")
    if delivery == "organiser" or created["trustees"]:
        secrets = {
            "poll": pid,
            "trustees": created["trustees"],
            "credentials": created["credentials"],
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(secrets, f, indent=1)
            f.write("\n")
    print(created["share_link"])
    who = f"{len(emails)} voters" if emails is not None else f"{args.open_pool} credentials"
    print(
        f"poll {pid}: {st['state']}, {who} in {len(st['shards'])} shard(s), "
        f"closing {st['closing']}",
        file=sys.stderr,
    )
    print(f"{st['powers']['summary']}", file=sys.stderr)
    if delivery == "sign_in":
        print(
            f"open to the accounts of {st['voters']['sign_in']['issuer']}: each voter signs in "
            f"at {st['vote_link']} for a credential (the server holds them)",
            file=sys.stderr,
        )
        if created["trustees"]:
            print(f"the trustees' link tokens: {path} (shown this once)", file=sys.stderr)
    elif mailed:
        print(
            "the server sends each voter their credential and booth link by mail "
            f"(follow it with: plebiscite poll letters --server {args.server} {pid})",
            file=sys.stderr,
        )
        if created["trustees"]:
            print(f"the trustees' link tokens: {path} (shown this once)", file=sys.stderr)
    else:
        print(
            f"the voters' credentials and booth links (and the trustees' link tokens): {path} "
            "(shown this once: send each voter their own)",
            file=sys.stderr,
        )
    return 0


def _cmd_letters(args: argparse.Namespace) -> int:
    from plebiscite.client import Administrator

    admin = Administrator(args.server.rstrip("/"), _admin_token())
    try:
        if args.resend_failed:
            _client_call(args.server, lambda: admin.poll_resend_failed(args.pid))
        got = _client_call(
            args.server, lambda: admin.poll_letters(args.pid, state=args.state, limit=1000)
        )
    finally:
        admin.disconnect()
    if args.json:
        json.dump(got, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    c = got["counts"]
    print(
        f"letters of {args.pid}: {c['sent']} sent, {c['pending']} pending, {c['failed']} failed, "
        f"{c['cancelled']} cancelled (replaced by a reissue)"
    )
    for x in got["letters"]:
        extra = f" ({x['error']})" if x.get("error") else ""
        print(f"  {x['to']}: {x['state']}, {x['attempts']} attempt(s){extra}")
    return 0


def _cmd_reissue(args: argparse.Namespace) -> int:
    from plebiscite.client import Administrator

    admin = Administrator(args.server.rstrip("/"), _admin_token())
    try:
        got = _client_call(args.server, lambda: admin.poll_reissue(args.pid, args.email))
    finally:
        admin.disconnect()
    print(
        f"{got['login']}: a new credential, on its way by mail (the old one is void); "
        f"{got['counts']['pending']} letter(s) pending"
    )
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from plebiscite.client import Observer

    observer = Observer(args.server.rstrip("/"))
    try:
        st = _client_call(args.server, lambda: observer.poll(args.pid))
    finally:
        observer.disconnect()
    if args.json:
        json.dump(st, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    out.write(f"poll:       {st['id']} ({st['title']!r})\n")
    out.write(f"state:      {st['state']} (opening {st['opening']}, closing {st['closing']})\n")
    out.write(f"share link: {st['share_link']}\n")
    out.write(f"powers:     {st['powers']['summary']}\n")
    voters = st.get("voters") or {}
    if voters.get("mode") == "open":
        issuer = (voters.get("sign_in") or {}).get("issuer")
        out.write(f"voters:     whoever signs in with {issuer}, at {st.get('vote_link')}\n")
        for p in voters.get("pools") or ():
            out.write(f"pool:       {p['shard']}: {p['handed_out']} of {p['size']} handed out\n")
    t = st["turnout"]
    out.write(f"turnout:    {t['voted']} of {t['roll']} ({t['share']})\n")
    for s in st["shards"]:
        out.write(
            f"shard:      {s['name']}: election {s['election']}, {s['status']}, "
            f"{s['voted']} of {s['roll']} voted, booth {s['booth']}\n"
        )
    result = st.get("result")
    if result is not None:
        for line in str(result["explanation"]).splitlines()[2:]:
            out.write(f"result:     {line}\n")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from plebiscite.cli.referendum import download, verify_files

    if args.record.startswith(("http://", "https://")):
        if args.archives:
            raise CommandError("give the poll's address alone: its archives come from it", 2)
        url = args.record.rstrip("/")
        for marker in ("/api/polls/", "/poll/", "/api/referendums/"):
            base, sep, pid = url.partition(marker)
            if sep and pid and "/" not in pid:
                break
        else:
            raise CommandError(f"{url}: expected the poll's address, URL/poll/ID", 2)
        with tempfile.TemporaryDirectory(prefix="plebiscite-poll-") as d:
            paths, key = download(base, pid, Path(d), url)
            return verify_files(args, paths, args.key or key, "poll")
    if not args.archives:
        raise CommandError("give every shard's archive after the record", 2)
    paths = [Path(args.record), *(Path(a) for a in args.archives)]
    return verify_files(args, paths, args.key, "poll")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "poll",
        help="create a poll on a server, follow it, verify it",
        description="A poll: a question put to a list of voters, created in one step.",
    )
    psub = p.add_subparsers(dest="poll_command", metavar="COMMAND", required=True)
    c = psub.add_parser(
        "create",
        help="create a poll in one step and print its share link",
        description="Create a poll on a server (the administrator token from "
        "PLEBISCITE_ADMIN_TOKEN) and print its share link. The voters' private credentials "
        "(each with its booth link, when they go to the organiser) and the trustees' link "
        "tokens are written to --credentials-out, once: never overwritten.",
    )
    c.add_argument("--server", required=True, metavar="URL", help="the server's address")
    c.add_argument("--question", required=True, help="the question")
    c.add_argument(
        "--answer", action="append", metavar="TEXT", help="an answer (at least two, in order)"
    )
    c.add_argument("--title", help="the poll's title (default: the question)")
    c.add_argument(
        "--opening", metavar="TIME", help="when voting opens (default: now), e.g. 2030-05-12T08:00Z"
    )
    c.add_argument("--closing", metavar="TIME", help="when voting closes (default: in a day)")
    c.add_argument(
        "--voters", metavar="FILE", help="the voters' e-mail addresses, one a line (or CSV)"
    )
    c.add_argument("--voter", action="append", metavar="EMAIL", help="one more voter's address")
    c.add_argument(
        "--open-pool",
        type=int,
        metavar="N",
        help="instead of a voter list: N credentials, one handed to each account that signs in "
        "with the server's identity provider (plebiscite serve --oidc-issuer); no credentials "
        "file is written",
    )
    c.add_argument(
        "--login-codes",
        action="store_true",
        help="voters log in by a one-time code sent to their address (the server needs an outbox)",
    )
    c.add_argument(
        "--trustee",
        action="append",
        metavar="NAME",
        help="a trustee holding a share of the key (none: the server's key alone, which "
        "can decrypt every ballot)",
    )
    c.add_argument("--threshold", type=int, metavar="K", help="K of the trustees decrypt")
    c.add_argument("--shard-size", type=int, metavar="N", help="voters per shard at most")
    c.add_argument(
        "--delivery",
        choices=("mail", "organiser"),
        help="how the credentials reach the voters: mail (the server sends each voter theirs; "
        "its default when it can send mail) or organiser (written to --credentials-out)",
    )
    c.add_argument(
        "--language",
        metavar="TAG",
        help="the language of the question and answers given (e.g. en)",
    )
    c.add_argument(
        "--translations",
        metavar="FILE",
        help='the title, question and answers in other languages: a JSON object, {"uk": '
        '{"title": ..., "questions": [{"question": ..., "answers": [...]}]}, ...}',
    )
    c.add_argument(
        "--credentials-out",
        metavar="FILE",
        help="where the credentials go (default: ID.credentials.json here)",
    )
    c.set_defaults(func=_cmd_create)

    lt = psub.add_parser(
        "letters",
        help="the delivery of a mail poll's credential letters (administrator)",
        description="How many of the poll's credential letters are sent, pending, failed or "
        "cancelled, and each letter's state (GET /api/polls/ID/letters).",
    )
    lt.add_argument("--server", required=True, metavar="URL", help="the server's address")
    lt.add_argument("pid", metavar="ID", help="the poll's id")
    lt.add_argument(
        "--state",
        choices=("pending", "sent", "failed", "cancelled"),
        help="only the letters in this state",
    )
    lt.add_argument(
        "--resend-failed", action="store_true", help="first make the failed letters pending again"
    )
    lt.add_argument("--json", action="store_true", help="print the answer as JSON")
    lt.set_defaults(func=_cmd_letters)
    ri = psub.add_parser(
        "reissue",
        help="a new credential for a mail poll's voter, before the opening (administrator)",
        description="Make a new credential for one voter and mail it; the old one is void "
        "(POST /api/polls/ID/voters/reissue). Refused once the poll is open.",
    )
    ri.add_argument("--server", required=True, metavar="URL", help="the server's address")
    ri.add_argument("pid", metavar="ID", help="the poll's id")
    ri.add_argument("email", metavar="EMAIL", help="the voter's address")
    ri.set_defaults(func=_cmd_reissue)

    s = psub.add_parser(
        "status",
        help="a poll's state, turnout, shards and result",
        description="Print a poll's public status (GET /api/polls/ID).",
    )
    s.add_argument("--server", required=True, metavar="URL", help="the server's address")
    s.add_argument("pid", metavar="ID", help="the poll's id")
    s.add_argument("--json", action="store_true", help="print the status as JSON")
    s.set_defaults(func=_cmd_status)

    v = psub.add_parser(
        "verify",
        help="recompute a poll's result from its record board and every shard's archive",
        description="Check the poll's record board (chain, events, signed checkpoints), that "
        "each archive is the election of one of its shards (uuid and fingerprint), every "
        "archive in full, then recompute every shard's counts and the pooled counts and "
        "compare them with what the record published. Exit status 0 if and only if all "
        "agree.",
    )
    v.add_argument(
        "record",
        help="the record board, ID.record.bel (GET /api/referendums/ID/record), or the poll's "
        "address on a server (URL/poll/ID or URL/api/polls/ID): the record and every shard's "
        "archive are then downloaded from it",
    )
    v.add_argument("archives", nargs="*", help="every shard's election archive, UUID.bel")
    v.add_argument(
        "--key",
        metavar="PUBLIC_KEY",
        help="the server's signing key (Base64) the record board must be signed with",
    )
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="processes verifying (default: all cores)"
    )
    add_cluster_options(v)
    v.set_defaults(func=_cmd_verify)
