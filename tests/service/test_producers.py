"""What the server publishes is computed by producer code and checked by the verifier before
it reaches the board: a fault planted in a producer (the encrypted tally, the server's own
partial decryption) is refused with nothing published, and the lifecycle goes on once the
producer is right again."""

from __future__ import annotations

import io

import pytest

from plebiscite.cli.demo_server import status
from plebiscite.client import PartyError, Voter
from plebiscite.crypto.rand import DeterministicRandom
from plebiscite.protocol import tally as tally_module
from plebiscite.protocol.verifier import verify_archive
from plebiscite.service import referendum as service
from server.test_lifecycle import YES, A, B
from server.test_times import open_referendum, server


def _archive(c, uuid: str) -> bytes:
    return c.get(f"/api/elections/{uuid}/archive").content


def test_a_wrong_encrypted_tally_is_refused_before_the_board(tmp_path, monkeypatch):
    rng = DeterministicRandom("producer-tally")
    with server(str(tmp_path / "board.db"), close_interval=3600) as c:
        admin, rid, _, creds = open_referendum(c, rng)
        Voter(c, rid, "North", creds["North"]["a1"], rng).vote([YES, A])
        Voter(c, rid, "South", creds["South"]["b1"], rng).vote([YES, B])
        real = tally_module.encrypted_tally_on

        def planted(members, runner, **kw):  # a producer bug: a ciphertext's halves swapped
            t = real(members, runner, **kw)
            (alpha, beta), *rest = t.tally[0]
            t.tally[0] = [(beta, alpha), *rest]
            return t

        monkeypatch.setattr(service, "encrypted_tally_on", planted)
        with pytest.raises(PartyError) as e:
            admin.close(rid)
        assert (e.value.status, e.value.code) == (500, "internal")
        assert "not the product of the last ballots" in e.value.message
        assert "not published" in e.value.message
        # the first region closed without a tally on its board, the second not reached; both
        # boards still valid
        north, south = status(c, rid)["regions"]
        for region, phase in ((north, "closed"), (south, "open")):
            assert region["status"] == phase and region["valid"]
            report = verify_archive(lambda d=_archive(c, region["election"]): io.BytesIO(d))
            assert report.valid and report.status == phase

        monkeypatch.setattr(service, "encrypted_tally_on", real)
        assert admin.close(rid)["phase"] == "decrypting"
        assert {r["status"] for r in status(c, rid)["regions"]} == {"tallied"}


def test_a_wrong_partial_decryption_of_the_server_is_refused(tmp_path, monkeypatch):
    rng = DeterministicRandom("producer-decryption")
    with server(str(tmp_path / "board.db"), close_interval=3600) as c:
        admin, rid, trustees, creds = open_referendum(c, rng)
        Voter(c, rid, "North", creds["North"]["a1"], rng).vote([YES, A])
        admin.close(rid)
        real = service.partial_decryption_json

        def planted(ctx, fingerprint, key, tally, rng, questions):  # with the wrong key
            return real(ctx, fingerprint, key + 1, tally, rng, questions)

        monkeypatch.setattr(service, "partial_decryption_json", planted)
        trustees[0].decrypt("North")
        with pytest.raises(PartyError) as e:
            trustees[1].decrypt("North")
        assert (e.value.status, e.value.code) == (500, "internal")
        assert "partial decryption is wrong, not published" in e.value.message
        north = next(r for r in status(c, rid)["regions"] if r["name"] == "North")
        assert north["status"] == "decrypting" and north["valid"] and north["result"] is None
        report = verify_archive(lambda: io.BytesIO(_archive(c, north["election"])))
        assert report.valid and report.status == "decrypting"
