"""Credentials of the 3.x form (22 Base58 characters, SHA-256 derivation) beside the 2.0 form:
the public credentials of belenios-tool 3.0's records are derived from their private ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from plebiscite.crypto.credentials import (
    credential_secret,
    generate_credential,
    generate_legacy_credential,
    parse_credential,
)
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import EncodingError
from plebiscite.protocol.archive import iter_members

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "belenios3"


def _public_credentials(archive: Path) -> set[str]:
    with archive.open("rb") as f:
        for m in iter_members(f):
            if m.kind != "data" or not m.content.startswith(b'["'):
                continue
            v = json.loads(m.content)
            if all(
                isinstance(x, str) and re.fullmatch(r"[0-9a-f]{64}|[0-9]+", x.split(",")[0])
                for x in v
            ):
                return {x.split(",")[0] for x in v}
    raise AssertionError("no public credentials")


@pytest.mark.parametrize("name", ["ed25519", "ff-2048", "revotes-weighted"])
def test_public_credentials_of_belenios_tool_3_records_are_derived(name):
    meta = json.loads((VECTORS / f"{name}.json").read_text())
    group = group_by_name(meta["group"])
    publics = _public_credentials(VECTORS / f"{name}.bel")
    for c in meta["private_credentials"]:
        assert parse_credential(c) == c
        assert group.encode(group.gpow(credential_secret(c, meta["uuid"], group))) in publics


def test_forms():
    rng = DeterministicRandom("creds")
    c = generate_credential(rng)
    assert re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{5}-[^-]{6}-[^-]{5}-[^-]{6}", c)
    assert parse_credential(c.replace("-", "")) == c
    legacy = generate_legacy_credential(rng)
    assert len(legacy) == 19 and parse_credential(legacy) == legacy
    with pytest.raises(EncodingError, match="22 Base58"):
        parse_credential(c[:-1])
    with pytest.raises(EncodingError, match="dashes"):
        parse_credential(c[:4] + "-" + c[4:].replace("-", ""))
    with pytest.raises(EncodingError):
        parse_credential(c.replace(c[0], "0"))  # 0 is not a Base58 character
