// The Ed25519 group of the Belenios 3 specification (section "Groups", Ed25519), as
// src/plebiscite/crypto/ed25519.py, on @noble/curves (the vendored copy, see web/setup.sh).
//
// p = 2^255 - 19, the twisted Edwards curve of RFC 8032, g its base point, of order
// q = 2^252 + 27742317777372353535851937790883648493. An element is written (in JSON and in
// every hash input) as 64 lowercase hexadecimal digits of z = y XOR ((x mod 2) << 255): the
// RFC 8032 encoding with its bytes reversed. In this module an element *is* that string: it is
// canonical, so two elements are equal exactly when their strings are, and encode() is the
// identity function; the curve points behind the strings are noble's, kept in a small cache.
//
// Membership is strict: a canonical encoding (exactly 64 lowercase hexadecimal digits, y < p,
// the sign bit clear when x = 0) of a point of the prime-order subgroup, q * P = identity
// (small-order points and points with a torsion component are refused). The identity is an
// element; the parsers that refuse 1 in the finite-field groups refuse it likewise.
//
// The interface is the one of every group (see groups.js).

import { ed25519 } from "../../vendor/noble-curves/ed25519.js";
import { sha256 } from "./hash.js";

const Point = ed25519.Point;
const P = 2n ** 255n - 19n;
const Q = Point.Fn.ORDER;
const HEX64 = /^[0-9a-f]{64}$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;
const KAPPA = 8; // bits per small integer of the embedding
const PADDING = 14; // bits of the padding epsilon
const MAX_INTS = 30; // small integers in one element (the specification's limit)
const CACHE = 512; // decoded points kept

if (Q !== 2n ** 252n + 27742317777372353535851937790883648493n) throw new Error("Ed25519: q");

const at = (where) => (where ? `${where}: ` : "");
const mod = (a, n) => ((a % n) + n) % n;

/** The specification's string of a point: z = y XOR ((x mod 2) << 255) in 64 hex digits. */
function encodePoint(point) {
  const { x, y } = point.toAffine();
  return ((x & 1n) << 255n | y).toString(16).padStart(64, "0");
}

/** The point of the 256-bit integer z (RFC 8032 decoding: y < p, no sign bit on x = 0), or
 * null when z encodes no curve point. Membership in the subgroup is not checked. */
function uncompress(z) {
  if (z < 0n || z >> 256n) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0, v = z; i < 32; i++, v >>= 8n) bytes[i] = Number(v & 255n);
  try {
    return Point.fromBytes(bytes);
  } catch {
    return null;
  }
}

/** q * P = identity: P is in the prime-order subgroup (the identity included; a point of
 * small order, and a point with a torsion component, are not). */
const inSubgroup = (point) => point.is0() || point.isTorsionFree();

/** Raising a fixed element to many exponents: noble's windowed precomputation on its point. */
class FixedBase {
  constructor(group, point, window) {
    this.group = group;
    // a point of its own: noble keeps the table of a point with the point object
    this.point = point.is0() ? null : Point.fromAffine(point.toAffine()).precompute(window, true);
  }

  pow(e) {
    const k = mod(BigInt(e), Q);
    if (k === 0n || this.point === null) return this.group.identity;
    return this.group.remember(this.point.multiply(k), undefined);
  }
}

class Ed25519Group {
  constructor() {
    this.name = "Ed25519";
    this.p = P; // the field's characteristic (not the order of the group)
    this.q = Q;
    this.qDigits = Q.toString().length;
    this.elementChars = 64;
    this.embedding = { padding: PADDING, bitsPerInt: KAPPA };
    this.maxInts = MAX_INTS;
    this.cache = new Map(); // string -> {point, member: true | false | undefined}
    this.identity = this.remember(Point.ZERO, true);
    this.one = this.identity;
    this.g = this.remember(Point.BASE, true);
  }

  // -- the points behind the strings ----------------------------------------------------------

  /** The string of `point`, kept in the cache with what is known of its membership. */
  remember(point, member) {
    const x = encodePoint(point);
    const e = this.cache.get(x);
    if (e === undefined) this.entry(x, point, member);
    else if (member && e.member === undefined) e.member = true;
    return x;
  }

  entry(x, point, member) {
    if (this.cache.size >= CACHE) {
      for (const k of this.cache.keys()) {
        if (k !== this.g && k !== this.identity) {
          this.cache.delete(k);
          break;
        }
      }
    }
    const e = { point, member };
    this.cache.set(x, e);
    return e;
  }

  /** The cache entry of a string of the right form, or null if it encodes no curve point. */
  lookup(x) {
    let e = this.cache.get(x);
    if (e === undefined) {
      const point = uncompress(BigInt(`0x${x}`));
      if (point === null) return null;
      e = this.entry(x, point, undefined);
    }
    return e;
  }

  /** The noble point of an element. */
  point(x) {
    const e = typeof x === "string" && HEX64.test(x) ? this.lookup(x) : null;
    if (e === null) throw new Error("not an Ed25519 element");
    return e.point;
  }

  // -- parsing and encoding -------------------------------------------------------------------

  /** The string checked for form only: 64 lowercase hexadecimal digits, the canonical
   * encoding of a curve point (element() also checks membership). */
  decode(text, where = "") {
    if (typeof text !== "string" || !HEX64.test(text)) {
      throw new Error(`${at(where)}not an Ed25519 element (64 lowercase hexadecimal digits)`);
    }
    if (this.lookup(text) === null) {
      throw new Error(`${at(where)}not a canonical encoding of a curve point`);
    }
    return text;
  }

  /** True iff `x` is an element: the canonical string of a point of the subgroup. */
  isElement(x) {
    if (typeof x !== "string" || !HEX64.test(x)) return false;
    const e = this.lookup(x);
    if (e === null) return false;
    if (e.member === undefined) e.member = inSubgroup(e.point);
    return e.member;
  }

  /** Parse and check an element (strict membership). */
  element(text, where = "") {
    this.decode(text, where);
    if (!this.isElement(text)) {
      throw new Error(`${at(where)}not a point of the prime-order subgroup of Ed25519`);
    }
    return text;
  }

  /** Parse an exponent: a canonical decimal string of an integer in [0, q). */
  scalar(text, where = "") {
    if (typeof text !== "string" || text.length > this.qDigits || !DECIMAL.test(text)) {
      throw new Error(`${at(where)}not a canonical decimal number below q`);
    }
    const x = BigInt(text);
    if (x >= Q) throw new Error(`${at(where)}scalar is not below q`);
    return x;
  }

  /** The specification's string of an element (the element itself). */
  encode(x) {
    if (typeof x !== "string") throw new TypeError("Ed25519: not an element");
    return x;
  }

  equals(a, b) {
    return a === b;
  }

  // -- arithmetic (written multiplicatively, as the specification does) ------------------------

  mul(a, b) {
    if (a === this.identity) return b;
    if (b === this.identity) return a;
    return this.remember(this.point(a).add(this.point(b)), undefined);
  }

  div(a, b) {
    if (b === this.identity) return a;
    return this.remember(this.point(a).subtract(this.point(b)), undefined);
  }

  inv(a) {
    if (a === this.identity) return a;
    return this.remember(this.point(a).negate(), undefined);
  }

  /** base^e (e any integer, taken modulo q), in constant time for the exponent. */
  pow(base, e) {
    const k = mod(BigInt(e), Q);
    if (k === 0n || base === this.identity) return this.identity;
    return this.remember(this.point(base).multiply(k), undefined);
  }

  /** g^e, on noble's precomputed table of the base point. */
  gpow(e) {
    const k = mod(BigInt(e), Q);
    if (k === 0n) return this.identity;
    return this.remember(Point.BASE.multiply(k), true);
  }

  /** An object whose pow(e) is base^e, with a precomputed table (worth it from a few
   * exponentiations of the same base, as the election public key's in a ballot). */
  fixedBase(base, window = 4) {
    return new FixedBase(this, this.point(base), window);
  }

  // -- the embedding of small integers and the independent generators -------------------------

  /** of_ints: [v1..vn] (8 bits each) -> uncompress(((v1 2^8 + v2) 2^8 ... + vn) 2^14 + eps),
   * eps the smallest non-negative padding giving an element. Returns [element, eps]; `rng` is
   * not used (the padding is not random in this group). */
  async ofInts(values, rng = null) {
    const base = this.packInts(values);
    for (let eps = 0; eps < 1 << PADDING; eps++) {
      const x = this.embed(null, eps, base);
      if (x !== null) return [x, eps];
    }
    throw new Error("no padding puts this vote in the group");
  }

  packInts(values) {
    if (values.length > MAX_INTS) throw new Error(`at most ${MAX_INTS} integers fit in one element`);
    let m = 0n;
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v >= 1 << KAPPA) {
        throw new Error(`value ${v} does not fit in ${KAPPA} bits`);
      }
      m = (m << BigInt(KAPPA)) | BigInt(v);
    }
    return m << BigInt(PADDING);
  }

  /** The element of_ints gives for `values` with the padding `epsilon`, or null. */
  embed(values, epsilon, base = null) {
    const z = (base ?? this.packInts(values)) + BigInt(epsilon);
    if (z >> 255n) return null; // the sign bit: not of_ints' form
    const point = uncompress(z);
    if (point === null || !inSubgroup(point)) return null;
    return this.remember(point, true);
  }

  /** to_ints: the n small integers of an element made by of_ints (z >> 14, in bytes). */
  toInts(x, n) {
    let m = BigInt(`0x${this.encode(x)}`) >> BigInt(PADDING);
    const out = [];
    for (let i = 0; i < n; i++) {
      out.unshift(Number(m & ((1n << BigInt(KAPPA)) - 1n)));
      m >>= BigInt(KAPPA);
    }
    if (m) throw new Error("the value does not encode a vector of the right length");
    return out;
  }

  /** GetGenerator(i): x = SHA256(ggen|i) >> 2, b = uncompress(x + eps) for the smallest eps
   * putting b on the curve, h = b^8; aborts if h is the identity or g. */
  async generator(i) {
    if (!Number.isSafeInteger(i) && typeof i !== "bigint") throw new Error("not a generator number");
    let x = 0n;
    for (const byte of await sha256(`ggen|${i}`)) x = (x << 8n) | BigInt(byte);
    x >>= 2n;
    for (let eps = 0n; eps < 1n << 16n; eps++) {
      const b = uncompress(x + eps);
      if (b === null) continue;
      const h = this.remember(b.clearCofactor(), true);
      if (h === this.identity || h === this.g) throw new Error(`generator ${i} is degenerate`);
      return h;
    }
    throw new Error(`no curve point found for generator ${i}`);
  }
}

export const ED25519 = new Ed25519Group();
