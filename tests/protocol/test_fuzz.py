"""Random damage to valid input, and malformed variants of each message by class
(:mod:`mutations`: lone surrogates, wrong JSON types and deep nesting at every place, damaged
bytes): strict JSON refuses with its own errors on any input; every ballot (each kind of
question, both records), ceremony message and archive member so damaged is refused with a
:class:`PlebisciteError`; the verifier always answers with a report, never an exception, and
never calls a damaged archive valid."""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PEER_VECTORS, VECTORS, peer_vector
from mutations import examples, mutants
from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import ED25519
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import EncodingError, PlebisciteError, SizeError
from plebiscite.protocol import ceremony
from plebiscite.protocol.ballot import parse_ballot, verify_ballot
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive

DATA = peer_vector("open")[0].read_bytes()


def _verify(data: bytes):
    return verify_archive(lambda: io.BytesIO(data))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pos=st.integers(0, len(DATA) - 1), delta=st.integers(1, 255))
def test_any_changed_byte_is_detected(pos, delta):
    data = bytearray(DATA)
    data[pos] = (data[pos] + delta) % 256
    report = _verify(bytes(data))
    assert not report.valid


@settings(max_examples=examples(30), deadline=None)
@given(cut=st.integers(1, len(DATA) - 1))
def test_truncation_is_detected_or_a_valid_prefix(cut):
    report = _verify(DATA[:cut])
    if report.valid:
        # a cut exactly at a member boundary leaves a shorter, valid board
        assert cut % 512 == 0


@settings(max_examples=examples(30), deadline=None)
@given(junk=st.binary(min_size=1, max_size=2048))
def test_arbitrary_bytes_are_rejected(junk):
    assert not _verify(junk).valid


# -- strict JSON: total on any input -------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


def _depth(v) -> int:
    if isinstance(v, list | dict):
        values = v.values() if isinstance(v, dict) else v
        return 1 + max((_depth(x) for x in values), default=0)
    return 0


@settings(max_examples=examples(150), deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=200))
def test_strict_json_refuses_any_garbage_with_its_own_errors(data):
    with contextlib.suppress(EncodingError, SizeError):
        strictjson.loads(data, max_size=1000)


@settings(max_examples=examples(150), deadline=None)
@given(value=_json)
def test_strict_json_reads_back_any_value_and_measures_its_depth(value):
    text = json.dumps(value, ensure_ascii=False)
    assert strictjson.depth(text) == strictjson.depth(text.encode()) == _depth(value)
    assert strictjson.loads(text.encode(), max_size=1 << 20) == value


@settings(max_examples=examples(150), deadline=None)
@given(value=_json, data=st.data())
def test_a_lone_surrogate_anywhere_is_refused(value, data):
    """At any place of any value, in a string or a key, escaped (as JSON writes it) or raw."""
    spots = [m for m in mutants(json.dumps(value).encode()) if m.kind == "surrogate"]
    if not spots:
        value, spots = [value], mutants(json.dumps(["x", value]).encode())
        spots = [m for m in spots if m.kind == "surrogate"]
    m = data.draw(st.sampled_from(spots))
    with pytest.raises(EncodingError, match="surrogate"):
        strictjson.loads(m.body, max_size=1 << 20)
    with pytest.raises(EncodingError, match="surrogate"):
        strictjson.loads(json.dumps(json.loads(m.body), ensure_ascii=False), max_size=1 << 20)


@pytest.mark.parametrize("depth", [65, 1000, 100_000])
def test_nesting_deeper_than_any_message_is_refused_before_parsing(depth):
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth, "[" * depth):
        with pytest.raises(EncodingError, match="nested more than 64"):
            strictjson.loads(text, max_size=1 << 20)
    assert strictjson.loads("[" * 64 + "]" * 64, max_size=1 << 20) is not None


# -- ballots, ceremony messages, archives: every malformed variant refused -----------------------


def _variant(body: bytes, data):
    """One malformed variant of ``body``, drawn among all of them (through a seed: they are
    made lazily, eight at a time, every kind represented)."""
    seed = data.draw(st.integers(0, 1 << 32))
    return data.draw(st.sampled_from(mutants(body, random.Random(seed), 8)))


def _ballots(archive: Path):
    """The election and the ballots of an archive."""
    a = Archive.load(archive)
    sd = a.data(a.payload_index("Setup"))
    election = parse_election(a.entries[a.index_of_hash(sd["election"])].content)
    ballots = [
        a.entries[a.index_of_hash(ev["payload"])].content
        for _, ev in a.events()
        if ev["type"] == "Ballot"
    ]
    return election, ballots


BALLOT_VECTORS = {
    "2.0 homomorphic": PEER_VECTORS / "open.bel",
    "2.0 non-homomorphic": PEER_VECTORS / "nh.bel",
    "3.x lists": VECTORS / "belenios3" / "lists.bel",
    "3.x Ed25519": VECTORS / "belenios3" / "ed25519.bel",
}


@pytest.fixture(scope="module", params=sorted(BALLOT_VECTORS))
def vector_ballot(request):
    election, ballots = _ballots(BALLOT_VECTORS[request.param])
    return election, Context(election.group, election.public_key), ballots[0]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_malformed_ballot_is_refused_with_its_error(vector_ballot, data):
    election, ctx, ballot = vector_ballot
    m = _variant(ballot, data)
    with pytest.raises(PlebisciteError):
        verify_ballot(parse_ballot(m.body, election), election, ctx)


@pytest.fixture(scope="module")
def ceremony3():
    """A 2-of-3 Ed25519 ceremony (Belenios 3.x): its messages, one per line."""
    rng = DeterministicRandom("fuzz ceremony")
    g = ED25519
    secrets = [ceremony.make_certificate(g, rng, (z, 2, 3)) for z in range(1, 4)]
    certs = [s.cert for s in secrets]
    polys = [ceremony.make_polynomial(g, _lines(certs), s.seed, 2, rng) for s in secrets]
    vinputs = dict(ceremony.make_vinputs(g, _lines(certs), _lines(polys)))
    voutputs = [
        ceremony.make_voutput(g, _lines(certs), s.seed, vinputs[s.id], rng) for s in secrets
    ]
    return secrets, certs, polys, vinputs, voutputs


def _lines(values) -> str:
    return "".join(v + "\n" for v in values)


def _replaced(values, i: int, new: bytes) -> str:
    return _lines(
        [new.decode("utf-8", "surrogateescape") if k == i else v for k, v in enumerate(values)]
    )


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(step=st.sampled_from(["certificate", "polynomial", "vinput", "voutput"]), data=st.data())
def test_every_malformed_ceremony_message_is_refused_with_its_error(ceremony3, step, data):
    secrets, certs, polys, vinputs, voutputs = ceremony3
    g, i = ED25519, data.draw(st.integers(0, 2))
    s = secrets[i]
    message = {"certificate": certs, "polynomial": polys, "voutput": voutputs}.get(step)
    body = (message[i] if message else vinputs[s.id]).encode()
    m = _variant(body, data)
    with pytest.raises(PlebisciteError):
        if step == "certificate":
            ceremony.check_certificates(g, _replaced(certs, i, m.body))
        elif step == "polynomial":
            ceremony.make_vinputs(g, _lines(certs), _replaced(polys, i, m.body))
        elif step == "vinput":
            text = m.body.decode("utf-8", "surrogateescape")
            ceremony.make_voutput(g, _lines(certs), s.seed, text, DeterministicRandom("v"))
        else:
            ceremony.make_threshold_parameters(
                g, _lines(certs), _lines(polys), _replaced(voutputs, i, m.body)
            )


ARCHIVE_VECTORS = {
    "2.0": PEER_VECTORS / "open.bel",
    "3.x threshold": VECTORS / "belenios3" / "ed25519-threshold.bel",
    "3.x non-homomorphic": VECTORS / "belenios3" / "nh.bel",
}


@pytest.fixture(scope="module", params=sorted(ARCHIVE_VECTORS))
def vector_archive(request):
    return Archive.load(ARCHIVE_VECTORS[request.param])


@settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_malformed_member_makes_the_archive_invalid_never_a_crash(vector_archive, data):
    """A member replaced by a malformed variant (the hashes of the later members updated, so
    that the variant is the only thing wrong): a report, INVALID, naming the check."""
    a = vector_archive
    i = data.draw(st.integers(0, len(a.entries) - 1))
    m = _variant(a.entries[i].content, data)
    damaged = a.copy().replace_content(i, m.body).to_bytes()
    report = _verify(damaged)
    assert not report.valid, (i, m.kind, m.where)
    assert all(f.check and f.message for f in report.findings)
