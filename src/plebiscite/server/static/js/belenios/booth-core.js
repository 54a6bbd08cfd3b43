// The voting booth's cryptography, in the browser: the public API the booth and audit pages
// call. A ballot made here is byte for byte what src/plebiscite/protocol/ballot.py's
// make_ballot makes from the same randomness (tests/web/test_booth_crypto.py checks it), so
// the Python verifier and belenios-tool accept it.
//
// Randomness: crypto.getRandomValues by default; `options.seed` (a string) uses the
// deterministic twin of the Python DeterministicRandom (known-answer tests only, never for a
// real vote); `options.random` any object with `async below(n)`.

import { auditBallot } from "./audit.js";
import { buildBallot, choiceProblems } from "./ballot.js";
import { credentialLooksValid as looksValid, publicCredential as derivePublic } from "./credentials.js";
import { loadElection, parseElectionSync } from "./election.js";
import { hJson, hasWebCrypto, utf8 } from "./hash.js";
import { trimBytes } from "./election.js";
import { DeterministicRandom, SystemRandom } from "./random.js";

export { hasWebCrypto, loadElection };

function randomSource(options) {
  if (options.random) return options.random;
  if (options.seed !== undefined) return new DeterministicRandom(options.seed);
  return new SystemRandom();
}

/** Encrypt `choices` (belenios-tool's shape: one list per question, with blank allowed a
 * leading 0/1 for "blank", for a Lists question one list of 0/1 per list) into a ballot for the election whose exact text is
 * `electionText`, signed with the secret `credential`.
 * -> {ballot: the exact JSON text to POST, tracker: its smart ballot tracker,
 *     audit: the randomness and choices, for Benaloh's challenge (see audit.py)} */
export async function makeBallot(electionText, credential, choices, options = {}) {
  const election = await loadElection(electionText);
  return buildBallot(election, credential, choices, randomSource(options));
}

/** The smart ballot tracker of a ballot: H_JSON of its text (section 4.15). */
export async function ballotTracker(ballotText) {
  return hJson(trimBytes(utf8(ballotText)));
}

/** Problems with `choices` for `election` (its text, its JSON object or a loaded election):
 * an array of {question (1-based, or null), code, message}; [] if the choices can be cast.
 * Codes: count, shape, range, blank_and_answers, too_few, too_many (with min, max, count);
 * for a Lists question list_count (with count), other_list (with list and chosen, 1-based),
 * no_candidate (with list). */
export function checkChoices(election, choices) {
  let e = election;
  if (typeof e === "string" || e instanceof Uint8Array) e = parseElectionSync(e);
  else if (typeof e.group !== "object") e = parseElectionSync(JSON.stringify(e));
  return choiceProblems(e, choices).map(({ question, message, ...rest }) => ({
    question,
    message,
    ...rest,
  }));
}

/** Check an audited ballot: re-encrypt the audit's choices with its revealed randomness and
 * compare with every ciphertext of the ballot; also the tracker, the election and the
 * ballot's own proofs. -> {ok, problems: [{question, answer, code, message}]} */
export async function checkAudit(electionText, ballotText, audit) {
  let election;
  try {
    election = await loadElection(electionText);
  } catch (e) {
    return { ok: false, problems: [{ question: null, answer: null, code: "election", message: e.message }] };
  }
  return auditBallot(election, ballotText, audit);
}

/** True iff the credential has the 15-character form (dashes optional) and its checksum. */
export function credentialLooksValid(credential) {
  return looksValid(credential);
}

/** The public credential of the private `credential` for the election `election` (loaded, or
 * its uuid with `group`): what its public credential list holds for this voter. */
export async function publicCredential(credential, election, group = election.group) {
  const uuid = typeof election === "string" ? election : election.uuid;
  return derivePublic(credential, uuid, group);
}
