"""How many modular exponentiations verifying a ballot takes (for benchmarks and planning)."""

from __future__ import annotations

from dataclasses import dataclass

from plebiscite.protocol.messages import Election, QuestionH

__all__ = ["ExponentiationCount", "ballot_exponentiations"]


@dataclass(frozen=True)
class ExponentiationCount:
    """Exponentiations per ballot: ``variable`` (a base that changes: ciphertexts, credentials),
    ``fixed`` (g or the election key, done with precomputed tables) and ``membership``
    (``x^q`` subgroup checks; 0 for safe-prime groups, checked with a Legendre symbol)."""

    variable: int
    fixed: int
    membership: int

    @property
    def total(self) -> int:
        return self.variable + self.fixed + self.membership


def ballot_exponentiations(election: Election) -> ExponentiationCount:
    var = 1  # signature: credential^challenge
    fixed = 1  # signature: g^response
    elements = 1  # the credential
    for q in election.questions:
        if isinstance(q, QuestionH):
            n = len(q.answers) + (1 if q.blank else 0)
            elements += 2 * n
            var += 4 * n  # alpha^c and beta^c in both branches of each 0/1 proof
            fixed += 5 * n  # g^r, y^r per branch, g^(-c) in the branch M = 1
            Ms = list(range(q.min, q.max + 1))
            if q.blank:
                var += 4 + 2 * (len(Ms) + 1)
                fixed += 4 + 2 * (len(Ms) + 1) + 1 + sum(1 for m in Ms if m)
            else:
                var += 2 * len(Ms)
                fixed += 2 * len(Ms) + sum(1 for m in Ms if m)
        else:
            elements += 2
            var += 1
            fixed += 1
    membership = 0 if getattr(election.group, "safe_prime", False) else elements
    return ExponentiationCount(var, fixed, membership)
