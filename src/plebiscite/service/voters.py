"""The voter list of an election whose voters log in (by one-time code) before casting: who
may cast, and with which public credential where the server knows it.

Kept in the server's private store (:mod:`plebiscite.board.private`): kind ``voter-auth``
(uuid -> ``{"version", "buckets", "voters"}``) and ``voter-roll`` (uuid/version/bucket ->
``{casefolded login: [login, credential or None]}``), :data:`ROLL_BUCKET` logins a record, so
a lookup reads one small record whatever the size of the list.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from plebiscite.board.private import PrivateStore

__all__ = [
    "CONFIG",
    "EMAIL",
    "ROLL",
    "ROLL_BUCKET",
    "bucket_of",
    "config_of",
    "is_required",
    "login_key",
    "on_roll",
    "set_roll",
]

CONFIG = "voter-auth"
ROLL = "voter-roll"
ROLL_BUCKET = 256
EMAIL = re.compile(r"^[^@\s,;<>\"()\[\]\\:]+@[^@\s,;<>\"()\[\]\\:]+\.[^@\s,;<>\"()\[\]\\:]+$")
"""What a login must look like when voters log in by a code sent to it."""


def login_key(login: str) -> str:
    return login.strip().casefold()


def bucket_of(login_key: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha256(login_key.encode()).digest()[:8], "big") % buckets


def set_roll(store: PrivateStore, uuid: str, roll: Mapping[str, str | None]) -> None:
    """Require voter authentication on election ``uuid`` with this voter list (login ->
    public credential, or None where unknown), replacing any previous list. The records of
    the new list are written before the switch to it, so a reader sees one list or the other.
    """
    config = store.get(CONFIG, uuid)
    old = json.loads(config) if config is not None else None
    version = (old["version"] + 1) if old else 1
    n = max(1, -(-len(roll) // ROLL_BUCKET))
    parts: list[dict[str, list[str | None]]] = [{} for _ in range(n)]
    for login, credential in roll.items():
        key = login_key(login)
        parts[bucket_of(key, n)][key] = [login.strip(), credential]
    for i, part in enumerate(parts):
        store.put(ROLL, f"{uuid}/{version}/{i}", json.dumps(part).encode())
    new = {"version": version, "buckets": n, "voters": len(roll)}
    store.put(CONFIG, uuid, json.dumps(new).encode())
    if old:
        for i in range(old["buckets"]):
            store.delete(ROLL, f"{uuid}/{old['version']}/{i}")


def config_of(store: PrivateStore, uuid: str) -> dict[str, Any] | None:
    raw = store.get(CONFIG, uuid)
    return None if raw is None else dict(json.loads(raw))


def on_roll(
    store: PrivateStore, uuid: str, config: dict[str, Any], login: str
) -> tuple[str, str | None] | None:
    """``(login as listed, its credential or None)``, or None if not on the list."""
    key = login_key(login)
    raw = store.get(ROLL, f"{uuid}/{config['version']}/{bucket_of(key, config['buckets'])}")
    if raw is None:
        return None
    entry = json.loads(raw).get(key)
    return None if entry is None else (entry[0], entry[1])


def is_required(store: PrivateStore | None, uuid: str) -> bool:
    return store is not None and store.get(CONFIG, uuid) is not None
