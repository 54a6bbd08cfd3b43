"""Resuming a verification from a checkpoint gives the same verdict as verifying from scratch,
and detects an earlier event that was rewritten."""

from __future__ import annotations

import io
import json

import pytest

from conftest import peer_vector
from plebiscite.protocol.verifier import Verifier
from tamper import Archive


def opener(data: bytes):
    return lambda: io.BytesIO(data)


@pytest.mark.parametrize("name", ["single", "revotes", "nh", "threshold"])
@pytest.mark.parametrize("cut_event", [1, 3, 6, 8])
def test_resume_equals_full_verification(name, cut_event):
    path, _ = peer_vector(name)
    full_bytes = path.read_bytes()
    a = Archive.load(path)
    evs = a.events()
    if cut_event >= len(evs):
        pytest.skip("short archive")
    prefix = Archive(a.entries[: evs[cut_event][0] + 1]).to_bytes()
    first = Verifier(opener(prefix))
    assert first.run().valid
    saved = first.checkpoint()
    json.loads(saved)
    resumed = Verifier.from_checkpoint(saved, opener(full_bytes))
    r1 = resumed.run()
    r2 = Verifier(opener(full_bytes)).run()
    assert r1.valid and r2.valid
    assert r1.result == r2.result
    assert (r1.events, r1.ballots, r1.status, r1.tallied) == (
        r2.events,
        r2.ballots,
        r2.status,
        r2.tallied,
    )


def test_rewritten_history_is_detected_on_resume():
    path, _ = peer_vector("single")
    a = Archive.load(path)
    evs = a.events()
    prefix = Archive(a.copy().entries[: evs[3][0] + 1]).to_bytes()
    v = Verifier(opener(prefix))
    assert v.run().valid
    saved = v.checkpoint()
    rewritten = a.copy().remove_event(2).to_bytes()
    r = Verifier.from_checkpoint(saved, opener(rewritten)).run()
    assert not r.valid
    assert any(f.check == "since" for f in r.findings)


def test_shorter_archive_is_detected_on_resume():
    path, _ = peer_vector("single")
    full = Verifier(opener(path.read_bytes()))
    assert full.run().valid
    saved = full.checkpoint()
    a = Archive.load(path)
    evs = a.events()
    shorter = Archive(a.entries[: evs[3][0] + 1]).to_bytes()
    r = Verifier.from_checkpoint(saved, opener(shorter)).run()
    assert not r.valid
    assert any("events were removed" in f.message for f in r.findings)
