// The Ed25519 group of the Belenios 3 specification (section 5.2.1), as
// src/plebiscite/crypto/ed25519.py, on @noble/curves (the vendored copy). An element is its
// specification string: 64 lowercase hexadecimal digits of y XOR ((x mod 2) << 255), i.e. the
// RFC 8032 encoding with its bytes reversed. Strings are canonical, so elements compare with
// === like the finite-field groups' BigInts, and print as themselves in every hash input.
// Membership is strict: a canonical encoding of a point of the prime-order subgroup (the
// identity included; small-order points and points with a torsion component refused).

import { ed25519 } from "../../vendor/noble-curves/ed25519.js";
import { sha256 } from "./hash.js";

const Point = ed25519.Point;
const Q = Point.Fn.ORDER;
const HEX64 = /^[0-9a-f]{64}$/;

function hexToBytesReversed(hex) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[31 - i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function encodePoint(point) {
  const b = point.toBytes();
  let hex = "";
  for (let i = 31; i >= 0; i--) hex += b[i].toString(16).padStart(2, "0");
  return hex;
}

const mod = (a, n) => ((a % n) + n) % n;

class Ed25519Group {
  constructor() {
    this.name = "Ed25519";
    this.q = Q;
    this.one = encodePoint(Point.ZERO);
    this.g = encodePoint(Point.BASE);
    this.embedding = { padding: 14, bitsPerInt: 8 };
    this.maxInts = 30;
    this.qDigits = Q.toString().length;
    this.cache = new Map(); // decoded points of recent elements (g and y above all)
  }

  /** The point of an element (a canonical string already checked). */
  point(x) {
    let p = this.cache.get(x);
    if (p === undefined) {
      p = Point.fromBytes(hexToBytesReversed(x));
      if (this.cache.size >= 256) this.cache.delete(this.cache.keys().next().value);
      this.cache.set(x, p);
    }
    return p;
  }

  /** The point a string encodes, checked for form only (element() checks membership). */
  decode(text, where = "") {
    const at = where ? `${where}: ` : "";
    if (typeof text !== "string" || !HEX64.test(text)) {
      throw new Error(`${at}not an Ed25519 element (64 lowercase hexadecimal digits)`);
    }
    try {
      this.point(text);
    } catch {
      throw new Error(`${at}not a canonical encoding of a curve point`);
    }
    return text;
  }

  isElement(x) {
    if (typeof x !== "string" || !HEX64.test(x)) return false;
    let p;
    try {
      p = this.point(x);
    } catch {
      return false;
    }
    if (p.equals(Point.ZERO)) return true;
    return !p.isSmallOrder() && p.isTorsionFree();
  }

  element(text, where = "") {
    this.decode(text, where);
    if (!this.isElement(text)) {
      throw new Error(`${where ? `${where}: ` : ""}not a point of the prime-order subgroup`);
    }
    return text;
  }

  scalar(text, where = "") {
    const at = where ? `${where}: ` : "";
    if (typeof text !== "string" || text.length > this.qDigits || !/^(0|[1-9][0-9]*)$/.test(text)) {
      throw new Error(`${at}not a canonical decimal number`);
    }
    const x = BigInt(text);
    if (x >= Q) throw new Error(`${at}scalar is not below q`);
    return x;
  }

  encode(x) {
    return x;
  }

  mul(a, b) {
    if (a === this.one) return b;
    if (b === this.one) return a;
    return encodePoint(this.point(a).add(this.point(b)));
  }

  div(a, b) {
    if (b === this.one) return a;
    return encodePoint(this.point(a).subtract(this.point(b)));
  }

  inv(a) {
    return this.div(this.one, a);
  }

  pow(base, e) {
    const k = mod(BigInt(e), Q);
    if (k === 0n || base === this.one) return this.one;
    return encodePoint(this.point(base).multiply(k));
  }

  gpow(e) {
    const k = mod(BigInt(e), Q);
    if (k === 0n) return this.one;
    return encodePoint(Point.BASE.multiply(k));
  }

  /** of_ints: 8 bits per integer, then the smallest 14-bit padding giving a group element.
   * Returns [element, padding] (the padding is not random: `rng` is not used). */
  async ofInts(values, rng = null) {
    if (values.length > this.maxInts) throw new Error("too many integers for one element");
    let m = 0n;
    for (const v of values) {
      if (!(v >= 0 && v < 256)) throw new Error(`value ${v} does not fit in 8 bits`);
      m = (m << 8n) | BigInt(v);
    }
    const base = m << 14n;
    for (let eps = 0n; eps < 1n << 14n; eps++) {
      const hex = (base + eps).toString(16).padStart(64, "0");
      if (this.isElement(hex)) return [hex, eps];
    }
    throw new Error("no padding puts this vote in the group");
  }

  /** The element of_ints gives for `values` with the padding `epsilon`, or null. */
  embed(values, epsilon) {
    let m = 0n;
    for (const v of values) m = (m << 8n) | BigInt(v);
    const z = (m << 14n) + BigInt(epsilon);
    if (z >> 255n) return null;
    const hex = z.toString(16).padStart(64, "0");
    return this.isElement(hex) ? hex : null;
  }

  toInts(x, n) {
    let m = BigInt(`0x${x}`) >> 14n;
    const out = [];
    for (let i = 0; i < n; i++) {
      out.unshift(Number(m & 255n));
      m >>= 8n;
    }
    if (m) throw new Error("the value does not encode a vector of the right length");
    return out;
  }

  /** GetGenerator(i): SHA256(ggen|i) >> 2, the first curve point at or above it, times 8. */
  async generator(i) {
    const digest = await sha256(`ggen|${i}`);
    let x = 0n;
    for (const byte of digest) x = (x << 8n) | BigInt(byte);
    x >>= 2n;
    for (let eps = 0n; eps < 1n << 16n; eps++) {
      const hex = (x + eps).toString(16).padStart(64, "0");
      let p;
      try {
        p = Point.fromBytes(hexToBytesReversed(hex));
      } catch {
        continue;
      }
      const h = encodePoint(p.multiplyUnsafe(8n));
      if (h === this.one || h === this.g) throw new Error(`generator ${i} is degenerate`);
      return h;
    }
    throw new Error(`no curve point found for generator ${i}`);
  }
}

export const ED25519 = new Ed25519Group();
