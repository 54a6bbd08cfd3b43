// The kinds of question, as src/plebiscite/protocol/questions/__init__.py: one module each,
// with the same interface (see common.js). Homomorphic questions are written directly in the
// election; the other kinds inside a question_gen {"type", "value", "extra"?}, found here by
// their type. A new kind of question is one more module and its entry in KINDS (and, in the
// booth, the rendering of its form's widget: static/js/booth-forms.js).

import { fail, isObject, onlyKeys } from "./common.js";
import { HomomorphicQuestion } from "./homomorphic.js";
import { ListsQuestion } from "./lists.js";
import { NonHomomorphicQuestion } from "./nonhomomorphic.js";

export { HomomorphicQuestion, ListsQuestion, NonHomomorphicQuestion };

/** The kinds written as {"type": ..., "value": ..., "extra"?: ...} (question_gen). */
export const KINDS = new Map([NonHomomorphicQuestion, ListsQuestion].map((k) => [k.TYPE, k]));

/** Question `i` (from 0) of an election, from its JSON. Throws "election: question N: ...". */
export function parseQuestion(v, i) {
  const where = `question ${i + 1}`;
  if (isObject(v) && "type" in v) {
    onlyKeys(v, where, ["type", "value"], ["extra"]);
    const kind = typeof v.type === "string" ? KINDS.get(v.type) : undefined;
    if (!kind) fail(`${where}: unknown question type`);
    return kind.parse(v, where);
  }
  return HomomorphicQuestion.parse(v, where);
}
