"""Tampered copies of belenios-tool 3.0 records (tests/vectors/belenios3): each is rejected with
the right reason, where belenios-tool 3.x's own ``election verify`` accepts several of them
(it does not check ballots and does not recompute the encrypted tally)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from indexed_cases import verify_partitioned
from plebiscite.crypto.context import Context
from plebiscite.crypto.ed25519 import ED25519
from plebiscite.protocol.messages import parse_election
from plebiscite.protocol.report import Report
from plebiscite.protocol.verifier import verify_archive
from tamper import Archive

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "belenios3"


def load(name: str) -> Archive:
    return Archive.load(VECTORS / f"{name}.bel")


def verify(a: Archive) -> Report:
    data = a.to_bytes()

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


def _trustees(a: Archive) -> int:
    setup = a.data(a.payload_index("Setup"))
    return a.index_of_hash(setup["trustees"])


def _pedersen(t: Any) -> dict[str, Any]:
    return next(x for x in t if x[0] == "Pedersen")[1]


@pytest.mark.parametrize(
    "name", ["ed25519", "ed25519-threshold", "lists", "nh", "ff-2048", "blank", "revotes-weighted"]
)
def test_untouched_records_are_valid_and_3x(name):
    report = verify(load(name))
    assert report.valid, [f.describe() for f in report.findings]
    assert report.record == ("2.0" if name == "ff-2048" else "3.x")


def test_record_features_are_named():
    report = verify(load("ed25519-threshold"))
    assert "the Ed25519 group" in report.record_features
    assert "threshold certificates with a context and signatures" in report.record_features
    assert "Lists questions" in verify(load("lists")).record_features


def _edit_context(key: str, value: Any):
    def fn(t):
        cert = _pedersen(t)["certs"][1]
        keys = json.loads(cert["message"])
        keys["context"][key] = value
        cert["message"] = json.dumps(keys, separators=(",", ":"))
        return t

    return fn


@pytest.mark.parametrize(
    ("key", "value"), [("index", 3), ("group", "BELENIOS-2048"), ("size", 4), ("threshold", 3)]
)
def test_certificate_context_is_checked(key, value):
    a = load("ed25519-threshold")
    a.edit(_trustees(a), _edit_context(key, value))
    assert_rejected(verify(a), "setup", f"certificate context has {key}")


def test_certificates_without_context_beside_ones_with_are_rejected():
    def fn(t):
        cert = _pedersen(t)["certs"][0]
        keys = json.loads(cert["message"])
        del keys["context"]
        cert["message"] = json.dumps(keys, separators=(",", ":"))
        return t

    a = load("ed25519-threshold")
    a.edit(_trustees(a), fn)
    # the certificate's signature covers its context: removing it breaks the signature first
    assert_rejected(verify(a), "setup", "does not verify")


def test_dealer_signature_is_checked():
    def fn(t):
        sigs = _pedersen(t)["signatures"]
        sigs[0], sigs[1] = sigs[1], sigs[0]
        return t

    a = load("ed25519-threshold")
    a.edit(_trustees(a), fn)
    assert_rejected(verify(a), "setup", "does not verify")


def test_missing_dealer_signatures_are_rejected():
    def fn(t):
        del _pedersen(t)["signatures"]
        return t

    a = load("ed25519-threshold")
    a.edit(_trustees(a), fn)
    assert_rejected(verify(a), "setup", "signatures")


def test_verification_key_signature_is_checked():
    def fn(t):
        vks = _pedersen(t)["verification_keys"]
        vks[0]["signature"], vks[1]["signature"] = vks[1]["signature"], vks[0]["signature"]
        return t

    a = load("ed25519-threshold")
    a.edit(_trustees(a), fn)
    assert_rejected(verify(a), "setup", "does not verify")


def _edit_first_ballot(a: Archive, fn) -> Report:
    i = a.payload_index("Ballot", 0)
    ballot = a.data(i)
    fn(ballot)
    a.replace_content(i, json.dumps(ballot, separators=(",", ":")).encode())
    return verify(a)


def test_tampered_ballot_proof_is_rejected():
    """belenios-tool 3.x's election verify accepts this record."""

    def fn(b):
        p = b["answers"][0]["individual_proofs"][0][1]
        p["response"] = str((int(p["response"]) + 1) % ED25519.q)

    assert_rejected(_edit_first_ballot(load("ed25519"), fn), "ballot", "")


def test_non_canonical_point_in_a_ballot_is_rejected():
    def fn(b):
        b["answers"][0]["choices"][0]["alpha"] = "f" * 64

    assert_rejected(_edit_first_ballot(load("ed25519"), fn), "ballot", "canonical")


def test_upper_case_point_in_a_ballot_is_rejected():
    def fn(b):
        c = b["answers"][0]["choices"][0]
        c["alpha"] = c["alpha"].upper()

    assert_rejected(_edit_first_ballot(load("ed25519"), fn), "ballot", "hexadecimal")


def test_tampered_encrypted_tally_is_rejected_even_if_the_result_fits():
    """Re-randomised (same plaintexts): belenios-tool 3.0 does not recompute the tally."""
    a = load("ed25519")
    setup = a.data(a.payload_index("Setup"))
    election = parse_election(a.entries[a.index_of_hash(setup["election"])].content)
    st = a.data(a.payload_index("EncryptedTally"))
    j = a.index_of_hash(st["encrypted_tally"])
    tally = a.data(j)
    ctx = Context(election.group, election.public_key)
    g = election.group
    c = tally[0][0]
    c["alpha"] = g.encode(g.mul(g.element(c["alpha"]), ctx.gpow(7)))
    c["beta"] = g.encode(g.mul(g.element(c["beta"]), ctx.ypow(7)))
    a.replace_content(j, json.dumps(tally, separators=(",", ":")).encode())
    assert_rejected(verify(a), "tally", "encrypted tally differs")


def test_tampered_lists_tally_is_rejected():
    a = load("lists")
    st = a.data(a.payload_index("EncryptedTally"))
    j = a.index_of_hash(st["encrypted_tally"])
    tally = a.data(j)
    tally[0][1][0], tally[0][1][1] = tally[0][1][1], tally[0][1][0]
    a.replace_content(j, json.dumps(tally, separators=(",", ":")).encode())
    assert_rejected(verify(a), "tally", "encrypted tally differs")


def test_tampered_lists_result_is_rejected():
    a = load("lists")

    def fn(r):
        r["result"][0][1][2] += 1
        return r

    a.edit(a.payload_index("Result"), fn)
    assert_rejected(verify(a), "result", "does not match the decryption")


def test_tampered_shuffle_is_rejected():
    a = load("nh")
    owned = a.data(a.payload_index("Shuffle", 0))
    j = a.index_of_hash(owned["payload"])

    def fn(sh):
        cts = sh["ciphertexts"][0]
        cts[0], cts[1] = cts[1], cts[0]
        return sh

    a.edit(j, fn)
    assert_rejected(verify(a), "shuffle", "")


def test_credentials_certificate_is_accepted_when_present_and_required_to_exist():
    from tamper import Entry

    a = load("ed25519")
    i = a.payload_index("Setup")
    cert = b'{"statement":"issued by the credential authority"}'
    a.entries.insert(i, Entry("data", cert, a.entries[i].mtime))
    a.edit(i + 1, lambda sd: sd | {"credentials_certificate": Entry("data", cert, 0).hash})
    report = verify(a)
    assert report.valid, [f.describe() for f in report.findings]
    assert any("credentials certificate" in f for f in report.record_features)

    b = load("ed25519")
    j = b.payload_index("Setup")
    b.edit(j, lambda sd: sd | {"credentials_certificate": "0" * 64})
    assert_rejected(verify(b), "archive", "not in the archive")
