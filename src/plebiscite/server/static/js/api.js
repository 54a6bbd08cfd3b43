// The pages' client of the plebiscite API (same origin only).

import { hasMessage, language, t } from "./i18n.js";

const ADMIN_KEY = "plebiscite.admin-token";

export class ApiError extends Error {
  constructor(status, code, message, detail = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail; // the whole error object of the answer ({code, message, where, ...})
  }
}

// The administrator's token, kept for this browser tab only (sessionStorage).
export function adminToken() {
  return sessionStorage.getItem(ADMIN_KEY);
}

export function setAdminToken(token) {
  if (token) sessionStorage.setItem(ADMIN_KEY, token);
  else sessionStorage.removeItem(ADMIN_KEY);
}

// api(path, {method, json, body, admin, token, raw}): the parsed JSON answer (or the Response
// itself with raw). admin: send the administrator token; token: send this bearer token.
export async function api(path, options = {}) {
  if (!path.startsWith("/api/")) throw new Error(`not an API path: ${path}`);
  const headers = { accept: "application/json" };
  const bearer = options.token ?? (options.admin ? adminToken() : null);
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let body = options.body;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (!response.ok) {
    let code = "http";
    let message = `HTTP ${response.status}`;
    let detail = null;
    try {
      const err = (await response.json()).error;
      code = String(err.code);
      message = String(err.message);
      detail = err;
    } catch {
      /* not a JSON error */
    }
    throw new ApiError(response.status, code, serverMessage(code, message), detail);
  }
  if (options.raw) return response;
  return response.status === 204 ? null : response.json();
}

// The server's refusal in the page's language: the server writes its messages in English,
// with a stable code; in another language the page says what the code means (the catalogue's
// api.CODE) and adds the server's own words, which name the field or the value at fault.
export function serverMessage(code, message) {
  const key = `api.${code}`;
  if (language() === "en" || !hasMessage(key)) return message;
  return t("api.detail", { message: t(key), detail: message });
}

// Quote one path segment (a region name, a referendum id).
export function seg(s) {
  return encodeURIComponent(String(s));
}
