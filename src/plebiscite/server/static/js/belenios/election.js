// The election (sections 4.9, 4.10), parsed from its exact text: the fingerprint is H_JSON of
// that text, so the text must be the one published (surrounding white space is ignored, as
// the Python side does for files).

import { groupByName } from "./groups.js";
import { hJson, utf8 } from "./hash.js";

const UUID = /^[1-9A-HJ-NP-Za-km-z]{14,64}$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

function fail(message) {
  throw new Error(`election: ${message}`);
}

function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(o, where, required, optional = []) {
  if (!isObject(o)) fail(`${where}: expected a JSON object`);
  for (const k of required) if (!(k in o)) fail(`${where}: missing field ${JSON.stringify(k)}`);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) {
      fail(`${where}: unknown field ${JSON.stringify(k)}`);
    }
  }
}

function answersOf(v, where) {
  if (!Array.isArray(v) || v.length === 0 || v.some((a) => typeof a !== "string")) {
    fail(`${where}: expected a non-empty list of strings`);
  }
  return [...v];
}

function smallInt(v, where, lo, hi) {
  if (!Number.isInteger(v) || v < lo || v > hi) fail(`${where}: expected an integer in [${lo}, ${hi}]`);
  return v;
}

function question(v, i) {
  const where = `question ${i + 1}`;
  if (isObject(v) && "type" in v) {
    onlyKeys(v, where, ["type", "value"], ["extra"]);
    if (v.type !== "NonHomomorphic") fail(`${where}: unknown question type`);
    onlyKeys(v.value, where, ["answers", "question"]);
    if (typeof v.value.question !== "string") fail(`${where}: question must be a string`);
    return {
      homomorphic: false,
      question: v.value.question,
      answers: answersOf(v.value.answers, where),
    };
  }
  onlyKeys(v, where, ["answers", "min", "max", "question"], ["blank"]);
  const answers = answersOf(v.answers, where);
  const min = smallInt(v.min, `${where}.min`, 0, answers.length);
  const max = smallInt(v.max, `${where}.max`, 0, answers.length);
  if (min > max) fail(`${where}: min ${min} is greater than max ${max}`);
  const blank = v.blank ?? false;
  if (typeof blank !== "boolean") fail(`${where}: blank must be a boolean`);
  if (typeof v.question !== "string") fail(`${where}: question must be a string`);
  return { homomorphic: true, question: v.question, answers, min, max, blank };
}

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
  const questions = v.questions.map(question);
  if (questions.some((q) => !q.homomorphic) && !group.embedding) {
    fail(`group ${group.name} has no embedding, needed by non-homomorphic questions`);
  }
  questions.forEach((q, i) => {
    if (!q.homomorphic && q.answers.length > group.maxInts) {
      fail(`question ${i + 1}: more answers than one element of ${group.name} embeds (${group.maxInts})`);
    }
  });
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
