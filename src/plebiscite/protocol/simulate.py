"""A whole election played by its separate parties, in memory: the demo and the known-answer
election of tests/vectors are made with it.

Each party only uses what it would have in a real election: the credential authority its voter
list, each trustee its own seed or key, each voter their own credential, the administrator the
public messages. The archive is built as the board would build it, and every tally step starts
from a verification of the board (SECURITY-CASES 17).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.groups import Group
from plebiscite.crypto.hashing import sha256_hex
from plebiscite.crypto.rand import RandomSource
from plebiscite.errors import StateError
from plebiscite.protocol import ceremony
from plebiscite.protocol.archive import ArchiveState, ArchiveWriter, header_bytes, iter_members
from plebiscite.protocol.ballot import make_ballot
from plebiscite.protocol.election_setup import (
    generate_credentials,
    generate_uuid,
    make_election,
    make_trustee_key,
    make_trustees,
    public_credentials_json,
)
from plebiscite.protocol.messages import Election, QuestionH, QuestionL, parse_election
from plebiscite.protocol.tally import (
    encrypted_tally_of_board,
    owned_json,
    partial_decryption_json,
    result_json,
    shuffle_json,
)
from plebiscite.protocol.verifier import Verifier

__all__ = ["SimulatedElection", "random_choices", "simulate_election"]


@dataclass
class SimulatedElection:
    uuid: str
    archive: bytes
    files: dict[str, bytes] = field(default_factory=dict)  # every message exchanged, by name
    result: list[Any] | None = None


def random_choices(election: Election, rng: RandomSource) -> list[Any]:
    """Valid random choices for every question (sometimes blank where allowed)."""
    out: list[Any] = []
    for q in election.questions:
        n = len(q.answers)
        if isinstance(q, QuestionL):
            chosen = int(rng.below(n))
            rows = []
            for i, row in enumerate(q.answers):
                bits = [0] * len(row)
                if i == chosen:
                    bits[0] = 1
                    while sum(bits[1:]) == 0:
                        bits[1:] = [int(rng.below(2)) for _ in row[1:]]
                rows.append(bits)
            out.append(rows)
        elif isinstance(q, QuestionH):
            if q.blank and rng.below(5) == 0:
                out.append([1] + [0] * n)
                continue
            k = q.min + int(rng.below(q.max - q.min + 1))
            picked: set[int] = set()
            while len(picked) < k:
                picked.add(int(rng.below(n)))
            vote = [1 if i in picked else 0 for i in range(n)]
            out.append(([0] if q.blank else []) + vote)
        else:
            ranks = list(range(1, n + 1))
            for i in range(n - 1, 0, -1):  # Fisher-Yates
                j = int(rng.below(i + 1))
                ranks[i], ranks[j] = ranks[j], ranks[i]
            out.append(ranks)
    return out


class _Board:
    def __init__(self, timestamp: int) -> None:
        self.buf = io.BytesIO()
        self.buf.write(header_bytes(timestamp))
        self.writer = ArchiveWriter(self.buf, ArchiveState(timestamp))

    def append(self, event: str, *data: bytes) -> None:
        payload = None
        for d in data:
            payload = self.writer.data(d)
        self.writer.event(event, payload)

    def verified(self) -> Verifier:
        data = self.buf.getvalue()
        v = Verifier(lambda: io.BytesIO(data))
        report = v.run()
        if not report.valid:
            raise StateError(
                "the board does not verify: " + "; ".join(f.describe() for f in report.findings[:3])
            )
        return v


def simulate_election(
    *,
    template: dict[str, Any],
    group: Group,
    voters: int,
    trustees: int,
    threshold: int,
    rng: RandomSource,
    timestamp: int,
    revotes: int = 0,
    weights: list[int] | None = None,
    legacy: bool = False,
) -> SimulatedElection:
    """Run an election: ``trustees`` trustees in a ``threshold``-of-``trustees`` Pedersen
    ceremony plus the server's own key, ``voters`` voters with random choices (the first
    ``revotes`` of them vote twice), then close, tally (shuffles by two threshold trustees when
    a question is non-homomorphic), decryption by ``threshold`` trustees and the result."""
    files: dict[str, bytes] = {}
    uuid = generate_uuid(rng)

    # -- key establishment: each threshold trustee has a seed; the server relays ----------
    # a 3.x ceremony (certificates with their context, signed commitments and keys) unless
    # ``legacy``: the record of Belenios 2.0 (its credentials too)
    secrets = [
        ceremony.make_certificate(group, rng, None if legacy else (z, threshold, trustees))
        for z in range(1, trustees + 1)
    ]
    certs = "".join(s.cert + "\n" for s in secrets)
    ceremony.check_certificates(group, certs)
    polynomials = "".join(
        ceremony.make_polynomial(group, certs, s.seed, threshold, rng) + "\n" for s in secrets
    )
    vinputs = dict(ceremony.make_vinputs(group, certs, polynomials))
    voutputs = "".join(
        ceremony.make_voutput(group, certs, s.seed, vinputs[s.id], rng) + "\n" for s in secrets
    )
    thr = ceremony.make_threshold_parameters(group, certs, polynomials, voutputs)
    dkeys = dict(thr.dkeys)
    files |= {
        "certs.jsons": certs.encode(),
        "polynomials.jsons": polynomials.encode(),
        "voutputs.jsons": voutputs.encode(),
        "threshold.json": thr.parameters.encode(),
    }
    for s in secrets:
        files[f"{s.id}.vinput"] = vinputs[s.id].encode()
    # the server's own mandatory key, different in each election
    server_x, server_public = make_trustee_key(group, rng)
    files["server.pubkey"] = server_public
    trustees_raw = make_trustees(
        [("Single", server_public), ("Pedersen", thr.parameters.encode())], group
    )

    # -- the election and the credentials -----------------------------------------------
    election_raw = make_election(strictjson.dumps_compact(template), uuid, group, trustees_raw)
    election = parse_election(election_raw)
    voter_list = [(f"voter{i + 1}", weights[i] if weights else None) for i in range(voters)]
    creds = generate_credentials(voter_list, uuid, group, rng, legacy=legacy)
    public_creds = public_credentials_json(creds)
    files |= {
        "election.json": election_raw,
        "trustees.json": trustees_raw,
        "public_creds.json": public_creds,
        "private_creds.txt": "".join(f"{c.login} {c.private}\n" for c in creds).encode(),
    }

    board = _Board(timestamp)
    refs = {
        "election": sha256_hex(election_raw),
        "trustees": sha256_hex(trustees_raw),
        "credentials": sha256_hex(public_creds),
    }
    for d in (election_raw, trustees_raw, public_creds):
        board.writer.data(d)
    board.append("Setup", strictjson.dumps_compact(refs))

    # -- voting: each voter with their own credential ----------------------------------------
    ctx = Context(group, election.public_key)
    casting = list(range(voters)) + list(range(min(revotes, voters)))
    for i in casting:
        ballot = make_ballot(
            election, creds[i].private, random_choices(election, rng), rng, ctx=ctx
        )
        board.append("Ballot", ballot)
    board.append("EndBallots")

    # -- tally ------------------------------------------------------------------------------
    v = board.verified()
    tally = encrypted_tally_of_board(iter_members(io.BytesIO(board.buf.getvalue())))
    v.check_encrypted_tally(tally.tally, tally.num_tallied, tally.total_weight)
    board.append("EncryptedTally", *tally.json())
    first_threshold_owner = 2  # owner 1 is the server's Single key
    if election.has_nh:
        for owner in (first_threshold_owner, first_threshold_owner + 1):
            v = board.verified()
            assert v.tally is not None and v.ctx is not None
            sh = shuffle_json(election, v.ctx, v.tally, rng)
            board.append("Shuffle", sh, owned_json(owner, sha256_hex(sh)))
        board.append("EndShuffles")
    v = board.verified()
    assert v.tally is not None and v.ctx is not None
    decryptors: list[tuple[int, int]] = [(1, server_x)]
    for z, s in enumerate(secrets[:threshold], start=1):
        decryptors.append(
            (
                first_threshold_owner - 1 + z,
                ceremony.threshold_decryption_key(group, s.seed, dkeys[s.id]),
            )
        )
    for owner, x in decryptors:
        pd = partial_decryption_json(
            v.ctx, election.fingerprint, x, v.tally, rng, election.questions
        )
        board.append("PartialDecryption", pd, owned_json(owner, sha256_hex(pd)))
    v = board.verified()
    result = v.decrypt_result()
    board.append("Result", result_json(election, result))
    final = board.verified()
    return SimulatedElection(uuid, board.buf.getvalue(), files, final.report.result)
