"""A small group for property tests where the group is not the point: the order-q subgroup
(the quadratic residues) of Z_p^* for a 257-bit safe prime p = 2q + 1, built as
``plebiscite.crypto.groups`` builds RFC-3526-2048 (a safe prime, a generator of the subgroup of
order q). A power in it takes about an eighth of the time it takes in the 2048-bit groups, so
a property test can try many more cases in the same time; the real groups keep their own tests.

q is the first prime above SHA-256("plebiscite small test group") with its top bit set for which
2q + 1 is prime too; g = 4 = 2^2 is a square, hence of order q. Never in ``GROUPS``: no election
can name it."""

from __future__ import annotations

from gmpy2 import mpz

from plebiscite.crypto.groups import FiniteFieldGroup

_Q = mpz("64733728456088357278002373044300261025634791071357689263685894110406495832203")

SMALL_257 = FiniteFieldGroup(name="TEST-SAFE-PRIME-257", p=2 * _Q + 1, q=_Q, g=mpz(4))
