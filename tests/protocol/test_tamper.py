"""Tampered copies of belenios-tool archives: each is rejected, with the right reason.

The tampering is done as a dishonest board would: every later hash reference and the chain of
parents are rewritten, ballots are re-signed with the voter's credential where the attack needs
it, so the only thing wrong is the attack itself. Together with tests/crypto, these cover the record
attacks of SECURITY-CASES 1 to 18 (the number of each case is in the test's name or docstring).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import peer_vector
from indexed_cases import verify_partitioned
from plebiscite.crypto.context import Context
from plebiscite.crypto.credentials import credential_secret
from plebiscite.crypto.hashing import h_json
from plebiscite.crypto.proofs import prove_schnorr
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.messages import Election, parse_election
from plebiscite.protocol.report import Report
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive


def load(name: str) -> tuple[Archive, dict[str, Any], Election]:
    path, meta = peer_vector(name)
    a = Archive.load(path)
    setup = a.data(a.payload_index("Setup"))
    election = parse_election(a.entries[a.index_of_hash(setup["election"])].content)
    return a, meta, election


def verify(a: Archive) -> Report:
    data = a.to_bytes()
    import io

    report = verify_archive(lambda: io.BytesIO(data))
    # the partitioned reduce of --cluster and --jobs gives the same report
    assert verify_partitioned(data).to_json() == report.to_json()
    return report


def assert_rejected(report: Report, check: str, fragment: str) -> None:
    assert not report.valid
    errors = [f for f in report.findings if f.severity == "error"]
    assert any(f.check == check and fragment in f.message for f in errors), [
        f.describe() for f in report.findings
    ]


def resign(ballot: dict[str, Any], credential: str, election: Election) -> dict[str, Any]:
    """Re-sign a (modified) ballot with a voter's secret credential."""
    ctx = Context(election.group, election.public_key)
    unsigned = {k: ballot[k] for k in ("election_uuid", "election_hash", "credential", "answers")}
    h = h_json(json.dumps(unsigned, separators=(",", ":")).encode())
    s = credential_secret(credential, election.uuid, election.group)
    sig = prove_schnorr(ctx, s, DeterministicRandom("sig").below(election.group.q), f"sig|{h}|")
    ballot = dict(unsigned)
    ballot["signature"] = {
        "hash": h,
        "proof": {"challenge": str(sig.challenge), "response": str(sig.response)},
    }
    return ballot


def credential_of(meta: dict[str, Any], election: Election, public: str) -> str:
    ctx = Context(election.group)
    for c in meta["private_credentials"]:
        if str(ctx.gpow(credential_secret(c, election.uuid, election.group))) == public:
            return c
    raise KeyError(public)


def edit_ballot(name: str, nth: int, fn, *, sign: bool = True) -> Report:
    a, meta, election = load(name)
    i = a.payload_index("Ballot", nth)
    ballot = a.data(i)
    cred = credential_of(meta, election, ballot["credential"])
    ballot = fn(ballot, meta, election)
    if sign:
        ballot = resign(ballot, cred, election)
    a.replace_content(i, json.dumps(ballot, separators=(",", ":")).encode())
    return verify(a)


def test_untouched_archive_is_valid():
    a, _, _ = load("single")
    assert verify(a).valid


# -- ballots (SECURITY-CASES 1 to 7) ---------------------------------------------------------


def test_tampered_proof_is_rejected():  # case 1
    def fn(b, meta, el):
        p = b["answers"][0]["individual_proofs"][0][1]
        p["response"] = str((int(p["response"]) + 1) % int(el.group.q))
        return b

    assert_rejected(edit_ballot("single", 0, fn), "ballot", "interval proof does not verify")


def test_tampered_overall_proof_is_rejected():  # case 1
    def fn(b, meta, el):
        p = b["answers"][1]["overall_proof"][0]
        p["challenge"] = str((int(p["challenge"]) + 1) % int(el.group.q))
        return b

    assert_rejected(edit_ballot("single", 1, fn), "ballot", "does not verify")


def test_tampered_signature_is_rejected():  # case 6
    def fn(b, meta, el):
        s = b["signature"]["proof"]
        s["response"] = str((int(s["response"]) + 1) % int(el.group.q))
        return b

    assert_rejected(edit_ballot("single", 0, fn, sign=False), "ballot", "signature does not verify")


def test_modified_ballot_without_resigning_is_rejected():  # case 6
    def fn(b, meta, el):
        b["answers"][0]["choices"].reverse()
        return b

    assert_rejected(edit_ballot("single", 0, fn, sign=False), "ballot", "signature hash")


def test_swapped_ciphertexts_are_rejected():
    def fn(b, meta, el):
        b["answers"][0]["choices"].reverse()
        b["answers"][0]["individual_proofs"].reverse()
        return b

    assert_rejected(edit_ballot("single", 0, fn), "ballot", "does not verify")


def test_copied_ballot_under_another_credential_is_rejected():  # case 2
    a, meta, election = load("single")
    first = a.data(a.payload_index("Ballot", 0))
    i = a.payload_index("Ballot", 1)
    second = a.data(i)
    copy = dict(first)
    copy["credential"] = second["credential"]
    copy = resign(copy, credential_of(meta, election, second["credential"]), election)
    a.replace_content(i, json.dumps(copy, separators=(",", ":")).encode())
    assert_rejected(verify(a), "ballot", "does not verify")


def test_reused_ciphertext_under_another_credential_is_rejected():  # case 3
    """A ballot with valid proofs that reuses another voter's alpha: only the board-wide check
    catches it. The test makes such a ballot for a second voter with the first voter's
    randomness (same deterministic random source), then puts it on the board."""
    a, meta, election = load("open")
    creds = meta["private_credentials"]
    votes = [[1, 0], [0, 1, 0]]
    b1 = make_ballot(election, creds[0], votes, DeterministicRandom("same"))
    b2 = make_ballot(election, creds[1], votes, DeterministicRandom("same"))
    assert json.loads(b1)["answers"][0]["choices"][0] == json.loads(b2)["answers"][0]["choices"][0]
    for nth, raw in ((0, b1), (1, b2)):
        a.replace_content(a.payload_index("Ballot", nth), raw)
    assert_rejected(verify(a), "ballot", "already appears under another credential")


def test_overvote_is_rejected():  # case 4
    """Two choices selected in a one-of-three question: the individual proofs hold, the overall
    proof cannot. The ballot takes the individual parts of a two-choice approval ballot."""
    a, meta, election = load("open")
    cred = meta["private_credentials"][0]
    ballot = json.loads(make_ballot(election, cred, [[1, 0], [1, 0, 0]], DeterministicRandom("o")))
    # a one-of-three answer that selects two: reuse the ballot's proofs for a different vote
    from plebiscite.crypto.proofs import Proof, prove_iproof

    ctx = Context(election.group, election.public_key)
    rng = DeterministicRandom("overvote")
    q = election.group.q
    rs = [rng.below(q) for _ in range(3)]
    vote = [1, 1, 0]
    cts = [(ctx.gpow(r), ctx.ypow(r) * ctx.gpow(m) % ctx.p) for r, m in zip(rs, vote)]
    S0 = f"{election.fingerprint}|{ballot['credential']}"
    ips = [
        prove_iproof(
            ctx, S0, al, be, r, m, (0, 1), rng.below(q), [Proof(rng.below(q), rng.below(q))]
        )
        for (al, be), r, m in zip(cts, rs, vote)
    ]
    S = S0 + "|" + ",".join(f"{al},{be}" for al, be in cts)
    a_s = cts[0][0] * cts[1][0] * cts[2][0] % ctx.p
    b_s = cts[0][1] * cts[1][1] * cts[2][1] % ctx.p
    # the best a cheater can do: claim the sum is 1 (branch 0) with the real randomness
    ov = prove_iproof(ctx, S, a_s, b_s, sum(rs) % q, 0, [1], rng.below(q), [])
    ballot["answers"][1] = {
        "choices": [{"alpha": str(al), "beta": str(be)} for al, be in cts],
        "individual_proofs": [
            [{"challenge": str(p.challenge), "response": str(p.response)} for p in ip] for ip in ips
        ],
        "overall_proof": [{"challenge": str(p.challenge), "response": str(p.response)} for p in ov],
    }
    ballot = resign(ballot, cred, election)
    a.replace_content(
        a.payload_index("Ballot", 0), json.dumps(ballot, separators=(",", ":")).encode()
    )
    assert_rejected(verify(a), "ballot", "does not verify")


def test_minus_one_choice_is_rejected():  # case 4
    """A choice encrypting -1, with a proof made for 0 or for 1: rejected."""
    a, meta, election = load("open")
    cred = meta["private_credentials"][0]
    ballot = json.loads(make_ballot(election, cred, [[1, 0], [1, 0, 0]], DeterministicRandom("m")))
    ctx = Context(election.group, election.public_key)
    beta = int(ballot["answers"][0]["choices"][1]["beta"])
    # multiply beta by g^-1: the choice now encrypts -1 (the sum with the other choice is 0)
    ballot["answers"][0]["choices"][1]["beta"] = str(beta * int(ctx.gpow(-1)) % int(ctx.p))
    ballot = resign(ballot, cred, election)
    a.replace_content(
        a.payload_index("Ballot", 0), json.dumps(ballot, separators=(",", ":")).encode()
    )
    assert_rejected(verify(a), "ballot", "does not verify")


def test_wrong_number_of_proof_branches_is_rejected():  # case 4
    def fn(b, meta, el):
        ip = b["answers"][0]["individual_proofs"][0]
        ip.append(ip[0])
        return b

    assert_rejected(edit_ballot("single", 0, fn), "ballot", "more than the 2 allowed")


@pytest.mark.parametrize("field", ["election_uuid", "election_hash"])
def test_ballot_for_another_election_is_rejected(field):  # case 5
    def fn(b, meta, el):
        b[field] = "aaaaaaaaaaaaaa" if field == "election_uuid" else "x" * 43
        return b

    assert_rejected(edit_ballot("single", 0, fn), "ballot", "ballot is for another election")


def test_answers_not_matching_the_questions_are_rejected():  # case 5
    def fn(b, meta, el):
        b["answers"] = b["answers"][:1]
        return b

    assert_rejected(edit_ballot("single", 0, fn), "ballot", "items, expected 2")


def test_foreign_credential_is_rejected():  # case 6
    a, _meta, election = load("open")
    from plebiscite.crypto.credentials import generate_credential, parse_credential

    outsider = generate_credential(DeterministicRandom("outsider"))  # valid, not on the list
    assert parse_credential(outsider) == outsider
    raw = make_ballot(election, outsider, [[1, 0], [0, 0, 1]], DeterministicRandom("f"))
    a.replace_content(a.payload_index("Ballot", 0), raw)
    assert_rejected(verify(a), "ballot", "not in the public credential list")


def test_only_the_last_ballot_counts():  # case 7
    """The revotes archive has voters who voted several times; a tally that counts an earlier
    ballot instead of the last one is rejected."""
    a, _meta, _election = load("revotes")
    assert verify(a).valid
    i = a.payload_index("EncryptedTally")
    st = a.data(i)
    j = a.index_of_hash(st["encrypted_tally"])
    tally = a.data(j)
    tally[0][0], tally[0][1] = tally[0][1], tally[0][0]
    a.replace_content(j, json.dumps(tally, separators=(",", ":")).encode())
    assert_rejected(verify(a), "tally", "encrypted tally differs")


# -- group elements and encodings (SECURITY-CASES 8 to 11) -----------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0", "not an element"),
        ("1", "neutral element"),
        ("P", "not an element"),
        ("P-1", "not an element"),
        ("P+1", "not an element"),
        ("007", "not a canonical decimal"),
        ("-5", "not a canonical decimal"),
        ("5e3", "not a canonical decimal"),
        (5, "expected a number written as a JSON string"),
        ("9" * 1000, "more than the"),
    ],
)
def test_bad_group_elements_in_a_ballot_are_rejected(value, fragment):  # cases 8, 10, 11
    def fn(b, meta, el):
        p = int(el.group.p)
        v = (
            {"P": str(p), "P-1": str(p - 1), "P+1": str(p + 1)}.get(value, value)
            if isinstance(value, str)
            else value
        )
        b["answers"][0]["choices"][0]["alpha"] = v
        return b

    assert_rejected(edit_ballot("single", 0, fn), "ballot", fragment)


@pytest.mark.parametrize("which", ["challenge", "response"])
def test_scalars_out_of_range_are_rejected(which):  # case 9
    def fn(b, meta, el):
        p = b["answers"][0]["individual_proofs"][0][0]
        p[which] = str(int(p[which]) + int(el.group.q))
        return b

    assert_rejected(edit_ballot("single", 0, fn, sign=False), "ballot", "not below the group order")


def test_duplicate_json_keys_are_rejected():  # case 10
    a, _, _ = load("single")
    i = a.payload_index("Ballot", 0)
    raw = a.entries[i].content
    raw = raw.replace(b'{"election_uuid"', b'{"election_uuid":"x","election_uuid"', 1)
    a.replace_content(i, raw)
    assert_rejected(verify(a), "ballot", "duplicate JSON key")


def test_oversized_ballot_is_rejected_before_parsing():  # case 11
    a, _, _ = load("single")
    i = a.payload_index("Ballot", 0)
    a.replace_content(i, b'{"x":"' + b"1" * (2 << 20) + b'"}')
    assert_rejected(verify(a), "ballot", "more than the limit")


# -- trustees, tally, decryption (SECURITY-CASES 12 to 17) -----------------------------------


def _edit_trustees(name: str, fn) -> Report:
    a, _, _ = load(name)
    setup = a.data(a.payload_index("Setup"))
    i = a.index_of_hash(setup["trustees"])
    a.edit(i, fn)
    return verify(a)


def test_trustee_key_without_valid_proof_stops_the_setup():  # case 12
    def fn(t):
        pok = t[1][1]["pok"]
        pok["response"] = str(int(pok["response"]) // 2)
        return t

    assert_rejected(_edit_trustees("single", fn), "setup", "proof of knowledge does not verify")


def test_threshold_verification_key_must_match_commitments():  # case 12
    def fn(t):
        item = next(x for x in t if x[0] == "Pedersen")[1]
        vks = item["verification_keys"]
        vks[0], vks[1] = vks[1], vks[0]
        return t

    assert_rejected(_edit_trustees("threshold", fn), "setup", "coefficient commitments")


def test_threshold_certificate_signature_is_checked():  # case 12
    def fn(t):
        item = next(x for x in t if x[0] == "Pedersen")[1]
        cert = item["certs"][0]
        cert["message"] = cert["message"].replace('"encryption"', ' "encryption"')
        return t

    assert_rejected(_edit_trustees("threshold", fn), "setup", "does not verify")


def test_election_key_must_be_the_product_of_trustee_keys():
    def fn(t):
        return t[:2]

    assert_rejected(_edit_trustees("single", fn), "setup", "product of the trustees' keys")


def _edit_partial_decryption(name: str, nth: int, fn) -> Report:
    a, _, _ = load(name)
    owned = a.data(a.payload_index("PartialDecryption", nth))
    a.edit(a.index_of_hash(owned["payload"]), fn)
    return verify(a)


def _break_first_factor(pd):
    f = pd["decryption_factors"][0][0]
    pd["decryption_factors"][0][0] = pd["decryption_factors"][0][1]
    pd["decryption_factors"][0][1] = f
    return pd


def test_invalid_partial_decryption_of_a_single_trustee_is_rejected():  # case 13
    report = _edit_partial_decryption("single", 1, _break_first_factor)
    assert_rejected(report, "decryption", "decryption proof does not verify")


def test_invalid_threshold_share_is_set_aside_but_too_few_remain():  # case 13
    """The threshold archive was decrypted by exactly two of three threshold trustees: with one
    share invalid, too few remain and the result cannot be checked."""
    a, _, _ = load("threshold")
    owners = [a.data(a.payload_index("PartialDecryption", k))["owner"] for k in range(3)]
    nth = owners.index(max(owners))  # a threshold trustee (the Single server key comes first)
    report = _edit_partial_decryption("threshold", nth, _break_first_factor)
    warnings = [f for f in report.findings if f.severity == "warning"]
    assert warnings and "decryption proof does not verify" in warnings[0].message
    assert_rejected(report, "result", "valid partial decryptions")


def test_invalid_threshold_share_is_set_aside_while_enough_remain():  # case 13
    """All three threshold trustees decrypted: one invalid share is set aside (a warning naming
    the trustee), the two others suffice and the archive is valid."""
    a, _, _ = load("threshold-all")
    owners = [a.data(a.payload_index("PartialDecryption", k))["owner"] for k in range(4)]
    nth = owners.index(max(owners))
    report = _edit_partial_decryption("threshold-all", nth, _break_first_factor)
    assert report.valid, [f.describe() for f in report.findings]
    (warning,) = report.findings
    assert warning.severity == "warning"
    assert f"trustee {max(owners)}" in warning.where
    assert "decryption proof does not verify" in warning.message
    assert report.result is not None


def test_tampered_encrypted_tally_is_rejected_even_if_the_result_fits():  # case 14
    """Re-randomise the tally (same plaintexts): the product no longer matches the ballots."""
    a, _, election = load("single")
    st = a.data(a.payload_index("EncryptedTally"))
    j = a.index_of_hash(st["encrypted_tally"])
    tally = a.data(j)
    ctx = Context(election.group, election.public_key)
    c = tally[0][0]
    c["alpha"] = str(int(c["alpha"]) * int(ctx.gpow(7)) % int(ctx.p))
    c["beta"] = str(int(c["beta"]) * int(ctx.ypow(7)) % int(ctx.p))
    a.replace_content(j, json.dumps(tally, separators=(",", ":")).encode())
    assert_rejected(verify(a), "tally", "encrypted tally differs")


def test_tampered_num_tallied_is_rejected():
    a, _, _ = load("single")
    a.edit(
        a.payload_index("EncryptedTally"), lambda st: st | {"num_tallied": st["num_tallied"] + 1}
    )
    assert_rejected(verify(a), "tally", "num_tallied")


def test_tampered_result_is_rejected():  # case 15
    a, _, _ = load("single")

    def fn(r):
        r["result"][0][0] += 1
        return r

    a.edit(a.payload_index("Result"), fn)
    assert_rejected(verify(a), "result", "does not match the decryption")


def test_huge_result_fails_fast():  # case 15
    a, _, _ = load("single")

    def fn(r):
        r["result"][0][0] = str(10**25)
        return r

    a.edit(a.payload_index("Result"), fn)
    assert_rejected(verify(a), "result", "outside [0, total weight")


def test_tampered_nh_result_is_rejected():  # case 15
    a, _, _ = load("nh")

    def fn(r):
        r["result"][1][0] = list(reversed(r["result"][1][0]))
        return r

    a.edit(a.payload_index("Result"), fn)
    assert_rejected(verify(a), "result", "decoded vote does not match")


def test_invalid_shuffle_is_rejected_and_not_used():  # case 16
    a, _, _ = load("nh")
    owned = a.data(a.payload_index("Shuffle", 0))
    j = a.index_of_hash(owned["payload"])

    def fn(sh):
        cts = sh["ciphertexts"][0]
        cts[0], cts[1] = cts[1], cts[0]
        return sh

    a.edit(j, fn)
    report = verify(a)
    assert_rejected(report, "shuffle", "shuffle proof does not verify")
    # the next shuffle was made on the (rejected) output, so it fails too; nothing decrypts
    assert not report.valid


# -- the board (SECURITY-CASES 18) and the election text -------------------------------------


def test_removed_ballot_is_detected():  # case 18
    a, _, _ = load("single")
    a.remove_event(2)  # the second ballot; heights and parents rewritten after it
    assert_rejected(verify(a), "tally", "num_tallied")


def test_broken_chain_is_detected():  # case 18
    a, _, _ = load("single")
    evs = a.events()
    i, ev = evs[3]
    ev["height"] = 7
    a.replace_content(i, json.dumps(ev, separators=(",", ":")).encode())
    assert_rejected(verify(a), "chain", "height is 7, expected 3")


def test_reordered_events_are_detected():  # case 18
    a, _, _ = load("single")
    evs = a.events()
    (i, _), (j, _) = evs[-1], evs[-2]
    a.entries[i], a.entries[j] = a.entries[j], a.entries[i]
    report = verify(a)
    assert not report.valid


def test_election_text_edited_after_voting_is_rejected():
    a, _, _ = load("single")
    setup = a.data(a.payload_index("Setup"))
    i = a.index_of_hash(setup["election"])
    a.edit(i, lambda e: e | {"name": e["name"] + " (amended)"})
    assert_rejected(verify(a), "ballot", "ballot is for another election")


def test_member_name_must_be_the_hash_of_its_content():
    a, _, _ = load("single")
    data = bytearray(a.to_bytes())
    pos = data.find(b'"election_uuid"')
    data[pos + 1] = ord("E")
    import io

    report = verify_archive(lambda: io.BytesIO(bytes(data)))
    assert not report.valid
    assert any("hashes to" in f.message or "checksum" in f.message for f in report.findings)


def test_unreferenced_data_is_reported():
    a, _, _ = load("single")
    from tamper import Entry

    a.entries.insert(len(a.entries) - 1, Entry("data", b'{"stray":true}', a.entries[0].mtime))
    assert_rejected(verify(a), "archive", "not referenced")


def test_paths_are_tests_vectors():
    assert Path(peer_vector("single")[0]).exists()


def test_reencoded_ballot_is_rejected():  # case 10: one ballot, one encoding
    """The same ballot with other spacing would get another tracker (and could bring back a
    replaced vote); belenios-tool refuses it as 'not in canonical form', and so does this."""
    a, _, _ = load("single")
    i = a.payload_index("Ballot", 0)
    a.replace_content(i, a.entries[i].content.replace(b'":', b'": ', 1))
    assert_rejected(verify(a), "ballot", "canonical form")
