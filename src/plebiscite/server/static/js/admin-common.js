// What the administrator's pages share: the session (a bearer token in sessionStorage, from
// an account's sign-in or the server's administrator token), the header's "signed in as",
// and the commands the trustees and credential authorities run on their own machines.

import { adminToken, api, ApiError, setAdminToken } from "./api.js";
import { $, el, replace } from "./dom.js";
import { t } from "./i18n.js";

const WHO = "plebiscite.admin-name";

// The session's account name ("" for the administrator token), or null when signed out or
// when the server no longer accepts the token.
export async function whoAmI() {
  if (!adminToken()) return null;
  try {
    const me = await api("/api/session", { admin: true });
    const name = me.bootstrap ? "" : String(me.name ?? "");
    sessionStorage.setItem(WHO, name);
    return name;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return sessionStorage.getItem(WHO) ?? ""; // no accounts on this server
    if (e instanceof ApiError && e.status === 401) setAdminToken(null);
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signInWithAccount(name, password) {
  const session = await api("/api/session", { json: { name, password } });
  setAdminToken(session.token);
  sessionStorage.setItem(WHO, session.name);
  return session;
}

export async function signInWithToken(token) {
  setAdminToken(token);
  try {
    return await whoAmI();
  } catch (e) {
    setAdminToken(null);
    throw e;
  }
}

export async function signOut() {
  if (adminToken()) {
    try {
      await api("/api/session/logout", { method: "POST", admin: true });
    } catch {
      /* the token is forgotten here anyway */
    }
  }
  setAdminToken(null);
  sessionStorage.removeItem(WHO);
}

// The "signed in as ... / sign out" bar of the administrator's pages (#session).
export function renderSession(name, onSignOut) {
  const bar = $("#session");
  if (!bar) return;
  if (name === null) {
    replace(bar);
    return;
  }
  const out = el("button", { type: "button", class: "secondary", id: "sign-out" }, t("admin.sign-out"));
  out.addEventListener("click", async () => {
    await signOut();
    onSignOut();
  });
  replace(
    bar,
    el("span", {}, name ? t("admin.signed-in-as", { name }) : t("admin.signed-in-token")),
    " ",
    out,
  );
}

// A path segment for a URL inside a shell command in single quotes.
export function shellSeg(s) {
  return encodeURIComponent(String(s)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const PY_CERTS = `python3 -c 'import json,sys; print(json.load(sys.stdin)["ceremony"]["certificates"], end="")'`;
const PY_VOTERS = `python3 -c 'import json,sys; d=json.load(sys.stdin); print("\\n".join(v["login"]+","+v["login"]+(","+str(v["weight"]) if d["weighted"] else "") for v in d["voters"]))'`;

// Whether a referendum record (or the questions of one) has a question that is not
// homomorphic (a ranking): its regions' ciphertexts are then shuffled before decryption.
export function hasRanking(questions) {
  return (questions ?? []).some((q) => q && q.type === "NonHomomorphic");
}

// The shell commands trustee `index` runs, step by step, in a directory of its own (token:
// its link token, or the placeholder "$TOKEN"; index: a number, or the placeholder "$INDEX").
// Each step: {step, label, text}; step 4 decrypts a region, step "shuffle" (only with
// `shuffle`: the questions include a ranking) shuffles a region's ciphertexts first.
export function trusteeCommands({ origin, rid, index, token, threshold, group, regions, shuffle = false }) {
  const api = `${origin}/api/referendums/${shellSeg(rid)}`;
  const me = `${api}/trustees/${index}`;
  // double quotes: the placeholders $TOKEN and $INDEX expand (a token, a path segment made
  // by shellSeg and an election uuid hold no character the shell treats there)
  const auth = `-H "Authorization: Bearer ${token}"`;
  const steps = [
    {
      step: 1,
      label: t("trustee.step-certificate"),
      text: [
        `plebiscite trustee-threshold --step 1 --group ${group}`,
        `curl -fsS ${auth} --data-binary @$(ls *.cert) "${me}/certificate"`,
      ].join("\n"),
    },
    {
      step: 2,
      label: t("trustee.step-polynomial"),
      text: [
        `curl -fsS "${api}" | ${PY_CERTS} > certs.jsons`,
        `plebiscite trustee-threshold --step 3 --group ${group} --certs certs.jsons --key $(ls *.key) --threshold ${threshold} > polynomial.json`,
        `curl -fsS ${auth} --data-binary @polynomial.json "${me}/polynomial"`,
      ].join("\n"),
    },
    {
      step: 3,
      label: t("trustee.step-voutput"),
      text: [
        `curl -fsS ${auth} "${me}/vinput" > vinput.json`,
        `plebiscite trustee-threshold --step 5 --group ${group} --certs certs.jsons --key $(ls *.key) < vinput.json > voutput.json`,
        `curl -fsS ${auth} --data-binary @voutput.json "${me}/voutput"`,
      ].join("\n"),
    },
  ];
  // the trustee's owner number on the boards: the server is owner 1, trustee i is owner i + 1
  const owner = typeof index === "number" ? String(index + 1) : `$((${String(index).replace(/^\$/, "")} + 1))`;
  for (const r of shuffle ? regions : []) {
    steps.push({
      step: "shuffle",
      region: r.name,
      label: t("manage.step-shuffle", { region: r.name }),
      text: [
        `curl -fsS -o ${r.election}.bel "${origin}/api/elections/${r.election}/archive"`,
        `plebiscite trustee shuffle --archive ${r.election}.bel --trustee-id ${owner} > shuffle-${r.election}.txt`,
        `curl -fsS ${auth} --data-binary @shuffle-${r.election}.txt "${me}/regions/${shellSeg(r.name)}/shuffle"`,
      ].join("\n"),
    });
  }
  for (const r of regions) {
    steps.push({
      step: 4,
      region: r.name,
      label: t("trustee.step-decrypt", { region: r.name }),
      text: [
        `[ -s decryption.dkey ] || curl -fsS ${auth} "${me}/dkey" > decryption.dkey`,
        `curl -fsS -o ${r.election}.bel "${origin}/api/elections/${r.election}/archive"`,
        `plebiscite trustee decrypt --archive ${r.election}.bel --key $(ls *.key) --decryption-key decryption.dkey | sed -n 1p > partial-${r.election}.json`,
        `curl -fsS ${auth} --data-binary @partial-${r.election}.json "${me}/regions/${shellSeg(r.name)}/partial-decryption"`,
      ].join("\n"),
    });
  }
  return steps;
}

// The commands of a region's independent credential authority.
export function authorityCommands({ origin, rid, region, election, token, group }) {
  const base = `${origin}/api/referendums/${shellSeg(rid)}/regions/${shellSeg(region)}`;
  const auth = `-H 'Authorization: Bearer ${token}'`;
  return [
    `curl -fsS ${auth} '${base}/voters' | ${PY_VOTERS} > voters.txt`,
    `plebiscite credentials generate --uuid ${election} --group ${group} --file voters.txt`,
    `curl -fsS -X PUT ${auth} --data-binary @$(ls *.pubcreds) '${base}/credentials'`,
  ].join("\n");
}

// A <pre> of commands, with a copy button where the browser allows it.
export function commands(text, data = {}) {
  const pre = el("pre", { dataset: data }, el("code", {}, text));
  const out = [pre];
  if (navigator.clipboard && window.isSecureContext) {
    const b = el("button", { type: "button", class: "secondary" }, t("observe.copy"));
    b.addEventListener("click", () => navigator.clipboard.writeText(text).catch(() => {}));
    out.push(el("div", { class: "actions" }, b));
  }
  return out;
}

// A file to download, made in the browser (credentials, tokens): never sent anywhere.
export function downloadLink(name, text, label) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  return el("a", { href: url, download: name, class: "button secondary" }, label);
}
