"""How many modular exponentiations verifying a ballot takes (for benchmarks and planning)."""

from __future__ import annotations

from dataclasses import dataclass

from plebiscite.protocol.messages import Election, QuestionH, QuestionNH

__all__ = [
    "DalekOperationCount",
    "Ed25519OperationCount",
    "ExponentiationCount",
    "ballot_exponentiations",
    "ballot_operations_dalek",
    "ballot_operations_ed25519",
]


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


@dataclass(frozen=True)
class Ed25519OperationCount:
    """The curve operations verifying one ballot takes in Ed25519, as libsodium calls.

    ``variable``: variable-base scalar multiplications (``crypto_scalarmult_ed25519_noclamp``);
    the election key ``y`` is one of these bases, libsodium having a fixed-base multiplication
    for the standard base point only. ``base``: base-point multiplications
    (``crypto_scalarmult_ed25519_base_noclamp``). ``additions``: point additions and
    subtractions (``crypto_core_ed25519_add``, ``_sub``). ``membership``: the elements whose
    membership of the prime-order subgroup must be checked; ``membership_explicit`` of them
    need a check of their own (``crypto_core_ed25519_is_valid_point``), the others being the
    base of a variable-base multiplication, which libsodium refuses for a point outside the
    subgroup: checked at no extra call."""

    variable: int
    base: int
    additions: int
    membership: int
    membership_explicit: int


def _branches(Ms: list[int]) -> tuple[int, int, int]:
    """Variable-base and base-point multiplications and additions of the branches ``Ms``."""
    nonzero = sum(1 for m in Ms if m)
    return 3 * len(Ms), len(Ms) + nonzero, 2 * len(Ms) + nonzero


def ballot_operations_ed25519(election: Election) -> Ed25519OperationCount:
    """The operations of :class:`Ed25519OperationCount` for one ballot of ``election`` (weight
    1; homomorphic and non-homomorphic questions), counted from the verification equations:

    * the signature: ``A = g^r cred^c``: 1 base, 1 variable, 1 addition; the credential's
      membership is checked once, when the list of credentials is read (one check a ballot
      when every voter votes once);
    * a branch of a disjunctive proof that ``(alpha, beta)`` encrypts ``M``:
      ``A = g^r alpha^c`` and ``B = y^r beta^c g^(-M c)``: 1 base, 3 variable (``alpha^c``,
      ``y^r``, ``beta^c``), 2 additions, and for ``M != 0`` 1 base and 1 addition more;
    * each 0/1 choice: two branches (``M = 0`` and ``M = 1``), and ``alpha`` and ``beta``
      checked for membership as the bases of ``alpha^c`` and ``beta^c``;
    * the overall proof: the product of the ``n`` choices (``2 (n - 1)`` additions), then one
      branch for each count ``M`` in ``[min, max]``; with blank allowed, the product of the
      ``n - 1`` choices other than blank, the blank proof (two branches, ``M = 0``) and the
      overall proof (a branch ``M = 1`` on the blank choice, then one a count);
    * the homomorphic tally: each ciphertext multiplied into the running product, 2 additions;
    * a non-homomorphic answer: ``A = g^r alpha^c`` (1 base, 1 variable, 1 addition), and
      ``alpha`` and ``beta`` checked explicitly.
    """
    var, base, add = 1, 1, 1  # the signature
    membership = explicit = 1  # the credential
    for q in election.questions:
        if isinstance(q, QuestionH):
            n = q.size
            Ms = list(range(q.min, q.max + 1))
            v, b, a = _branches([0, 1])
            var, base, add = var + n * v, base + n * b, add + n * a
            membership += 2 * n
            if q.blank:
                add += 2 * (n - 2)
                parts = [_branches([0, 0]), _branches([1]), _branches(Ms)]
            else:
                add += 2 * (n - 1)
                parts = [_branches(Ms)]
            for v, b, a in parts:
                var, base, add = var + v, base + b, add + a
            add += 2 * n  # the tally
        elif isinstance(q, QuestionNH):
            var, base, add = var + 1, base + 1, add + 1
            membership += 2
            explicit += 2
        else:
            raise ValueError(f"no Ed25519 operation count for questions of {type(q).__name__}")
    return Ed25519OperationCount(var, base, add, membership, explicit)


@dataclass(frozen=True)
class DalekOperationCount:
    """The curve operations verifying one ballot takes in Ed25519 on curve25519-dalek
    (:class:`plebiscite.crypto.ed25519.DalekEd25519`), as calls of its native library.

    ``base_double``: ``g^r a^c``, variable-time double-scalar multiplications with the base
    point (``ple_mul_base2_vartime``). ``precomputed``: ``g^s y^r b^c``, variable-time
    multi-scalar multiplications with dalek's tables of ``g`` and ``y``
    (``ple_precomputed_vartime``). ``sums``: sums of several points, each decoded once
    (``ple_sum``). ``additions``: point additions (``ple_add``). ``membership``: the elements
    checked for membership of the prime-order subgroup (``ple_member``), each once, the
    credential included (checked when the list of credentials is read)."""

    base_double: int
    precomputed: int
    sums: int
    additions: int
    membership: int


def ballot_operations_dalek(election: Election) -> DalekOperationCount:
    """The operations of :class:`DalekOperationCount` for one ballot of ``election`` (weight
    1; homomorphic and non-homomorphic questions), counted from the verification equations:

    * the signature: ``A = g^r cred^c``: 1 base-point double multiplication;
    * a branch of a disjunctive proof that ``(alpha, beta)`` encrypts ``M``:
      ``A = g^r alpha^c`` (1 base-point double) and ``B = g^(-M c) y^r beta^c`` (1 with the
      tables);
    * each 0/1 choice: two branches (``M = 0`` and ``M = 1``), ``alpha`` and ``beta`` checked;
    * the overall proof: the product of the choices (2 sums), then one branch for each count
      ``M`` in ``[min, max]``; with blank allowed, the product of the choices other than
      blank, the blank proof (two branches) and the overall proof (a branch on the blank
      choice, then one a count);
    * the homomorphic tally: each ciphertext multiplied into the running product, 2 additions;
    * a non-homomorphic answer: ``A = g^r alpha^c`` (1 base-point double), ``alpha`` and
      ``beta`` checked.
    """
    bd = 1  # the signature
    pre = sums = add = 0
    membership = 1  # the credential
    for q in election.questions:
        if isinstance(q, QuestionH):
            n = q.size
            branches = 2 * n + (q.max - q.min + 1) + (3 if q.blank else 0)
            bd, pre = bd + branches, pre + branches
            membership += 2 * n
            sums += 2
            add += 2 * n  # the tally
        elif isinstance(q, QuestionNH):
            bd += 1
            membership += 2
        else:
            raise ValueError(f"no Ed25519 operation count for questions of {type(q).__name__}")
    return DalekOperationCount(bd, pre, sums, add, membership)
