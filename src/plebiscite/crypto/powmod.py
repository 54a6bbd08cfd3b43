"""Variable-base modular exponentiation, with an accelerated backend where available.

Numbers are gmpy2 ``mpz`` throughout. For exponentiations with a base that changes every time
(ciphertexts, credentials, commitments), OpenSSL's Montgomery exponentiation (``libcrypto``,
present wherever Python's ``ssl`` module works) is markedly faster than GMP's ``mpz_powm`` on
2048-bit moduli; :class:`PowMod` uses it when it loads, and ``gmpy2.powmod`` otherwise. Both give
the same results (checked by the tests); ``PLEBISCITE_POWMOD=gmp`` forces GMP.

This module loads a shared library but does no I/O of its own.
"""

from __future__ import annotations

import ctypes
import os
from _thread import _local as thread_local
from collections.abc import Callable

import gmpy2
from gmpy2 import mpz

__all__ = ["PowMod", "backend_name", "make_powmod"]

_lib: ctypes.CDLL | None = None
_lib_tried = False


def _find_library(name: str) -> str | None:
    import ctypes.util

    return ctypes.util.find_library(name)


def _load() -> ctypes.CDLL | None:
    global _lib, _lib_tried
    if _lib_tried:
        return _lib
    _lib_tried = True
    if os.environ.get("PLEBISCITE_POWMOD", "").lower() == "gmp":
        return None
    # the usual names first: find_library runs a helper process (ldconfig), only if needed
    names: list[Callable[[], str | None]] = [
        lambda: "libcrypto.so.3",
        lambda: "libcrypto.so",
        lambda: "libcrypto.dylib",
        lambda: _find_library("crypto"),
    ]
    for get_name in names:
        name = get_name()
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        try:
            vp = ctypes.c_void_p
            lib.BN_new.restype = vp
            lib.BN_free.argtypes = [vp]
            lib.BN_bin2bn.restype = vp
            lib.BN_bin2bn.argtypes = [ctypes.c_char_p, ctypes.c_int, vp]
            lib.BN_bn2binpad.restype = ctypes.c_int
            lib.BN_bn2binpad.argtypes = [vp, ctypes.c_char_p, ctypes.c_int]
            lib.BN_CTX_new.restype = vp
            lib.BN_MONT_CTX_new.restype = vp
            lib.BN_MONT_CTX_set.restype = ctypes.c_int
            lib.BN_MONT_CTX_set.argtypes = [vp, vp, vp]
            lib.BN_mod_exp_mont.restype = ctypes.c_int
            lib.BN_mod_exp_mont.argtypes = [vp, vp, vp, vp, vp, vp]
            lib.BN_mod_exp2_mont.restype = ctypes.c_int
            lib.BN_mod_exp2_mont.argtypes = [vp, vp, vp, vp, vp, vp, vp, vp]
        except AttributeError:
            continue
        _lib = lib
        return lib
    return None


class PowMod:
    """``base^exponent mod p`` for one modulus ``p`` (base in [0, p), exponent >= 0)."""

    def __init__(self, p: mpz) -> None:
        self.p = mpz(p)
        self.nbytes = (int(self.p).bit_length() + 7) // 8
        self._lib = _load()
        self._local = thread_local()  # (``_thread``: cheaper to import than ``threading``)

    def __reduce__(self) -> tuple[type[PowMod], tuple[mpz]]:
        """Made again where it is unpickled (its library handle and per-thread buffers are
        this process's): a group parsed from an election can go to another process."""
        return PowMod, (self.p,)

    @property
    def backend(self) -> str:
        return "openssl" if self._lib is not None else "gmp"

    def _state(
        self,
    ) -> tuple[int, int, int, int, int, int, ctypes.Array[ctypes.c_char], int, int, int]:
        st = getattr(self._local, "st", None)
        if st is None:
            lib = self._lib
            assert lib is not None
            pb = int(self.p).to_bytes(self.nbytes, "big")
            bn_p = lib.BN_bin2bn(pb, len(pb), None)
            bctx = lib.BN_CTX_new()
            mont = lib.BN_MONT_CTX_new()
            if not (bn_p and bctx and mont and lib.BN_MONT_CTX_set(mont, bn_p, bctx)):
                raise MemoryError("OpenSSL could not set up a Montgomery context")
            st = (
                bn_p,
                bctx,
                mont,
                lib.BN_new(),
                lib.BN_new(),
                lib.BN_new(),
                ctypes.create_string_buffer(self.nbytes),
                lib.BN_new(),
                lib.BN_new(),
                lib.BN_new(),
            )
            self._local.st = st
        return st

    def __call__(self, base: mpz, exponent: mpz) -> mpz:
        base, exponent = mpz(base), mpz(exponent)
        lib = self._lib
        if lib is None or exponent < 0:
            return mpz(gmpy2.powmod(base, exponent, self.p))
        bn_p, bctx, mont, r, b, e, buf, *_ = self._state()
        bb = base.to_bytes(self.nbytes, "big")
        eb = exponent.to_bytes((exponent.bit_length() + 7) // 8 or 1, "big")
        lib.BN_bin2bn(bb, len(bb), b)
        lib.BN_bin2bn(eb, len(eb), e)
        if not lib.BN_mod_exp_mont(r, b, e, bn_p, bctx, mont):
            return mpz(gmpy2.powmod(base, exponent, self.p))
        lib.BN_bn2binpad(r, buf, self.nbytes)
        return mpz.from_bytes(buf.raw, "big")

    def pow2(self, a: mpz, x: mpz, b: mpz, y: mpz) -> mpz:
        """``a^x * b^y mod p`` (``x, y >= 0``): with OpenSSL, one double exponentiation, about
        1.3 times the cost of one exponentiation instead of twice."""
        lib = self._lib
        a, x, b, y = mpz(a), mpz(x), mpz(b), mpz(y)
        if lib is None or x < 0 or y < 0:
            return self(a, x) * self(b, y) % self.p
        bn_p, bctx, mont, r, ba, bx, buf, bb, _lo, by = self._state()
        ab, bbytes = a.to_bytes(self.nbytes, "big"), b.to_bytes(self.nbytes, "big")
        xb = x.to_bytes((x.bit_length() + 7) // 8 or 1, "big")
        yb = y.to_bytes((y.bit_length() + 7) // 8 or 1, "big")
        lib.BN_bin2bn(ab, len(ab), ba)
        lib.BN_bin2bn(xb, len(xb), bx)
        lib.BN_bin2bn(bbytes, len(bbytes), bb)
        lib.BN_bin2bn(yb, len(yb), by)
        if not lib.BN_mod_exp2_mont(r, ba, bx, bb, by, bn_p, bctx, mont):
            return self(a, x) * self(b, y) % self.p
        lib.BN_bn2binpad(r, buf, self.nbytes)
        return mpz.from_bytes(buf.raw, "big")

    def half_power(self, base: mpz) -> mpz:
        """``base^(2^128)``, the second base of :meth:`split`."""
        return self(base, _TWO_128)

    def split(self, base: mpz, t: mpz, e: mpz) -> mpz:
        """``base^e`` as ``base^lo * t^hi`` for ``t = base^(2^128)`` and the 128-bit halves of
        ``0 <= e < 2^256``: one double exponentiation with OpenSSL."""
        e = mpz(e)
        if self._lib is None or not 0 <= e < _TWO_256:
            return self(base, e)
        return self.pow2(base, e & _MASK_128, t, e >> 128)

    def many(self, base: mpz, exponents: list[mpz]) -> list[mpz]:
        """``[base^e mod p for e in exponents]`` (each ``0 <= e < 2^256``).

        With OpenSSL and several exponents, ``T = base^(2^128)`` is computed once and each power
        is the double exponentiation ``base^lo * T^hi`` of two 128-bit halves, about 30% cheaper
        than a full exponentiation each.
        """
        lib = self._lib
        if lib is None or len(exponents) < 2 or any(not 0 <= e < _TWO_256 for e in exponents):
            return [self(base, e) for e in exponents]
        bn_p, bctx, mont, r, b, e, buf, t, lo, hi = self._state()
        bb = mpz(base).to_bytes(self.nbytes, "big")
        lib.BN_bin2bn(bb, len(bb), b)
        lib.BN_bin2bn(_TWO_128_BYTES, len(_TWO_128_BYTES), e)
        if not lib.BN_mod_exp_mont(t, b, e, bn_p, bctx, mont):
            return [self(base, x) for x in exponents]
        out = []
        for x in exponents:
            x = mpz(x)
            lb = (x & _MASK_128).to_bytes(16, "big")
            hb = (x >> 128).to_bytes(16, "big")
            lib.BN_bin2bn(lb, 16, lo)
            lib.BN_bin2bn(hb, 16, hi)
            if not lib.BN_mod_exp2_mont(r, b, lo, t, hi, bn_p, bctx, mont):
                out.append(mpz(gmpy2.powmod(base, x, self.p)))
                continue
            lib.BN_bn2binpad(r, buf, self.nbytes)
            out.append(mpz.from_bytes(buf.raw, "big"))
        return out


_TWO_256 = mpz(1) << 256
_TWO_128 = mpz(1) << 128
_MASK_128 = (mpz(1) << 128) - 1
_TWO_128_BYTES = (mpz(1) << 128).to_bytes(17, "big")


def make_powmod(p: mpz) -> Callable[[mpz, mpz], mpz]:
    return PowMod(p)


def backend_name() -> str:
    return "openssl" if _load() is not None else "gmp"
