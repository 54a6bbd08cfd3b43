//! C entry points over curve25519-dalek for plebiscite's Ed25519 group
//! (`plebiscite.crypto.ed25519`, loaded with ctypes).
//!
//! Wrappers only: every curve operation is dalek's. Points travel as their 32-byte RFC 8032
//! encodings, scalars as 32 little-endian bytes already reduced modulo the group order (read
//! with `Scalar::from_bytes_mod_order`). Each function returns 0 on success and -1 when an
//! input does not decode to a curve point. Membership (the prime-order subgroup) is checked by
//! `ple_member` only: the arithmetic takes points the caller has already checked.
//!
//! The `_vartime` functions run in time that depends on their inputs: they are for public
//! values only (the verification of proofs). The others are dalek's constant-time
//! multiplications (variable-base, base-point, and Straus for two points). The points given to
//! `ple_member` and to the `_vartime` functions are decoded through a small cache of each
//! thread (a ciphertext of a ballot is checked, then used in several proofs): public points
//! only go there.

#![allow(clippy::missing_safety_doc)]

use core::cell::RefCell;
use core::slice;
use std::collections::HashMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint, VartimeEdwardsPrecomputation};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{
    Identity, MultiscalarMul, VartimeMultiscalarMul, VartimePrecomputedMultiscalarMul,
};

const OK: i32 = 0;
const NOT_A_POINT: i32 = -1;

/// The group order minus one, `q - 1`: `(q - 1) P = -P` exactly when `P` has no torsion part.
const Q_MINUS_ONE: [u8; 32] = [
    0xec, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

unsafe fn bytes32<'a>(p: *const u8) -> &'a [u8; 32] {
    &*(p as *const [u8; 32])
}

unsafe fn point(p: *const u8) -> Option<EdwardsPoint> {
    CompressedEdwardsY(*bytes32(p)).decompress()
}

/// Decoded public points, by encoding; emptied when full.
const CACHE_SIZE: usize = 1024;

thread_local! {
    static CACHE: RefCell<HashMap<[u8; 32], EdwardsPoint>> = RefCell::new(HashMap::new());
}

/// `point` for a public encoding, through the cache.
unsafe fn public_point(p: *const u8) -> Option<EdwardsPoint> {
    let key = *bytes32(p);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(a) = c.get(&key) {
            return Some(*a);
        }
        let a = CompressedEdwardsY(key).decompress()?;
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(key, a);
        Some(a)
    })
}

unsafe fn scalar(s: *const u8) -> Scalar {
    Scalar::from_bytes_mod_order(*bytes32(s))
}

unsafe fn put(out: *mut u8, p: &EdwardsPoint) -> i32 {
    let out = &mut *(out as *mut [u8; 32]);
    *out = p.compress().to_bytes();
    OK
}

/// 1 if `p` decodes to a point of the prime-order subgroup (the identity included), 0
/// otherwise. The encoding's canonical form (`y < 2^255 - 19`, no sign bit on `x = 0`) is
/// the caller's check. `(q - 1) P` by the variable-time double-scalar multiplication: its
/// steps follow the fixed scalar `q - 1` only, not the point.
#[no_mangle]
pub unsafe extern "C" fn ple_member(p: *const u8) -> i32 {
    match public_point(p) {
        None => 0,
        Some(a) => {
            let minus = EdwardsPoint::vartime_double_scalar_mul_basepoint(
                &Scalar::from_bytes_mod_order(Q_MINUS_ONE),
                &a,
                &Scalar::ZERO,
            );
            i32::from(minus == -a)
        }
    }
}

/// 1 if `p` decodes to a point of the curve (any order), 0 otherwise.
#[no_mangle]
pub unsafe extern "C" fn ple_on_curve(p: *const u8) -> i32 {
    i32::from(point(p).is_some())
}

/// `out = a + b`.
#[no_mangle]
pub unsafe extern "C" fn ple_add(out: *mut u8, a: *const u8, b: *const u8) -> i32 {
    match (point(a), point(b)) {
        (Some(a), Some(b)) => put(out, &(a + b)),
        _ => NOT_A_POINT,
    }
}

/// `out = a - b`.
#[no_mangle]
pub unsafe extern "C" fn ple_sub(out: *mut u8, a: *const u8, b: *const u8) -> i32 {
    match (point(a), point(b)) {
        (Some(a), Some(b)) => put(out, &(a - b)),
        _ => NOT_A_POINT,
    }
}

/// `out = 8 p` (the cofactor).
#[no_mangle]
pub unsafe extern "C" fn ple_mul_by_cofactor(out: *mut u8, p: *const u8) -> i32 {
    match point(p) {
        Some(a) => put(out, &a.mul_by_cofactor()),
        None => NOT_A_POINT,
    }
}

/// `out = s p`, constant time.
#[no_mangle]
pub unsafe extern "C" fn ple_mul(out: *mut u8, s: *const u8, p: *const u8) -> i32 {
    match point(p) {
        Some(a) => put(out, &(a * scalar(s))),
        None => NOT_A_POINT,
    }
}

/// `out[i] = s[i] p` for `i < n` (`p` decoded once), constant time.
#[no_mangle]
pub unsafe extern "C" fn ple_mul_many(out: *mut u8, n: usize, s: *const u8, p: *const u8) -> i32 {
    let a = match point(p) {
        Some(a) => a,
        None => return NOT_A_POINT,
    };
    for i in 0..n {
        put(out.add(32 * i), &(a * scalar(s.add(32 * i))));
    }
    OK
}

/// `out = s B` for the base point `B`, constant time (dalek's precomputed table).
#[no_mangle]
pub unsafe extern "C" fn ple_mul_base(out: *mut u8, s: *const u8) -> i32 {
    put(out, &EdwardsPoint::mul_base(&scalar(s)))
}

/// `out = s1 p1 + s2 p2`, constant time (Straus).
#[no_mangle]
pub unsafe extern "C" fn ple_mul2(
    out: *mut u8,
    s1: *const u8,
    p1: *const u8,
    s2: *const u8,
    p2: *const u8,
) -> i32 {
    match (point(p1), point(p2)) {
        (Some(a), Some(b)) => put(out, &EdwardsPoint::multiscalar_mul([scalar(s1), scalar(s2)], [a, b])),
        _ => NOT_A_POINT,
    }
}

/// `out = a A + b B` for the base point `B`, variable time: public inputs only.
#[no_mangle]
pub unsafe extern "C" fn ple_mul_base2_vartime(
    out: *mut u8,
    a: *const u8,
    p: *const u8,
    b: *const u8,
) -> i32 {
    match public_point(p) {
        Some(pt) => put(
            out,
            &EdwardsPoint::vartime_double_scalar_mul_basepoint(&scalar(a), &pt, &scalar(b)),
        ),
        None => NOT_A_POINT,
    }
}

/// `out = sum of s[i] p[i]` for `i < n`, variable time (Straus, or Pippenger for many
/// points): public inputs only.
#[no_mangle]
pub unsafe extern "C" fn ple_multi_vartime(
    out: *mut u8,
    n: usize,
    s: *const u8,
    p: *const u8,
) -> i32 {
    if n == 0 {
        return put(out, &EdwardsPoint::identity());
    }
    match public_points(n, p) {
        Some(pts) => put(out, &EdwardsPoint::vartime_multiscalar_mul(scalars(n, s), &pts)),
        None => NOT_A_POINT,
    }
}

unsafe fn points(n: usize, p: *const u8) -> Option<Vec<EdwardsPoint>> {
    let mut out = Vec::with_capacity(n);
    for e in slice::from_raw_parts(p, 32 * n).chunks_exact(32) {
        out.push(point(e.as_ptr())?);
    }
    Some(out)
}

unsafe fn public_points(n: usize, p: *const u8) -> Option<Vec<EdwardsPoint>> {
    let mut out = Vec::with_capacity(n);
    for e in slice::from_raw_parts(p, 32 * n).chunks_exact(32) {
        out.push(public_point(e.as_ptr())?);
    }
    Some(out)
}

unsafe fn scalars(n: usize, s: *const u8) -> impl Iterator<Item = Scalar> {
    slice::from_raw_parts(s, 32 * n).chunks_exact(32).map(|c| scalar(c.as_ptr()))
}

/// `out = sum of p[i]` for `i < n` (each decoded once, the sum encoded once).
#[no_mangle]
pub unsafe extern "C" fn ple_sum(out: *mut u8, n: usize, p: *const u8) -> i32 {
    match points(n, p) {
        Some(pts) => put(out, &pts.iter().sum()),
        None => NOT_A_POINT,
    }
}

/// dalek's tables for a variable-time multi-scalar multiplication with `n` fixed points
/// (`VartimeEdwardsPrecomputation`), or null when one does not decode. Freed by
/// `ple_precomputation_free`.
#[no_mangle]
pub unsafe extern "C" fn ple_precomputation_new(
    n: usize,
    p: *const u8,
) -> *mut VartimeEdwardsPrecomputation {
    match points(n, p) {
        Some(pts) => Box::into_raw(Box::new(VartimeEdwardsPrecomputation::new(pts))),
        None => core::ptr::null_mut(),
    }
}

#[no_mangle]
pub unsafe extern "C" fn ple_precomputation_free(t: *mut VartimeEdwardsPrecomputation) {
    if !t.is_null() {
        drop(Box::from_raw(t));
    }
}

/// `out = sum of s[i] P[i] (the table's n fixed points) + sum of d[j] p[j]` for `j < m`,
/// variable time: public inputs only.
#[no_mangle]
pub unsafe extern "C" fn ple_precomputed_vartime(
    out: *mut u8,
    t: *const VartimeEdwardsPrecomputation,
    n: usize,
    s: *const u8,
    m: usize,
    d: *const u8,
    p: *const u8,
) -> i32 {
    match public_points(m, p) {
        Some(pts) => put(
            out,
            &(*t).vartime_mixed_multiscalar_mul(scalars(n, s), scalars(m, d), &pts),
        ),
        None => NOT_A_POINT,
    }
}

/// The encoding of the base point (a check that the library and its caller agree).
#[no_mangle]
pub unsafe extern "C" fn ple_base(out: *mut u8) -> i32 {
    put(out, &ED25519_BASEPOINT_POINT)
}
