"""The Lists known-answer and negative ballots (tests/vectors/kat/lists-ballots.json,
tests/vectors/negative/lists-ballots.json, made by scripts/make-kat-vectors) and their
elections: ``belenios3/lists`` (tests/vectors/belenios3/lists.bel, Ed25519, written by
belenios-tool 3.0) and ``kat/lists-belenios-2048`` (tests/vectors/kat/lists-elections.json,
made by the script from a fixed seed). Read by tests/protocol/test_kat.py and
tests/web/test_booth_lists.py."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "vectors"
KAT: list[dict[str, Any]] = json.loads((VECTORS / "kat" / "lists-ballots.json").read_text())
NEGATIVE: list[dict[str, Any]] = json.loads(
    (VECTORS / "negative" / "lists-ballots.json").read_text()
)
SETUPS: dict[str, dict[str, Any]] = json.loads(
    (VECTORS / "kat" / "lists-elections.json").read_text()
)


@cache
def setup_texts(name: str) -> tuple[dict[str, bytes], list[str]]:
    """The setup of election ``name`` (``{"election", "trustees", "credentials"}``, the exact
    texts of the archive) and its voters' secret credentials, in voter order."""
    if name.startswith("kat/"):
        s = SETUPS[name]
        texts = {k: s[k].encode() for k in ("election", "trustees", "credentials")}
        return texts, list(s["private_credentials"])
    where, vector = name.split("/")
    from plebiscite.protocol.archive import iter_members

    meta = json.loads((VECTORS / where / f"{vector}.json").read_text())
    with (VECTORS / where / f"{vector}.bel").open("rb") as f:
        data = {m.hash: m.content for m in iter_members(f) if m.kind == "data"}
    setup = next(json.loads(c) for c in data.values() if c.startswith(b'{"election":'))
    return {k: data[setup[k]] for k in ("election", "trustees", "credentials")}, list(
        meta["private_credentials"]
    )


def election_text(name: str) -> bytes:
    return setup_texts(name)[0]["election"]


def write_open_archive(name: str, directory: Path, timestamp: int = 1_700_000_000) -> Path:
    """``directory/UUID.bel``: the election's archive up to its Setup event (open for ballots),
    written by plebiscite and checked by its verifier."""
    from plebiscite import strictjson
    from plebiscite.protocol.archive import ArchiveState, ArchiveWriter, header_bytes
    from plebiscite.protocol.messages import parse_election
    from plebiscite.protocol.verifier import verify_archive

    texts, _ = setup_texts(name)
    uuid = parse_election(texts["election"]).uuid
    out = io.BytesIO()
    out.write(header_bytes(timestamp))
    w = ArchiveWriter(out, ArchiveState(timestamp))
    refs = {k: w.data(texts[k]) for k in ("election", "trustees", "credentials")}
    w.event("Setup", w.data(strictjson.dumps_compact(refs)))
    data = out.getvalue()
    report = verify_archive(lambda: io.BytesIO(data))
    assert report.valid, [f.describe() for f in report.findings]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid}.bel"
    path.write_bytes(data)
    return path
