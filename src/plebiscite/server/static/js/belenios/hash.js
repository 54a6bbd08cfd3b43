// Hash functions of the specification, on WebCrypto (crypto.subtle): SHA-256 of a UTF-8 text
// read as a big-endian number, H_JSON (section 4.15: Base64 without padding of SHA-256), and
// PBKDF2-HMAC-SHA256. As src/plebiscite/crypto/hashing.py. crypto.subtle exists only in a
// secure context (HTTPS, or http://localhost): hasWebCrypto() tells.

import { bytesToBigInt } from "./bigint.js";

const encoder = new TextEncoder();

/** UTF-8 bytes of a string (a Uint8Array is returned as it is). */
export function utf8(text) {
  return typeof text === "string" ? encoder.encode(text) : text;
}

export function hasWebCrypto() {
  return typeof globalThis.crypto === "object" && typeof globalThis.crypto.subtle === "object";
}

function subtle() {
  if (!hasWebCrypto()) {
    throw new Error("WebCrypto is unavailable: open this page over HTTPS (or on localhost)");
  }
  return globalThis.crypto.subtle;
}

/** SHA-256 of bytes (or of a string's UTF-8 bytes), as a Uint8Array. */
export async function sha256(data) {
  return new Uint8Array(await subtle().digest("SHA-256", utf8(data)));
}

/** SHA-256 of the UTF-8 text, as a 256-bit big-endian number. */
export async function sha256Int(text) {
  return bytesToBigInt(await sha256(text));
}

export async function sha256Hex(data) {
  let hex = "";
  for (const b of await sha256(data)) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** Base64 (standard alphabet) of bytes, without padding. */
export function base64NoPad(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/=+$/, "");
}

/** H_JSON: Base64 (no padding) of SHA-256 of a serialization (bytes or text). */
export async function hJson(data) {
  return base64NoPad(await sha256(data));
}

/** PBKDF2 with HMAC-SHA256, `length` bytes of output. */
export async function pbkdf2Sha256(password, salt, iterations, length) {
  const key = await subtle().importKey("raw", utf8(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle().deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: utf8(salt), iterations },
    key,
    8 * length,
  );
  return new Uint8Array(bits);
}
