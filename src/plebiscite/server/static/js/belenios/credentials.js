// Voter credentials (section 4.8), as src/plebiscite/crypto/credentials.py, in both forms:
// Belenios 3.x, 22 Base58 characters in groups 5-6-5-6 and
// secret(c) = SHA256(derive_credential|uuid|0|c) || SHA256(derive_credential|uuid|1|c) mod q
// (hexadecimal digests read as one number); Belenios 2.0, 15 characters with a checksum and
// secret(c) = PBKDF2-HMAC-SHA256(c, salt = uuid, 1000 iterations, one block) mod q.

import { bytesToBigInt } from "./bigint.js";
import { pbkdf2Sha256, sha256Hex } from "./hash.js";

const GROUPS_3 = [5, 6, 5, 6];

function format3(plain) {
  const parts = [];
  let i = 0;
  for (const n of GROUPS_3) {
    parts.push(plain.slice(i, i + n));
    i += n;
  }
  return parts.join("-");
}

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
  if ((plain.length !== 15 && plain.length !== 22) || [...plain].some((c) => !BASE58.includes(c))) {
    fail("format", "a credential is 22 Base58 characters, XXXXX-XXXXXX-XXXXX-XXXXXX");
  }
  if (plain.length === 22) {
    if (raw !== plain && raw !== format3(plain)) {
      fail("dashes", "dashes in a credential go after characters 5, 11 and 16");
    }
    return format3(plain);
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
  if (credential.replaceAll("-", "").length === 22) {
    const x0 = await sha256Hex(`derive_credential|${uuid}|0|${credential}`);
    const x1 = await sha256Hex(`derive_credential|${uuid}|1|${credential}`);
    return BigInt(`0x${x0}${x1}`) % group.q;
  }
  return bytesToBigInt(await pbkdf2Sha256(credential, uuid, 1000, 32)) % group.q;
}

/** The public credential of the private `credential` for the election `uuid` in `group`:
 * g^secret(c), encoded as the election's public credential list writes it (a decimal number in
 * a finite field, 64 hexadecimal digits in Ed25519). */
export async function publicCredential(credential, uuid, group) {
  const cred = parseCredential(credential);
  return group.encode(group.gpow(await credentialSecret(cred, uuid, group)));
}
