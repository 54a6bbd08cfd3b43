"""``plebiscite demo --server URL``: a whole referendum played against a running board server.

Each party is its own client of :mod:`plebiscite.client` and holds only its own secrets: the
administrator its token (``PLEBISCITE_ADMIN_TOKEN``), each trustee its link token and the seed
of its certificate (never sent), each external credential authority its link token and the
private credentials it makes, each voter their own credential. Everything else comes from the
server's public routes, and each trustee shuffles (where the questions are not homomorphic)
and decrypts only the ciphertexts it recomputed itself from the region's archive.
:func:`setup_referendum` is also how ``plebiscite serve --demo`` sets up its demo referendum.
The party classes are those of :mod:`plebiscite.client`, named here too.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from plebiscite.cli.common import CommandError
from plebiscite.client import (
    Administrator,
    CredentialAuthority,
    Observer,
    PartyError,
    Trustee,
    Voter,
    connect,
)
from plebiscite.crypto.rand import RandomSource, SystemRandom
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.simulate import random_choices

__all__ = [
    "DEMO_QUESTIONS",
    "RANKING",
    "Administrator",
    "CredentialAuthority",
    "DemoReferendum",
    "PartyError",
    "Trustee",
    "Voter",
    "add_arguments",
    "demo_record",
    "demo_translations",
    "play_referendum",
    "run",
    "setup_referendum",
    "status",
]

REGION_NAMES = ("North", "South", "East", "West", "Centre")
TRUSTEE_NAMES = ("Alice", "Bob", "Carol")

#: The questions of every demo (``plebiscite demo`` offline, against a server, ``serve --demo``).
DEMO_QUESTIONS: list[dict[str, Any]] = [
    {
        "answers": ["Yes", "No"],
        "blank": True,
        "min": 1,
        "max": 1,
        "question": "Do you approve the proposal?",
    },
    {
        "answers": ["Option A", "Option B", "Option C"],
        "min": 1,
        "max": 1,
        "question": "Which option do you prefer?",
    },
]
#: The ranking question added with ``--ranking`` (non-homomorphic: shuffled before decryption).
RANKING = {
    "type": "NonHomomorphic",
    "value": {"answers": ["North", "Centre", "South"], "question": "Rank the sites"},
}

#: The demo's texts in Ukrainian and Russian (the record's ``translations``: the booth, the
#: dashboard and the charts show them in the page's language), each question in the order of
#: :data:`DEMO_QUESTIONS` then :data:`RANKING`.
DEMO_TRANSLATIONS: dict[str, dict[str, Any]] = {
    "uk": {
        "title": "Демонстраційний референдум plebiscite",
        "questions": [
            {"question": "Чи схвалюєте ви пропозицію?", "answers": ["Так", "Ні"]},
            {
                "question": "Якому варіанту ви віддаєте перевагу?",
                "answers": ["Варіант А", "Варіант Б", "Варіант В"],
            },
        ],
        "ranking": {
            "question": "Розташуйте місця в порядку переваги",
            "answers": ["Північ", "Центр", "Південь"],
        },
    },
    "ru": {
        "title": "Демонстрационный референдум plebiscite",
        "questions": [
            {"question": "Вы одобряете предложение?", "answers": ["Да", "Нет"]},
            {
                "question": "Какой вариант вы предпочитаете?",
                "answers": ["Вариант А", "Вариант Б", "Вариант В"],
            },
        ],
        "ranking": {
            "question": "Расположите места в порядке предпочтения",
            "answers": ["Север", "Центр", "Юг"],
        },
    },
}


def demo_translations(*, ranking: bool = False) -> dict[str, Any]:
    """The record's ``translations`` of the demo's questions (with ``ranking``, the ranking's
    too)."""
    return {
        tag: {
            "title": t["title"],
            "questions": [*t["questions"], t["ranking"]] if ranking else list(t["questions"]),
        }
        for tag, t in DEMO_TRANSLATIONS.items()
    }


def status(http: httpx.Client, rid: str) -> dict[str, Any]:
    """The public status of a referendum (anyone)."""
    return Observer(http).status(rid)


# -- the whole referendum -----------------------------------------------------------------------


def region_names(n: int) -> list[str]:
    return [REGION_NAMES[i] if i < len(REGION_NAMES) else f"Region {i + 1}" for i in range(n)]


def demo_record(rid: str, regions: list[str], *, ranking: bool = False) -> dict[str, Any]:
    """A referendum record over ``regions`` (uuids left to the server): the demo questions
    (with ``ranking``, also a ranking, non-homomorphic, shuffled before decryption), a 2-of-3
    ceremony, and a double majority (pooled votes and half of the regions) when there are
    several regions, a simple majority otherwise; its texts in English, with their Ukrainian
    and Russian translations."""
    rule: dict[str, Any] = {"type": "majority", "question": 0, "answer": 0}
    if len(regions) > 1:
        rule = {
            "type": "double-majority",
            "question": 0,
            "answer": 0,
            "regions": {"share": "1/2", "strict": True},
        }
    opening = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    closing = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    return {
        "version": 1,
        "id": rid,
        "title": "plebiscite demo referendum",
        "questions": [*DEMO_QUESTIONS, RANKING] if ranking else DEMO_QUESTIONS,
        "regions": [{"name": name} for name in regions],
        "trustees": {"names": list(TRUSTEE_NAMES), "threshold": 2},
        "opening": opening,
        "closing": closing,
        "rule": rule,
        "language": "en",
        "translations": demo_translations(ranking=ranking),
    }


@dataclass
class DemoReferendum:
    """A referendum set up and open: what each party holds afterwards."""

    rid: str
    names: list[str]
    roll: dict[str, list[str]]
    trustees: list[Trustee]
    private: dict[str, dict[str, str]]  # region -> login -> secret credential
    admin: Administrator


def setup_referendum(
    http: httpx.Client,
    admin_token: str,
    *,
    voters: int,
    regions: int,
    rng: RandomSource,
    say: Callable[[str], None] = print,
    ranking: bool = False,
) -> DemoReferendum:
    """Create a referendum, run the trustees' ceremony, make the credentials and open every
    region, each party its own client. The first region has the server as credential
    authority, the others an external one."""
    names = region_names(regions)
    rid = f"demo-{secrets.token_hex(4)}"
    admin = Administrator(http, admin_token)
    roll: dict[str, list[str]] = {n: [] for n in names}
    for i in range(voters):
        roll[names[i % regions]].append(f"voter{i + 1}")
    authorities = {n: ("server" if k == 0 else "external") for k, n in enumerate(names)}
    created = admin.create(demo_record(rid, names, ranking=ranking), dict(roll), authorities)
    say(f"referendum {rid}: {voters} voters in {regions} region(s), trustees 2 of 3")

    trustees = [Trustee(http, rid, t["index"], t["token"], rng) for t in created["trustees"]]
    for t in trustees:
        t.send_certificate()
    for t in trustees:
        t.send_polynomial()
    for t in trustees:
        cer = t.send_voutput()
    if cer["phase"] != "done":
        raise CommandError(f"the ceremony did not finish: {cer['error']}")
    say(f"threshold ceremony done; trustees structure {cer['trustees_hash']}")

    private: dict[str, dict[str, str]] = {}
    for reg in created["regions"]:
        if reg["authority"] == "external":
            ca = CredentialAuthority(http, rid, reg["name"], reg["authority_token"], rng)
            private[reg["name"]] = ca.make_credentials()
            say(f"{reg['name']}: the credential authority sent the public credentials")
    opened = admin.open(rid)
    for reg in opened["regions"]:
        if reg["credentials"] is not None:
            private[reg["name"]] = {c["login"]: c["credential"] for c in reg["credentials"]}
            say(f"{reg['name']}: the server generated the credentials (it is the authority)")
    say("every region is open")
    return DemoReferendum(rid, names, roll, trustees, private, admin)


def play_referendum(
    http: httpx.Client,
    admin_token: str,
    *,
    voters: int,
    regions: int,
    rng: RandomSource,
    log: Callable[[str], None] = print,
    ranking: bool = False,
) -> dict[str, Any]:
    """The whole lifecycle, each party its own client; returns the final public status. With
    ``ranking`` a ranking question is added: the server and trustees 1 and 2 shuffle its
    ciphertexts before the decryption."""
    t0 = time.monotonic()

    def say(text: str) -> None:
        log(f"[{time.monotonic() - t0:6.1f} s] {text}")

    d = setup_referendum(
        http, admin_token, voters=voters, regions=regions, rng=rng, say=say, ranking=ranking
    )
    people = [
        Voter(http, d.rid, name, d.private[name][login], rng)
        for name in d.names
        for login in d.roll[name]
    ]
    for p in people:
        p.vote(random_choices(p.election, rng))
    revoters = max(1, voters // 10)
    for p in people[:revoters]:
        p.vote(random_choices(p.election, rng))
    say(f"{len(people) + revoters} ballots cast ({revoters} revotes)")

    d.admin.close(d.rid)
    say("voting closed, tallies on the boards")
    if ranking:
        for name in d.names:
            for t in d.trustees[:2]:
                t.shuffle(name)
        say("the ranking shuffled by the server and trustees 1 and 2")
    for name in d.names:
        for t in d.trustees[:2]:
            t.decrypt(name)
    final = status(http, d.rid)
    say(f"decrypted by trustees 1 and 2 and the server: {final['phase']}")
    return final


# -- the command ---------------------------------------------------------------------------------


def add_arguments(d: Any) -> None:
    d.add_argument(
        "--server",
        metavar="URL",
        help="run a referendum against this board server (administrator token from "
        "PLEBISCITE_ADMIN_TOKEN), each party its own client; --out is then not needed",
    )
    d.add_argument(
        "--regions", type=int, default=1, help="with --server: number of regions (default 1)"
    )


def run(args: Any) -> int:
    token = os.environ.get("PLEBISCITE_ADMIN_TOKEN")
    if not token:
        raise CommandError("--server needs the administrator token in PLEBISCITE_ADMIN_TOKEN")
    if args.regions < 1:
        raise CommandError("--regions must be at least 1", status=2)
    if args.voters < args.regions:
        raise CommandError("--voters must be at least --regions", status=2)
    base = args.server.rstrip("/")
    try:
        with connect(base, timeout=600) as http:
            final = play_referendum(
                http,
                token,
                voters=args.voters,
                regions=args.regions,
                rng=SystemRandom(),
                ranking=bool(getattr(args, "ranking", False)),
            )
    except (PartyError, PlebisciteError) as e:
        raise CommandError(str(e)) from None
    except httpx.HTTPError as e:
        raise CommandError(f"{base}: {e}") from None
    for reg in final["regions"]:
        print(f"{reg['name']}: {base}{reg['archive']}")
    outcome = final["outcome"]
    if outcome is None:
        raise CommandError("the referendum has no outcome: not every region was decrypted")
    print(outcome["explanation"])
    return 0
