// Voter credentials (section 4.8), as src/plebiscite/crypto/credentials.py: the 15-character
// secret with its checksum, and the secret exponent derived from it,
// secret(c) = PBKDF2-HMAC-SHA256(c, salt = uuid, 1000 iterations, one block) mod q.

import { bytesToBigInt } from "./bigint.js";
import { pbkdf2Sha256 } from "./hash.js";

export const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function checksum(first14) {
  let n = 0n;
  for (const c of first14) n = n * 58n + BigInt(BASE58.indexOf(c));
  return BASE58[Number(53n - (n % 53n))]; // in 1..53: "53 - c1 mod 53"
}

export function formatCredential(plain) {
  const parts = [];
  for (let i = 0; i < 15; i += 3) parts.push(plain.slice(i, i + 3));
  return parts.join("-");
}

/** Check a secret credential (XXX-XXX-XXX-XXX-XXX or 15 characters) and return it in the
 * dashed form; throws an Error with `code` "format", "dashes" or "checksum". */
export function parseCredential(text) {
  const raw = String(text).trim();
  const plain = raw.replaceAll("-", "");
  const fail = (code, message) => {
    const e = new Error(message);
    e.code = code;
    throw e;
  };
  if (plain.length !== 15 || [...plain].some((c) => !BASE58.includes(c))) {
    fail("format", "a credential is 15 Base58 characters, e.g. XXX-XXX-XXX-XXX-XXX");
  }
  if (raw !== plain && raw !== formatCredential(plain)) {
    fail("dashes", "dashes in a credential go after every third character");
  }
  if (checksum(plain.slice(0, 14)) !== plain[14]) {
    fail("checksum", "credential checksum does not match: check for a typing error");
  }
  return formatCredential(plain);
}

/** True iff `text` is a well-formed credential whose checksum matches. */
export function credentialLooksValid(text) {
  try {
    parseCredential(text);
    return true;
  } catch {
    return false;
  }
}

/** secret(c): the private signing key of a credential (given as it will be hashed). */
export async function credentialSecret(credential, uuid, group) {
  return bytesToBigInt(await pbkdf2Sha256(credential, uuid, 1000, 32)) % group.q;
}
