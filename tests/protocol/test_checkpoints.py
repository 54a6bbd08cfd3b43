"""Signed checkpoints of board heads: Ed25519 keys and signatures, tampering, and the proof of
equivocation when a server shows two different boards (SECURITY-CASES 20)."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.crypto import signing
from plebiscite.crypto.hashing import h_json, sha256_hex
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.crypto.signing import SigningKey, VerifyKey, b64decode, b64encode
from plebiscite.errors import (
    ConsistencyError,
    EncodingError,
    MembershipError,
    ProofError,
    SizeError,
)
from plebiscite.protocol.checkpoints import (
    DOMAIN,
    PHASES,
    Checkpoint,
    SignedCheckpoint,
    check_extends,
    detect_equivocation,
    sign_checkpoint,
    verify_checkpoint,
)

SERVER = SigningKey.generate(DeterministicRandom("checkpoint server"))
OTHER = SigningKey.generate(DeterministicRandom("another server"))
E1, E2 = "Ab3dEf5hJk7mNp", "Bc4eFg6iKm8nPq"


def event_hash(election: str, height: int, board: str = "") -> str:
    """The hash of the event at ``height`` of a board (``board`` tells two boards apart)."""
    return sha256_hex(f"{board}|{election}|{height}".encode())


def at(i: int) -> str:
    return f"2030-05-12T{6 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"


def chain(
    key: SigningKey, election: str, heights: list[int], board: str = "", previous=None, t0=0
) -> list[SignedCheckpoint]:
    """The checkpoints a correct server signs of one board as it grows."""
    out: list[SignedCheckpoint] = []
    for i, h in enumerate(heights):
        sc = sign_checkpoint(
            key,
            election=election,
            height=h,
            hash=event_hash(election, h, board),
            time=at(t0 + i),
            phase="open" if h else "setup",
            previous=previous,
        )
        out.append(sc)
        previous = sc
    return out


def one(**changes) -> SignedCheckpoint:
    fields = {
        "election": E1,
        "height": 7,
        "hash": event_hash(E1, 7),
        "time": at(0),
        "phase": "open",
        "previous": None,
    }
    fields.update(changes)
    return sign_checkpoint(SERVER, **fields)


# -- keys and signatures ---------------------------------------------------------------------


def test_rfc8032_test_vector_1():
    sk = SigningKey.from_seed(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert sk.public().raw.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    sig = sk.sign(b"")
    assert sig.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc6"
        "1e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    sk.public().verify(b"", sig)
    with pytest.raises(ProofError):
        sk.public().verify(b"x", sig)


def test_key_generation_has_a_deterministic_twin_and_base64_round_trips():
    a = SigningKey.generate(DeterministicRandom("seed"))
    assert a == SigningKey.generate(DeterministicRandom("seed"))
    assert a != SigningKey.generate(DeterministicRandom("other seed"))
    assert SigningKey.from_base64(a.to_base64()) == a
    pub = a.public()
    assert len(pub.to_base64()) == 43 and "=" not in pub.to_base64()
    assert VerifyKey.from_base64(pub.to_base64()) == pub
    assert a.seed.hex() not in repr(a)
    assert a.sign(b"m") == a.sign(b"m")  # Ed25519 is deterministic


@pytest.mark.parametrize(
    "text",
    [
        None,
        42,
        "",
        "A" * 42,
        "A" * 44,
        "A" * 42 + "B",  # non-zero trailing bits: "AAA...B" is not a canonical encoding
        "A" * 43 + "=",
        " " + "A" * 42,
        "A" * 41 + "-_",  # URL-safe alphabet
    ],
)
def test_strict_base64(text):
    with pytest.raises(EncodingError):
        b64decode(text, 32, where="key")


def _encode_point(p) -> bytes:
    x, y, z, _ = p
    zi = pow(z, -1, signing._P)
    x, y = x * zi % signing._P, y * zi % signing._P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def test_small_order_and_mixed_order_public_keys_are_refused():
    neutral = (1).to_bytes(32, "little")
    order2 = (signing._P - 1).to_bytes(32, "little")  # (0, -1)
    for raw in (neutral, order2):
        with pytest.raises(MembershipError):
            VerifyKey(raw)
    # a real key plus a point of order 2: not in the prime-order subgroup
    A = signing._decode_point(SERVER.public().raw)
    T = signing._decode_point(order2)
    assert A is not None and T is not None
    mixed = _encode_point(signing._add(A, T))
    assert signing._decode_point(mixed) is not None
    with pytest.raises(MembershipError):
        VerifyKey(mixed)
    # the universal forgery these checks prevent: with the neutral key, (R = neutral, S = 0)
    # would verify for every message under OpenSSL's cofactorless check
    with pytest.raises(MembershipError):
        VerifyKey.from_base64(b64encode(neutral))


def test_non_canonical_point_encodings_are_refused():
    for raw in (b"\xff" * 32, (2**255 - 19 + 1).to_bytes(32, "little")):
        with pytest.raises(EncodingError):
            VerifyKey(raw)
    with pytest.raises(EncodingError):
        VerifyKey(b"\x01" * 31)


# -- checkpoints -----------------------------------------------------------------------------


def test_sign_verify_and_the_json_format():
    sc = one()
    assert verify_checkpoint(SERVER.public(), sc) == sc.checkpoint
    raw = sc.to_json()
    value = json.loads(raw)
    assert list(value) == ["checkpoint", "key", "signature"]
    assert list(value["checkpoint"]) == sorted(value["checkpoint"])
    assert value["checkpoint"]["previous"] is None
    assert value["key"] == SERVER.public().to_base64()
    assert (
        sc.checkpoint.to_json()
        == json.dumps(value["checkpoint"], sort_keys=True, separators=(",", ":")).encode()
    )
    assert sc.fingerprint == h_json(sc.checkpoint.to_json())
    assert SignedCheckpoint.from_json(raw) == sc
    assert SignedCheckpoint.from_json(json.dumps(value, indent=2)) == sc  # layout is free


@settings(max_examples=50, deadline=None)
@given(
    height=st.integers(0, 2**53 - 1),
    hash_seed=st.binary(max_size=8),
    phase=st.sampled_from(PHASES),
    second=st.integers(0, 3599),
    with_previous=st.booleans(),
)
def test_round_trip_of_any_checkpoint(height, hash_seed, phase, second, with_previous):
    previous = h_json(hash_seed) if with_previous else None
    sc = sign_checkpoint(
        SERVER,
        election=E2,
        height=height,
        hash=sha256_hex(hash_seed),
        time=at(second),
        phase=phase,
        previous=previous,
    )
    again = SignedCheckpoint.from_json(sc.to_json())
    assert again == sc
    assert verify_checkpoint(SERVER.public(), again).previous == previous


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("election", E2),
        ("height", 8),
        ("hash", event_hash(E1, 7, "other board")),
        ("time", at(1)),
        ("phase", "closed"),
        ("previous", h_json(b"x")),
    ],
)
def test_tampered_fields_are_rejected(field, value):
    sc = one()
    value_json = json.loads(sc.to_json())
    value_json["checkpoint"][field] = value
    tampered = SignedCheckpoint.from_json(json.dumps(value_json))
    with pytest.raises(ProofError, match="invalid Ed25519 signature"):
        verify_checkpoint(SERVER.public(), tampered)
    assert not tampered.is_valid()


def test_tampered_signature_or_key_is_rejected():
    sc = one()
    flipped = bytes([sc.signature[0] ^ 1]) + sc.signature[1:]
    with pytest.raises(ProofError):
        verify_checkpoint(SERVER.public(), SignedCheckpoint(sc.checkpoint, sc.key, flipped))
    with pytest.raises(ProofError, match="another key"):
        verify_checkpoint(OTHER.public(), sc)
    # the server's signature presented under another key
    relabelled = SignedCheckpoint(sc.checkpoint, OTHER.public(), sc.signature)
    with pytest.raises(ProofError):
        verify_checkpoint(OTHER.public(), relabelled)


def test_signature_is_domain_separated():
    sc = one()
    assert sc.checkpoint.message() == DOMAIN + sc.checkpoint.to_json()
    bare = SERVER.sign(sc.checkpoint.to_json())
    with pytest.raises(ProofError):
        verify_checkpoint(SERVER.public(), SignedCheckpoint(sc.checkpoint, sc.key, bare))


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("election", "short", "Base58"),
        ("height", -1, "outside"),
        ("height", 1.5, "integer"),
        ("hash", "A" * 64, "SHA256"),
        ("time", "2030-05-12T06:00:00", "UTC"),
        ("time", "2030-13-12T06:00:00Z", "invalid time"),
        ("time", "\u0662\u0660\u0663\u0660-05-12T06:00:00Z", "UTC"),  # Arabic-Indic digits
        ("phase", "empty", "unknown phase"),
        ("previous", "abc", "Base64"),
    ],
)
def test_parse_errors_name_the_field(field, value, words):
    value_json = json.loads(one().to_json())
    value_json["checkpoint"][field] = value
    with pytest.raises(EncodingError, match=words) as e:
        SignedCheckpoint.from_json(json.dumps(value_json))
    assert e.value.where == f"signed checkpoint.checkpoint.{field}"
    with pytest.raises(EncodingError, match=words):
        sign_checkpoint(SERVER, **{**json.loads(one().to_json())["checkpoint"], field: value})


def test_envelope_errors():
    value = json.loads(one().to_json())
    with pytest.raises(EncodingError, match="unknown field 'note'"):
        SignedCheckpoint.from_json(json.dumps({**value, "note": 1}))
    with pytest.raises(EncodingError, match="missing field 'time'"):
        del value["checkpoint"]["time"]
        SignedCheckpoint.from_json(json.dumps(value))
    with pytest.raises(EncodingError) as e:
        SignedCheckpoint.from_json(json.dumps({**json.loads(one().to_json()), "signature": "x"}))
    assert e.value.where == "signed checkpoint.signature"
    with pytest.raises(SizeError):
        SignedCheckpoint.from_json(b" " * 5000)


def test_phases_are_the_verifier_statuses():
    from plebiscite.protocol.verifier import STATUS

    assert set(STATUS.values()) | {"setup"} == set(PHASES)


# -- extension -------------------------------------------------------------------------------


def test_check_extends():
    a, b, c = chain(SERVER, E1, [3, 3, 9])
    check_extends(a, b)
    check_extends(b, c)
    check_extends(a, c)
    with pytest.raises(ConsistencyError, match="below"):
        check_extends(c, a)
    fork = one(height=3, hash=event_hash(E1, 3, "other board"))
    with pytest.raises(ConsistencyError, match="two different last events at height 3"):
        check_extends(a, fork)
    with pytest.raises(ConsistencyError, match="two elections"):
        check_extends(a, one(election=E2, height=10))


def test_signer_refuses_to_sign_a_regression():
    (a,) = chain(SERVER, E1, [9])
    with pytest.raises(ConsistencyError, match="below"):
        sign_checkpoint(
            SERVER,
            election=E1,
            height=5,
            hash=event_hash(E1, 5),
            time=at(1),
            phase="open",
            previous=a,
        )


# -- equivocation ----------------------------------------------------------------------------


def test_same_height_different_hash_is_an_equivocation():
    honest = chain(SERVER, E1, [0, 4, 9, 15])
    shown_to_bob = chain(SERVER, E1, [0, 4, 9], board="bob", t0=100)
    found = detect_equivocation(honest + shown_to_bob)
    conflicts = [e for e in found if e.kind == "conflict"]
    assert {e.first.checkpoint.height for e in conflicts} == {0, 4, 9}
    for e in found:
        assert e.key == SERVER.public() and e.election == E1
        # the evidence stands on its own: both checkpoints verify under the server's key
        evidence = json.loads(e.to_json())
        for c in evidence["checkpoints"]:
            verify_checkpoint(SERVER.public(), SignedCheckpoint.from_json(json.dumps(c)))
    e = next(e for e in conflicts if e.first.checkpoint.height == 9)
    assert "signed two boards of Ab3dEf5hJk7mNp at height 9" in e.describe()


def test_forked_previous_chain_is_an_equivocation():
    trunk = chain(SERVER, E1, [0, 5])
    # two successors of the same checkpoint at different heights: no same-height conflict
    left = chain(SERVER, E1, [8], previous=trunk[-1], t0=10)
    right = chain(SERVER, E1, [12], board="right", previous=trunk[-1], t0=20)
    found = detect_equivocation(trunk + left + right)
    assert [e.kind for e in found] == ["fork"]
    assert {found[0].first.fingerprint, found[0].second.fingerprint} == {
        left[0].fingerprint,
        right[0].fingerprint,
    }
    assert f"following checkpoint {trunk[-1].fingerprint}" in found[0].describe()


def test_two_chain_starts_are_a_fork():
    a = chain(SERVER, E1, [0, 3])
    b = chain(SERVER, E1, [2], t0=50)  # a second first checkpoint (previous null)
    found = detect_equivocation(a + b)
    assert [e.kind for e in found] == ["fork"]
    assert "two starts" in found[0].describe()


def test_a_link_backwards_is_a_regression():
    (high,) = chain(SERVER, E1, [20])
    # signed by the server's key directly, bypassing sign_checkpoint's own check
    low = Checkpoint(E1, 10, event_hash(E1, 10), at(5), "open", high.fingerprint)
    bad = SignedCheckpoint(low, SERVER.public(), SERVER.sign(low.message()))
    found = detect_equivocation([high, bad])
    assert [e.kind for e in found] == ["regression"]
    assert "cannot extend" in found[0].describe()


def test_k_conflicting_heads_give_k_minus_1_pairs_and_duplicates_count_once():
    boards = [chain(SERVER, E1, [6], board=str(i)) for i in range(4)]
    everything = [c for b in boards for c in b]
    found = detect_equivocation(everything + everything[:2])
    # four different first checkpoints: conflicts at height 6 (forks of the same pairs are
    # not reported again)
    assert [e.kind for e in found] == ["conflict"] * 3
    assert len({e.first.fingerprint for e in found}) == 1


def test_no_equivocation_across_keys_or_elections_or_without_valid_signatures():
    mine = chain(SERVER, E1, [0, 4])
    theirs = chain(OTHER, E1, [0, 4], board="other")  # another key: not the server's word
    other_election = chain(SERVER, E2, [0, 4], board="other")
    assert detect_equivocation(mine + theirs + other_election) == []
    # a forged checkpoint under the server's key is no evidence
    fake = Checkpoint(E1, 4, event_hash(E1, 4, "forged"), at(9), "open", mine[0].fingerprint)
    forged = SignedCheckpoint(fake, SERVER.public(), OTHER.sign(fake.message()))
    assert detect_equivocation([*mine, forged]) == []


@settings(max_examples=60, deadline=None)
@given(
    growth=st.lists(st.lists(st.integers(0, 5), min_size=1, max_size=12), min_size=1, max_size=3),
    seed=st.integers(0, 2**32),
)
def test_no_false_positive_on_growing_boards(growth, seed):
    """Correct servers' chains (heights never decreasing, re-checkpoints at the same head,
    several elections and keys), shown many times and in any order: nothing is reported."""
    everything: list[SignedCheckpoint] = []
    for i, steps in enumerate(growth):
        heights = []
        h = 0
        for s in steps:
            h += s
            heights.append(h)
        key = (SERVER, OTHER)[i % 2]
        election = (E1, E2, "Cd5fGh7jLn9oQr")[i]
        everything += chain(key, election, heights)
    rng = random.Random(seed)
    shown = everything + rng.sample(everything, k=min(3, len(everything)))
    rng.shuffle(shown)
    assert detect_equivocation(shown) == []
    for older, newer in itertools.pairwise(everything):
        if older.checkpoint.election == newer.checkpoint.election:
            check_extends(older, newer)
