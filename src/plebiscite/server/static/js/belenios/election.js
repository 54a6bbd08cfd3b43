// The election (sections 4.9, 4.10), parsed from its exact text: the fingerprint is H_JSON of
// that text, so the text must be the one published (surrounding white space is ignored, as
// the Python side does for files). Its questions are objects of their kind (questions/).

import { groupByName } from "./groups.js";
import { hJson, utf8 } from "./hash.js";
import { fail, onlyKeys } from "./questions/common.js";
import { parseQuestion } from "./questions/index.js";

const UUID = /^[1-9A-HJ-NP-Za-km-z]{14,64}$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Trim ASCII white space at both ends of bytes. */
export function trimBytes(bytes) {
  let a = 0;
  let b = bytes.length;
  const ws = (c) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  while (a < b && ws(bytes[a])) a++;
  while (b > a && ws(bytes[b - 1])) b--;
  return bytes.subarray(a, b);
}

/** Parse the election's JSON (shape, group, key); returns the parsed election without its
 * fingerprint (see `loadElection`). `text` is a string or UTF-8 bytes. */
export function parseElectionSync(text) {
  const raw = trimBytes(utf8(text));
  let v;
  try {
    v = JSON.parse(decoder.decode(raw));
  } catch (e) {
    fail(`not JSON (${e.message})`);
  }
  onlyKeys(
    v,
    "election",
    ["version", "description", "name", "group", "public_key", "questions", "uuid"],
    ["administrator", "credential_authority", "language"],
  );
  if (v.version !== 1) fail(`unsupported version ${JSON.stringify(v.version)}`);
  const group = groupByName(v.group);
  if (typeof v.uuid !== "string" || !UUID.test(v.uuid)) fail("uuid must be Base58");
  if (!Array.isArray(v.questions) || v.questions.length === 0) fail("no question");
  const questions = v.questions.map(parseQuestion);
  questions.forEach((q, i) => q.checkGroup(group, `question ${i + 1}`));
  const publicKey = group.element(v.public_key, "election public key");
  if (group.equals(publicKey, group.identity)) fail("the public key may not be the identity (1)");
  return {
    raw,
    json: v,
    uuid: v.uuid,
    name: typeof v.name === "string" ? v.name : "",
    description: typeof v.description === "string" ? v.description : "",
    group,
    publicKey,
    questions,
  };
}

/** Parse the election and compute its fingerprint H_JSON(text). */
export async function loadElection(text) {
  const election = parseElectionSync(text);
  election.fingerprint = await hJson(election.raw);
  return election;
}
