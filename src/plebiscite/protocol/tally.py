"""The tally side (sections 4.16 to 4.19): encrypted tally, shuffles, partial decryptions and the
result, as JSON byte-compatible with belenios-tool. Pure; every randomised function takes a
:class:`RandomSource`.

The inputs come from a :class:`~plebiscite.protocol.verifier.Verifier` that has just checked
the board: an encrypted tally is only ever computed from ballots verified here, and a trustee
only ever decrypts the tally the verifier recomputed (SECURITY-CASES 17).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gmpy2 import mpz

from plebiscite import strictjson
from plebiscite.crypto.context import Context
from plebiscite.crypto.hashing import sha256_int
from plebiscite.crypto.proofs import prove_decryption
from plebiscite.crypto.rand import RandomSource
from plebiscite.crypto.shuffle import (
    get_generator,
    get_generators,
    get_nizkp_challenges,
    str_ciphertexts,
    str_elements,
)
from plebiscite.protocol.messages import Ciphertext, Election

__all__ = [
    "count_json",
    "encrypted_tally_json",
    "gen_shuffle",
    "owned_json",
    "partial_decryption_json",
    "result_json",
    "shuffle_json",
    "sized_encrypted_tally_json",
]

_SMALL = 1 << 30


def count_json(n: int) -> int | str:
    """Counts and weights as Belenios writes them: a JSON number below 2^30, a string above."""
    return n if n < _SMALL else str(n)


def _ct(c: Ciphertext) -> dict[str, str]:
    return {"alpha": str(c[0]), "beta": str(c[1])}


def encrypted_tally_json(tally: Sequence[Sequence[Ciphertext]]) -> bytes:
    return strictjson.dumps_compact([[_ct(c) for c in col] for col in tally])


def sized_encrypted_tally_json(num_tallied: int, total_weight: int, tally_hash: str) -> bytes:
    return strictjson.dumps_compact(
        {
            "num_tallied": count_json(num_tallied),
            "total_weight": count_json(total_weight),
            "encrypted_tally": tally_hash,
        }
    )


def owned_json(owner: int, payload_hash: str) -> bytes:
    return strictjson.dumps_compact({"owner": owner, "payload": payload_hash})


# -- shuffles (section 4.17 and 6) -----------------------------------------------------------


def gen_shuffle(
    ctx: Context, e: Sequence[Ciphertext], fingerprint: str, rng: RandomSource
) -> tuple[list[Ciphertext], list[Any]]:
    """``GenShuffle`` and ``GenShuffleProof`` (tables 1 to 12): the shuffled ciphertexts and the
    proof as the JSON value ``[t, s, c, c_hat]``."""
    p, q, y = ctx.p, ctx.q, ctx.y
    assert y is not None
    N = len(e)
    # GenPermutation (table 2)
    index = list(range(N))
    psi = []
    for i in range(N):
        k = i + int(rng.below(N - i))
        psi.append(index[k])
        index[k] = index[i]
    # GenReEncryption (table 3)
    r_prime = [rng.below(q) for _ in range(N)]
    reenc = [
        (a * ctx.gpow(r) % p, b * ctx.ypow(r) % p) for (a, b), r in zip(e, r_prime, strict=True)
    ]
    e_prime = [reenc[j] for j in psi]
    # GenShuffleProof (table 4)
    h = get_generator(ctx.group, -1)
    hs = get_generators(ctx.group, N)
    r = [mpz(0)] * N
    c = [mpz(0)] * N
    for i, j in enumerate(psi):  # GenPermutationCommitment (table 9)
        r[j] = rng.below(q)
        c[j] = ctx.gpow(r[j]) * hs[i] % p
    str_c = str_ciphertexts(e) + str_ciphertexts(e_prime) + str_elements(c)
    u = get_nizkp_challenges(N, f"shuffle-challenges|{fingerprint}|{str_c}", q)
    u_prime = [u[j] for j in psi]
    c_hat: list[mpz] = []
    r_hat: list[mpz] = []
    prev = h
    for ui in u_prime:  # GenCommitmentChain (table 12)
        ri = rng.below(q)
        prev = ctx.gpow(ri) * ctx.pow(prev, ui) % p
        c_hat.append(prev)
        r_hat.append(ri)
    w1, w2, w3, w4 = (rng.below(q) for _ in range(4))
    w_hat = [rng.below(q) for _ in range(N)]
    w_prime = [rng.below(q) for _ in range(N)]
    t1 = ctx.gpow(w1)
    t2 = ctx.gpow(w2)
    t3 = ctx.gpow(w3)
    t41 = ctx.ypow(-w4)
    t42 = ctx.gpow(-w4)
    for hi, (a2, b2), wi in zip(hs, e_prime, w_prime, strict=True):
        t3 = t3 * ctx.pow(hi, wi) % p
        t41 = t41 * ctx.pow(b2, wi) % p
        t42 = t42 * ctx.pow(a2, wi) % p
    t_hat = []
    prev = h
    for ch, wh, wp in zip(c_hat, w_hat, w_prime, strict=True):
        t_hat.append(ctx.gpow(wh) * ctx.pow(prev, wp) % p)
        prev = ch
    str_t = str_elements([t1, t2, t3, t41, t42]) + str_elements(t_hat)
    str_y = str_c + str_elements(c_hat) + str(y)
    chal = sha256_int(f"shuffle-challenge|{fingerprint}|{str_t}{str_y}") % q
    r_bar = sum(r) % q
    s1 = (w1 + chal * r_bar) % q
    v = [mpz(1)] * N
    for i in range(N - 2, -1, -1):
        v[i] = u_prime[i + 1] * v[i + 1] % q
    s2 = (w2 + chal * (sum(rh * vi for rh, vi in zip(r_hat, v, strict=True)) % q)) % q
    s3 = (w3 + chal * (sum(ri * ui for ri, ui in zip(r, u, strict=True)) % q)) % q
    s4 = (w4 + chal * (sum(ri * ui for ri, ui in zip(r_prime, u, strict=True)) % q)) % q
    s_hat = [(wh + chal * rh) % q for wh, rh in zip(w_hat, r_hat, strict=True)]
    s_prime = [(wp + chal * up) % q for wp, up in zip(w_prime, u_prime, strict=True)]

    def strs(xs: Sequence[mpz]) -> list[str]:
        return [str(x) for x in xs]

    proof = [
        [str(t1), str(t2), str(t3), [str(t41), str(t42)], strs(t_hat)],
        [str(s1), str(s2), str(s3), str(s4), strs(s_hat), strs(s_prime)],
        strs(c),
        strs(c_hat),
    ]
    return e_prime, proof


def shuffle_json(
    election: Election, ctx: Context, tally: Sequence[Sequence[Ciphertext]], rng: RandomSource
) -> bytes:
    """A ``shuffle`` of every non-homomorphic column of the current tally."""
    cts, proofs = [], []
    for q, col in zip(election.questions, tally, strict=True):
        if q.homomorphic:
            continue
        e_prime, proof = gen_shuffle(ctx, col, election.fingerprint, rng)
        cts.append([_ct(x) for x in e_prime])
        proofs.append(proof)
    return strictjson.dumps_compact({"ciphertexts": cts, "proofs": proofs})


# -- partial decryptions and the result (sections 4.18, 4.19) ---------------------------------


def partial_decryption_json(
    ctx: Context,
    fingerprint: str,
    x: mpz,
    tally: Sequence[Sequence[Ciphertext]],
    rng: RandomSource,
) -> bytes:
    """Decryption factors ``alpha^x`` and their proofs for every ciphertext of the tally."""
    factors, proofs = [], []
    for col in tally:
        frow, prow = [], []
        for alpha, _ in col:
            f, pr = prove_decryption(ctx, fingerprint, x, alpha, rng.below(ctx.q))
            frow.append(str(f))
            prow.append({"challenge": str(pr.challenge), "response": str(pr.response)})
        factors.append(frow)
        proofs.append(prow)
    return strictjson.dumps_compact({"decryption_factors": factors, "decryption_proofs": proofs})


def result_json(election: Election, result: Sequence[Sequence[Any]]) -> bytes:
    out: list[Any] = []
    for q, col in zip(election.questions, result, strict=True):
        out.append([count_json(int(n)) for n in col] if q.homomorphic else [list(v) for v in col])
    return strictjson.dumps_compact({"result": out})
