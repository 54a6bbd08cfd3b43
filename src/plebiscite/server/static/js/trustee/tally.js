// A trustee's partial decryption of an encrypted tally (sections 4.18 and 4.19), as
// src/plebiscite/protocol/tally.py's partial_decryption_json, byte for byte for the same
// randomness: for every ciphertext (alpha, beta) of the tally, the decryption factor alpha^x
// and a proof {challenge, response} with A = g^w, B = alpha^w and
// challenge = SHA256(decrypt|fingerprint|g^x|A,B) mod q. In any group, through its interface
// (see belenios/groups.js).

import { mod } from "../belenios/bigint.js";
import { sha256Int } from "../belenios/hash.js";
import { array, fail, fields } from "./channel.js";

function ciphertexts(group, value, where, min) {
  return array(value, where, min, 1 << 16).map((ct, j) => {
    const w = `${where}[${j}]`;
    const o = fields(ct, ["alpha", "beta"], w);
    return [group.element(o.alpha, `${w}.alpha`), group.element(o.beta, `${w}.beta`)];
  });
}

/** The encrypted tally as the API gives it, in the shape of the board's: one list of
 * ciphertexts {alpha, beta} per question, a Lists question's one list per list (its name's
 * ciphertext, then its candidates'). Every element checked: a question's column is
 * [[alpha, beta], ...], a Lists question's {rows: [[[alpha, beta], ...], ...]}. */
export function parseTally(group, value, where = "encrypted tally") {
  return array(value, where, 0, 256).map((col, i) => {
    const w = `${where}[${i}]`;
    if (Array.isArray(col) && col.length > 0 && col.every(Array.isArray)) {
      const rows = array(col, w, 1, 256);
      return { rows: rows.map((row, k) => ciphertexts(group, row, `${w}[${k}]`, 2)) };
    }
    return ciphertexts(group, col, w, 0);
  });
}

/** The decryption factor alpha^x and its proof, with the randomness w. */
export async function proveDecryption(ctx, fingerprint, x, alpha, w) {
  const X = ctx.gpow(x);
  const A = ctx.gpow(w);
  const B = ctx.pow(alpha, w);
  const input = `decrypt|${fingerprint}|${ctx.encode(X)}|${ctx.encode(A)},${ctx.encode(B)}`;
  const c = (await sha256Int(input)) % ctx.q;
  return [ctx.pow(alpha, x), { challenge: c, response: mod(w - x * c, ctx.q) }];
}

/** The partial_decryption JSON text of `tally` (parsed by parseTally) with the decryption
 * key `x`: decryption factors and proofs for every ciphertext, in order, in the tally's shape
 * (as partial_decryption_json with the election's questions). */
export async function partialDecryption(ctx, fingerprint, x, tally, rng) {
  if (typeof fingerprint !== "string" || !fingerprint) throw fail("no election fingerprint");
  const decrypt = async (cts) => {
    const frow = [];
    const prow = [];
    for (const [alpha] of cts) {
      const [f, pr] = await proveDecryption(ctx, fingerprint, x, alpha, await rng.below(ctx.q));
      frow.push(ctx.encode(f));
      prow.push({ challenge: pr.challenge.toString(), response: pr.response.toString() });
    }
    return [frow, prow];
  };
  const factors = [];
  const proofs = [];
  for (const col of tally) {
    if (Array.isArray(col)) {
      const [frow, prow] = await decrypt(col);
      factors.push(frow);
      proofs.push(prow);
      continue;
    }
    const frows = [];
    const prows = [];
    for (const row of col.rows) {
      const [frow, prow] = await decrypt(row);
      frows.push(frow);
      prows.push(prow);
    }
    factors.push(frows);
    proofs.push(prows);
  }
  return JSON.stringify({ decryption_factors: factors, decryption_proofs: proofs });
}
