"""The credentials of a large roll made in worker processes (:mod:`plebiscite.service.credgen`):
in the roll's order, a chunk at a time, each private credential giving its public one, all
distinct; a deterministic source (the vectors) is used in the calling thread, in order."""

from __future__ import annotations

import pytest

from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import credential_secret
from plebiscite.crypto.groups import group_by_name
from plebiscite.crypto.rand import DeterministicRandom, SystemRandom
from plebiscite.protocol.election_setup import generate_credentials
from plebiscite.service.credgen import CredentialMaker

UUID = "zzzzzzzzzzzzzz"


@pytest.fixture(scope="module")
def maker():
    m = CredentialMaker(2, chunk=40, parallel_from=100)
    yield m
    m.close()


@pytest.mark.parametrize("group_name", ["Ed25519", "BELENIOS-2048"])
def test_a_large_roll_is_made_in_chunks_in_its_order(maker, group_name):
    group = group_by_name(group_name)
    voters = [(f"v{i}@example.org", None if i % 3 else 2) for i in range(250)]
    chunks = list(maker.make(voters, UUID, group, SystemRandom()))
    assert [len(c) for c in chunks] == [40] * 6 + [10]
    creds = [c for chunk in chunks for c in chunk]
    assert [(c.login, c.weight) for c in creds] == voters
    ctx = Context(group)
    for c in creds[:: 25 if group_name != "Ed25519" else 1]:
        assert ctx.gpow(credential_secret(c.private, UUID, group)) == c.public
    assert len({c.public for c in creds}) == len(creds)
    assert len({c.private for c in creds}) == len(creds)
    # the same maker again: its workers are kept
    assert sum(map(len, maker.make(voters[:120], UUID, group, SystemRandom()))) == 120


def test_a_deterministic_source_is_used_in_order_in_this_thread(maker):
    group = group_by_name("Ed25519")
    voters = [(f"v{i}@example.org", None) for i in range(150)]
    got = [c for chunk in maker.make(voters, UUID, group, DeterministicRandom("k")) for c in chunk]
    assert got == generate_credentials(voters, UUID, group, DeterministicRandom("k"))
