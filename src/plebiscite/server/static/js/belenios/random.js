// Random sources: every randomised function takes one with `async below(n)`, a uniform
// integer in [0, n). SystemRandom draws from crypto.getRandomValues (rejection sampling);
// DeterministicRandom is src/plebiscite/crypto/rand.py's DeterministicRandom, bit for bit
// (SHA-256 in counter mode over a seed), for known-answer tests only.

import { bitLength, bytesToBigInt } from "./bigint.js";
import { sha256, utf8 } from "./hash.js";

export class SystemRandom {
  /** A uniform integer in [0, n): draw bitLength(n - 1) random bits until below n. */
  async below(n) {
    n = BigInt(n);
    if (n <= 0n) throw new RangeError("below: n must be positive");
    if (n === 1n) return 0n;
    const bits = bitLength(n - 1n);
    const nbytes = Math.ceil(bits / 8);
    const topMask = 0xff >> (8 * nbytes - bits);
    const buf = new Uint8Array(nbytes);
    for (;;) {
      globalThis.crypto.getRandomValues(buf);
      buf[0] &= topMask;
      const x = bytesToBigInt(buf);
      if (x < n) return x;
    }
  }
}

/** SHA-256 in counter mode over a seed, with rejection sampling: reproducible, uniform.
 * Never for real elections. */
export class DeterministicRandom {
  constructor(seed) {
    this.seed = utf8(seed);
    this.counter = 0n;
  }

  async block() {
    this.counter += 1n;
    const input = new Uint8Array(this.seed.length + 8);
    input.set(this.seed);
    let c = this.counter;
    for (let i = 7; i >= 0; i--) {
      input[this.seed.length + i] = Number(c & 0xffn);
      c >>= 8n;
    }
    return sha256(input);
  }

  async below(n) {
    n = BigInt(n);
    if (n <= 0n) throw new RangeError("below: n must be positive");
    const nbytes = Math.ceil(bitLength(n) / 8) + 8;
    const span = 1n << BigInt(8 * nbytes);
    const limit = span - (span % n);
    for (;;) {
      const buf = new Uint8Array(nbytes + 32);
      let len = 0;
      while (len < nbytes) {
        buf.set(await this.block(), len);
        len += 32;
      }
      const x = bytesToBigInt(buf.subarray(0, nbytes));
      if (x < limit) return x % n;
    }
  }
}
