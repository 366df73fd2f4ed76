// The API as the web apps use it: one bearer token per app, JSON errors kept whole (their `reason` and
// field errors), and 429/503 answered by waiting as long as Retry-After says.
import { newKey } from "./dom.js";

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.retryAfter = retryAfter;
  }

  get reason() {
    return this.body.reason || null;
  }
}

export class NetworkError extends Error {}

// A busy answer is retried by itself when the wait is short and the request is safe to repeat
// (a read, or a write with an Idempotency-Key); a longer wait is handed to the page to show.
const AUTO_RETRY_SECONDS = 20;
const AUTO_RETRIES = 2;

/** Seconds to wait from a Retry-After header (seconds or an HTTP date); 5 when it is missing. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (!value) return 5;
  if (/^\d+$/.test(value.trim())) return Math.max(1, parseInt(value, 10));
  const at = Date.parse(value);
  return Number.isNaN(at) ? 5 : Math.max(1, Math.ceil((at - now) / 1000));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function createClient(app, { onBusy = () => {}, onSignedOut = () => {} } = {}) {
  const hooks = { onBusy, onSignedOut };
  const key = `vmo.${app}.session`;
  const load = () => {
    try {
      return JSON.parse(localStorage.getItem(key)) || null;
    } catch {
      return null;
    }
  };
  // No expiry check against the phone's clock (often wrong, and the server's may be fixed for a demo):
  // the server's 401 says when a token is no longer good.
  let session = load();

  async function once(method, path, json, headers) {
    const sent = { Accept: "application/json", ...headers };
    if (session) sent.Authorization = `Bearer ${session.token}`;
    let body;
    if (json !== undefined) {
      sent["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    try {
      return await fetch(path, { method, headers: sent, body, cache: "no-store", credentials: "omit" });
    } catch (error) {
      throw new NetworkError(error.message || "network error");
    }
  }

  /** One request; resolves to the Response for 2xx/304, throws ApiError otherwise. */
  async function send(method, path, { json, headers = {}, idempotencyKey } = {}) {
    const sent = { ...headers };
    if (idempotencyKey) sent["Idempotency-Key"] = idempotencyKey;
    const repeatable = method === "GET" || Boolean(idempotencyKey);
    for (let attempt = 0; ; attempt += 1) {
      const response = await once(method, path, json, sent);
      if (response.ok || response.status === 304) {
        hooks.onBusy(0);
        return response;
      }
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (response.status === 429 || response.status === 503) {
        const wait = retryAfterSeconds(response.headers.get("Retry-After"));
        if (repeatable && attempt < AUTO_RETRIES && wait <= AUTO_RETRY_SECONDS) {
          for (let left = wait; left > 0; left -= 1) {
            hooks.onBusy(left, true);
            await sleep(1000);
          }
          continue;
        }
        hooks.onBusy(wait, false);
        throw new ApiError(response.status, body, wait);
      }
      hooks.onBusy(0);
      if (response.status === 401 && session && path !== "/api/v1/auth/token") {
        signOutLocally();
        hooks.onSignedOut();
      }
      throw new ApiError(response.status, body);
    }
  }

  async function json(method, path, options) {
    const response = await send(method, path, options);
    if (response.status === 204 || response.status === 304) return null;
    return response.json();
  }

  function signOutLocally() {
    session = null;
    localStorage.removeItem(key);
  }

  return {
    get session() { return session; },
    set onBusy(fn) { hooks.onBusy = fn; },
    set onSignedOut(fn) { hooks.onSignedOut = fn; },
    send,
    get: (path) => json("GET", path),
    /** GET a list with its total (X-Pagination's "total", else X-Total-Count). */
    async list(path) {
      const response = await send("GET", path);
      const items = await response.json();
      let total = items.length;
      try {
        total = JSON.parse(response.headers.get("X-Pagination")).total ?? total;
      } catch {
        total = parseInt(response.headers.get("X-Total-Count") || total, 10);
      }
      return { items, total };
    },
    post: (path, body, options = {}) => json("POST", path, { json: body, idempotencyKey: newKey(), ...options }),
    patch: (path, body, options = {}) => json("PATCH", path, { json: body, ...options }),
    put: (path, body, options = {}) => json("PUT", path, { json: body, ...options }),
    del: (path) => json("DELETE", path),
    /** Sign in; refuses (and forgets) an account of another role than `role`. */
    signIn(username, password, role) {
      return this.signInWith("/api/v1/auth/token", { username, password }, role);
    },
    /** Sign in through `path`, which answers with a token (the sign-in, or a sign-up's code check). */
    async signInWith(path, body, role) {
      const { username } = body;
      const answer = await json("POST", path, { json: body });
      if (answer.role !== role) {
        session = { token: answer.token };
        await send("POST", "/api/v1/auth/logout").catch(() => {});
        signOutLocally();
        throw new ApiError(403, { reason: "wrong_role", message: "wrong role" });
      }
      session = { token: answer.token, expires_at: answer.expires_at, username };
      localStorage.setItem(key, JSON.stringify(session));
      return answer;
    },
    async signOut() {
      if (session) await send("POST", "/api/v1/auth/logout").catch(() => {});
      signOutLocally();
    },
  };
}

/** A busy banner for the page: the countdown while the client waits, or how long to wait. */
export function busyText(t, seconds, retrying) {
  if (!seconds) return "";
  if (retrying) return t("busy_wait", { s: seconds });
  if (seconds >= 120) return t("busy_minutes", { m: Math.ceil(seconds / 60) });
  return t("busy_later", { s: seconds });
}

/**
 * The words for an error a page cannot explain better itself: `reasons` maps the API's reason codes to
 * dictionary keys; field errors are left to the form (they come back as `errors.json.<field>`).
 */
export function errorText(t, error, reasons = {}) {
  if (error instanceof NetworkError) return t("offline");
  if (!(error instanceof ApiError)) return t("server_error", { id: "-" });
  const { status, body } = error;
  if (error.reason && reasons[error.reason]) return t(reasons[error.reason], body);
  if (error.reason === "wrong_role") return t("wrong_role");
  if (status === 429 || status === 503) return busyText(t, error.retryAfter || 5, false);
  if (status === 401) return t("wrong_password");
  if (status === 403) return t("forbidden");
  if (status === 404) return t("not_found");
  if (status === 405 || status === 501) return t("not_available");
  if (status === 422 && body.errors) return t("invalid");
  if (status >= 500) return t("server_error", { id: body.request_id || "-" });
  return t("server_says", { msg: body.message || status });
}
