"""Archives written by belenios-tool, one per feature: plebiscite accepts each and reports the
same result as belenios-tool computed."""

from __future__ import annotations

import pytest

from conftest import peer_vector, peer_vector_names
from plebiscite.protocol.verifier import verify_archive


def _normalise(result):
    if isinstance(result, list):
        return [_normalise(x) for x in result]
    if isinstance(result, str):
        return int(result)
    return result


@pytest.mark.parametrize("name", peer_vector_names())
def test_peer_archive_is_valid_with_the_same_result(name):
    archive, meta = peer_vector(name)
    report = verify_archive(lambda: archive.open("rb"), name=str(archive))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.uuid == meta["uuid"]
    assert report.ballots == meta["ballots"]
    assert report.voters == meta["voters"]
    if meta["result"] is None:
        assert report.status == "open"
        assert report.result is None
    else:
        assert report.status == "done"
        assert report.result == _normalise(meta["result"])


def test_every_feature_has_a_vector():
    assert set(peer_vector_names()) >= {
        "single",
        "threshold",
        "blank",
        "approval",
        "weighted",
        "revotes",
        "nh",
        "open",
    }
