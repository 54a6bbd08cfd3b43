"""The public credential list parsed a piece at a time (plebiscite.protocol.roll): the same
credentials and weights as the whole list parsed, or a piece that says it is not ok."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plebiscite.crypto.credentials import credential_secret, generate_credential
from plebiscite.crypto.groups import ED25519
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.errors import PlebisciteError
from plebiscite.protocol.archive import IndexEntry, index_archive, member_bytes, read_member
from plebiscite.protocol.messages import parse_credentials
from plebiscite.protocol.reduce import Listed, part_of
from plebiscite.protocol.roll import merge_listed, roll_pieces, roll_range
from tamper import Archive

VECTOR = Archive.load(Path(__file__).parents[1] / "vectors" / "belenios3" / "ed25519.bel")

_setup = VECTOR.data(VECTOR.payload_index("Setup"))
ELECTION = VECTOR.entries[VECTOR.index_of_hash(_setup["election"])].content
UUID = json.loads(ELECTION)["uuid"]
_rng = DeterministicRandom(b"roll")
PUBLICS = [
    ED25519.encode(ED25519.gpow(credential_secret(generate_credential(_rng), UUID, ED25519)))
    for _ in range(24)
]


def _member(content: bytes) -> tuple[io.BytesIO, IndexEntry]:
    data = member_bytes("BELENIOS", b"{}", 0) + member_bytes(_name(content), content, 0)
    stream = io.BytesIO(data)
    index = index_archive(stream)
    return stream, index[1]


def _name(content: bytes) -> str:
    return f"{hashlib.sha256(content).hexdigest()}.data.json"


def _rolled(content: bytes, piece: int, parts: int) -> tuple[bool, list[Listed], int, int]:
    stream, entry = _member(content)
    pieces = roll_pieces(stream, entry, piece=piece)
    data = stream.getvalue()
    base = entry.offset + 512
    out = [
        roll_range(ELECTION, parts, data[base + a : base + b], i == 0, i == len(pieces) - 1)
        for i, (a, b) in enumerate(pieces)
    ]
    ok = all(o[0].ok for o in out)
    merged = [merge_listed(*(o[1 + p] for o in out)) for p in range(parts)]
    ok = ok and not any(twice for _, twice in merged)
    return ok, [m for m, _ in merged], sum(o[0].credentials for o in out), len(pieces)


entries = st.lists(
    st.tuples(
        st.sampled_from(range(len(PUBLICS))),
        st.sampled_from([None, "", "1", "3", "1000000000000"]),
        st.sampled_from([None, "alice", "bob@example.org", "zoë"]),
    ),
    min_size=1,
    max_size=24,
    unique_by=lambda e: e[0],
)


def _text(e: tuple[int, str | None, str | None]) -> str:
    i, weight, login = e
    fields = [PUBLICS[i]]
    if weight is not None or login is not None:
        fields.append(weight or "")
    if login is not None:
        fields.append(login)
    return ",".join(fields)


@settings(max_examples=40, deadline=None)
@given(entries, st.integers(1, 600), st.integers(1, 4))
def test_pieces_give_the_credentials_of_the_whole_list(
    es: list[tuple[int, str | None, str | None]], piece: int, parts: int
) -> None:
    creds = [_text(e) for e in es]
    content = json.dumps(creds, separators=(",", ":"), ensure_ascii=False).encode()
    ok, listed, count, pieces = _rolled(content, piece, parts)
    assert ok and count == len(creds)
    assert pieces >= min(len(creds), len(content) // (piece + 200))
    want: dict[str, int] = {}
    for c in creds:
        fields = c.split(",")
        want[fields[0]] = int(fields[1]) if len(fields) > 1 and fields[1] else 1
    for p, part in enumerate(listed):
        assert dict(part.items()) == {
            c: w for c, w in want.items() if part_of(c.encode(), parts) == p
        }


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(PUBLICS[:6]).encode(),  # white space
        ("[\n" + ",".join(json.dumps(c) for c in PUBLICS[:6]) + "]").encode(),
        json.dumps(["\\u0041" + PUBLICS[0][1:], *PUBLICS[1:6]]).encode(),  # an escape
        json.dumps([*PUBLICS[:6], PUBLICS[2]], separators=(",", ":")).encode(),  # twice
        json.dumps([*PUBLICS[:5], "1"], separators=(",", ":")).encode(),  # not an element
        json.dumps([*PUBLICS[:5], PUBLICS[5] + ",x"], separators=(",", ":")).encode(),
        json.dumps([*PUBLICS[:5], 7], separators=(",", ":")).encode(),  # not a string
        json.dumps(PUBLICS[:6], separators=(",", ":")).encode()[:-1],  # not closed
        b"\xef\xbb\xbf" + json.dumps(PUBLICS[:6], separators=(",", ":")).encode(),
        json.dumps(PUBLICS[:6], separators=(",", ":")).encode().replace(b"a", b"\xff", 1),
        b'["' + b'","'.join(c.encode() for c in PUBLICS[:5]) + b'","\x01"]',
    ],
)
@pytest.mark.parametrize("piece", [1, 100, 1 << 20])
def test_a_list_in_another_form_or_with_an_error_is_not_taken(content: bytes, piece: int) -> None:
    ok, _, _, _ = _rolled(content, piece, 2)
    assert not ok


def test_the_member_is_checked_as_read_member_checks_it() -> None:
    content = json.dumps(PUBLICS, separators=(",", ":")).encode()
    stream, entry = _member(content)
    wrong = entry._replace(hash="0" * 64)
    short = entry._replace(size=entry.size + 2000)
    for bad in (wrong, short):
        with pytest.raises(PlebisciteError) as sequential:
            read_member(stream, bad)
        with pytest.raises(PlebisciteError) as rolled:
            roll_pieces(stream, bad)
        assert (rolled.value.message, rolled.value.where) == (
            sequential.value.message,
            sequential.value.where,
        )


def test_a_list_read_without_decoding_keeps_its_form_checks() -> None:
    """``decode=False`` (a board's list, checked when the board took it) takes each
    credential's text and weight without decoding it, and still refuses what is not the
    list's form: a weight that is not a positive number, a credential listed twice."""
    creds = parse_credentials(b'["not-a-point,3","other"]', ED25519, decode=False)
    assert [(c.public, c.weight) for c in creds] == [("not-a-point", 3), ("other", 1)]
    with pytest.raises(PlebisciteError):
        parse_credentials(b'["not-a-point"]', ED25519)
    for raw in (b'["a,0"]', b'["a,x"]', b'["a","a"]', b'["a,1,l,m"]', b"[1]"):
        with pytest.raises(PlebisciteError):
            parse_credentials(raw, ED25519, decode=False)
