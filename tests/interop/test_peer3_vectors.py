"""Records written by belenios-tool 3.0 (Debian trixie), one per feature: plebiscite accepts
each, reports the same result as belenios-tool computed, and says it read a 3.x record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plebiscite.protocol.verifier import verify_archive

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "belenios3"
# the record kinds plebiscite cannot read yet stay listed here until they can
NOT_YET: set[str] = set()


def _names() -> list[str]:
    return sorted(p.stem for p in VECTORS.glob("*.bel"))


def _normalise(result):
    if isinstance(result, list):
        return [_normalise(x) for x in result]
    if isinstance(result, str):
        return int(result)
    return result


@pytest.mark.parametrize("name", [n for n in _names() if n not in NOT_YET])
def test_peer3_record_is_valid_with_the_same_result(name):
    archive = VECTORS / f"{name}.bel"
    meta = json.loads((VECTORS / f"{name}.json").read_text())
    report = verify_archive(lambda: archive.open("rb"), name=str(archive))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.uuid == meta["uuid"]
    assert report.ballots == meta["ballots"]
    assert report.voters == meta["voters"]
    assert report.group == meta.get("group", report.group)
    assert report.status == "done"
    assert report.result == _normalise(meta["result"])


def test_every_3x_feature_has_a_record():
    assert set(_names()) >= {
        "ed25519",
        "ed25519-threshold",
        "ff-2048",
        "lists",
        "nh",
        "blank",
        "revotes-weighted",
    }
