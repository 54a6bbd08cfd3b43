// Arithmetic on BigInt for the groups of the Belenios 2.0 specification (section 5):
// modular exponentiation by sliding window, inverse, Jacobi symbol, conversions.
// Pure functions, no dependency; the same results as gmpy2 on the Python side.

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Parse a canonical base-10 natural number written as a JSON string (no sign, no leading
 * zero, no space), at most `maxDigits` digits. Throws an Error naming `where`. */
export function parseNatural(text, maxDigits, where = "") {
  const at = where ? `${where}: ` : "";
  if (typeof text !== "string") {
    throw new Error(`${at}expected a number written as a JSON string`);
  }
  if (text.length > maxDigits) {
    throw new Error(`${at}number has ${text.length} digits, more than the ${maxDigits} allowed`);
  }
  if (!DECIMAL.test(text)) throw new Error(`${at}not a canonical decimal number`);
  return BigInt(text);
}

/** Number of bits of a non-negative BigInt (0 for 0), as Python's int.bit_length(). */
export function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

/** `a mod m` in [0, m). */
export function mod(a, m) {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** Big-endian bytes to a BigInt. */
export function bytesToBigInt(bytes) {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex ? BigInt(`0x${hex}`) : 0n;
}

/** Window size of the sliding-window exponentiation for an exponent of `bits` bits. */
function windowBits(bits) {
  if (bits > 671) return 6;
  if (bits > 239) return 5;
  if (bits > 79) return 4;
  if (bits > 23) return 3;
  return 1;
}

/** `base^exp mod m` for `exp >= 0`, by left-to-right sliding window over the odd powers. */
export function modPow(base, exp, m) {
  if (exp < 0n) throw new RangeError("modPow: negative exponent");
  if (m === 1n) return 0n;
  let b = mod(base, m);
  if (exp === 0n) return 1n;
  if (b === 0n || b === 1n) return b;
  const bits = exp.toString(2);
  const n = bits.length;
  const k = windowBits(n);
  // odd powers b^1, b^3, ..., b^(2^k - 1)
  const odd = [b];
  if (k > 1) {
    const b2 = (b * b) % m;
    for (let i = 1; i < 1 << (k - 1); i++) odd.push((odd[i - 1] * b2) % m);
  }
  let r = 1n;
  let started = false;
  let i = 0;
  while (i < n) {
    if (bits.charCodeAt(i) === 48) {
      if (started) r = (r * r) % m;
      i++;
      continue;
    }
    let j = Math.min(i + k, n);
    while (bits.charCodeAt(j - 1) === 48) j--;
    const w = parseInt(bits.slice(i, j), 2);
    if (started) {
      for (let t = i; t < j; t++) r = (r * r) % m;
      r = (r * odd[(w - 1) >> 1]) % m;
    } else {
      r = odd[(w - 1) >> 1];
      started = true;
    }
    i = j;
  }
  return r;
}

/** Inverse of `a` modulo `m` (extended Euclid); throws if there is none. */
export function modInv(a, m) {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const qt = r0 / r1;
    [r0, r1] = [r1, r0 - qt * r1];
    [s0, s1] = [s1, s0 - qt * s1];
  }
  if (r0 !== 1n) throw new RangeError("modInv: not invertible");
  return mod(s0, m);
}

/** Jacobi symbol (a/n) for an odd positive n: 1, -1 or 0. */
export function jacobi(a, n) {
  if (n <= 0n || (n & 1n) === 0n) throw new RangeError("jacobi: n must be odd and positive");
  let x = mod(a, n);
  let y = n;
  let t = 1;
  while (x !== 0n) {
    while ((x & 1n) === 0n) {
      x >>= 1n;
      const r = y & 7n;
      if (r === 3n || r === 5n) t = -t;
    }
    [x, y] = [y, x];
    if ((x & 3n) === 3n && (y & 3n) === 3n) t = -t;
    x %= y;
  }
  return y === 1n ? t : 0;
}

/** Fixed-base exponentiation with 4-bit windows: `table[i][d] = base^(d * 16^i)`, so an
 * exponent (reduced modulo `order` first) costs one multiplication per non-zero hexadecimal
 * digit. Building the table costs 15 multiplications per digit of `order`: worth it from a few
 * dozen exponentiations of the same base. */
export class FixedBase {
  constructor(base, m, order) {
    this.m = m;
    this.order = order;
    const rows = order.toString(16).length;
    this.table = [];
    let b = mod(base, m);
    for (let i = 0; i < rows; i++) {
      const row = [1n, b];
      let x = b;
      for (let d = 2; d < 16; d++) {
        x = (x * b) % m;
        row.push(x);
      }
      this.table.push(row);
      b = (x * b) % m;
    }
  }

  pow(exponent) {
    const hex = mod(exponent, this.order).toString(16);
    const { m, table } = this;
    let r = 1n;
    for (let i = 0, j = hex.length - 1; j >= 0; i++, j--) {
      const d = parseInt(hex[j], 16);
      if (d) r = r === 1n ? table[i][d] : (r * table[i][d]) % m;
    }
    return r;
  }
}
