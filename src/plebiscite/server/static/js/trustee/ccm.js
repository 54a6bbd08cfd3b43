// AES-CCM (NIST SP 800-38C, RFC 3610) on WebCrypto, which has AES-CTR and AES-CBC but no CCM,
// with the parameters of src/plebiscite/crypto/channel.py (those of belenios-tool 2.0): no
// associated data, an 8-byte tag appended to the ciphertext, a nonce of 15 - L bytes where L
// (at least 2) is the number of bytes needed to write the message length.
//
// - the CBC-MAC is AES-CBC with a zero IV over the formatted blocks B0 || message padded with
//   zeros to 16 bytes: the last ciphertext block is the MAC (WebCrypto appends one block of
//   PKCS#7 padding after it, ignored), its first 8 bytes the tag T;
// - the encryption is AES-CTR from the counter block A0 = [L - 1, nonce, 0...0] with an
//   L-byte counter, over 16 zero bytes followed by the message: the first block is S0 (the
//   tag is T xor S0), the rest the ciphertext (keystream S1, S2, ...).

export const TAG_BYTES = 8;
const BLOCK = 16;

function subtle() {
  if (typeof globalThis.crypto !== "object" || typeof globalThis.crypto.subtle !== "object") {
    throw new Error("WebCrypto is unavailable: open this page over HTTPS (or on localhost)");
  }
  return globalThis.crypto.subtle;
}

/** CCM's L: the bytes needed to write the message length `n`, at least 2 (at most 4). */
export function lengthBytes(n) {
  let L = 2;
  while (L < 4 && n >= 2 ** (8 * L)) L++;
  return L;
}

function checkArgs(key, nonce, n) {
  if (!(key instanceof Uint8Array) || ![16, 32].includes(key.length)) {
    throw new Error("AES-CCM: the key is 16 or 32 bytes (WebCrypto has no 192-bit AES)");
  }
  if (n >= 2 ** 32) throw new Error("AES-CCM: message too long");
  const L = 15 - nonce.length;
  if (L < 2 || L > 8) throw new Error("AES-CCM: the nonce is 7 to 13 bytes");
  if (n >= 2 ** (8 * L)) throw new Error("AES-CCM: message too long for this nonce");
  return L;
}

function importKey(key, name) {
  return subtle().importKey("raw", key, { name }, false, ["encrypt"]);
}

/** The first block B0: flags (no associated data, the tag length, L), nonce, length. */
function firstBlock(nonce, L, n) {
  const b = new Uint8Array(BLOCK);
  b[0] = 8 * ((TAG_BYTES - 2) / 2) + (L - 1);
  b.set(nonce, 1);
  for (let i = BLOCK - 1, m = n; i > nonce.length; i--, m = Math.floor(m / 256)) b[i] = m % 256;
  return b;
}

async function cbcMac(key, nonce, L, message) {
  const padded = Math.ceil(message.length / BLOCK) * BLOCK;
  const blocks = new Uint8Array(BLOCK + padded);
  blocks.set(firstBlock(nonce, L, message.length));
  blocks.set(message, BLOCK);
  const cbc = await importKey(key, "AES-CBC");
  const out = new Uint8Array(
    await subtle().encrypt({ name: "AES-CBC", iv: new Uint8Array(BLOCK) }, cbc, blocks),
  );
  return out.slice(blocks.length - BLOCK, blocks.length - BLOCK + TAG_BYTES);
}

/** [S0, data xor S1 S2 ...]: AES-CTR from A0 over 16 zero bytes and `data`. */
async function ctr(key, nonce, L, data) {
  const a0 = new Uint8Array(BLOCK);
  a0[0] = L - 1;
  a0.set(nonce, 1);
  const input = new Uint8Array(BLOCK + data.length);
  input.set(data, BLOCK);
  const k = await importKey(key, "AES-CTR");
  const out = new Uint8Array(
    await subtle().encrypt({ name: "AES-CTR", counter: a0, length: 8 * L }, k, input),
  );
  return [out.subarray(0, BLOCK), out.subarray(BLOCK)];
}

/** AES-CCM encryption of `plaintext` (bytes): the ciphertext followed by the 8-byte tag. */
export async function ccmEncrypt(key, nonce, plaintext) {
  const L = checkArgs(key, nonce, plaintext.length);
  const tag = await cbcMac(key, nonce, L, plaintext);
  const [s0, ciphertext] = await ctr(key, nonce, L, plaintext);
  const out = new Uint8Array(plaintext.length + TAG_BYTES);
  out.set(ciphertext);
  for (let i = 0; i < TAG_BYTES; i++) out[plaintext.length + i] = tag[i] ^ s0[i];
  return out;
}

/** AES-CCM decryption of `data` (ciphertext and tag); throws an Error with code "tag" when
 * the tag does not verify (a wrong key or an altered message). */
export async function ccmDecrypt(key, nonce, data) {
  if (data.length < TAG_BYTES) throw new Error("AES-CCM: shorter than the tag");
  const n = data.length - TAG_BYTES;
  const L = checkArgs(key, nonce, n);
  const [s0, plaintext] = await ctr(key, nonce, L, data.subarray(0, n));
  const tag = await cbcMac(key, nonce, L, plaintext);
  let diff = 0;
  for (let i = 0; i < TAG_BYTES; i++) diff |= tag[i] ^ s0[i] ^ data[n + i];
  if (diff !== 0) {
    const e = new Error("cannot decrypt: authentication failed (wrong key or altered message)");
    e.code = "tag";
    throw e;
  }
  return plaintext;
}

export function toHex(bytes) {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** Lowercase hexadecimal (an even number of digits) to bytes; throws otherwise. */
export function fromHex(hex) {
  if (typeof hex !== "string" || !/^(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new Error("not lowercase hexadecimal");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
