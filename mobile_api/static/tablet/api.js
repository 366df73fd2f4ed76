// The public API, as the tablet uses it: sign-in, assignments with ETag, and plain JSON requests.
import { kvDel, kvGet, kvSet } from "./store.js";

export class AuthError extends Error {}
export class NetworkError extends Error {}

export class HttpError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** fetch() with the stored bearer token; network failures become NetworkError, 401 an AuthError. */
export async function request(path, { method = "GET", json, body, headers = {} } = {}) {
  const token = await kvGet("token");
  const sent = { ...headers };
  if (token) sent.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body, cache: "no-store" });
  } catch (error) {
    throw new NetworkError(error.message || "network error");
  }
  if (response.status === 401 && token) {
    await kvDel("token");
    throw new AuthError("signed out");
  }
  return response;
}

async function jsonOf(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** POST /api/v1/auth/token; keeps the token on the tablet. */
export async function signIn(username, password) {
  const response = await request("/api/v1/auth/token", { method: "POST", json: { username, password } });
  const body = await jsonOf(response);
  if (!response.ok) throw new HttpError(response.status, body);
  await kvSet("token", body.token);
  await kvSet("expires_at", body.expires_at);
  await kvSet("username", username);
  await kvSet("role", body.role);
  return body;
}

export async function signOut() {
  try {
    await request("/api/v1/auth/logout", { method: "POST" });
  } catch {
    // offline or already expired: forgetting the token on the tablet is what matters
  }
  await kvDel("token");
}

/** GET /api/v1/mobile/assignments with If-None-Match; the answer (or the unchanged copy) is stored. */
export async function pullAssignments() {
  const etag = await kvGet("assignments_etag");
  const response = await request("/api/v1/mobile/assignments", { headers: etag ? { "If-None-Match": etag } : {} });
  if (response.status === 304) {
    await kvSet("assignments_pulled_at", new Date().toISOString());
    return { changed: false, data: await kvGet("assignments") };
  }
  const body = await jsonOf(response);
  if (!response.ok) throw new HttpError(response.status, body);
  await kvSet("assignments", body);
  await kvSet("assignments_etag", response.headers.get("ETag"));
  await kvSet("assignments_pulled_at", new Date().toISOString());
  return { changed: true, data: body };
}

/** POST /api/v1/phones/reveal for a home visit: the person's number in full (the server audits each reveal). */
export async function revealPhone(visitId) {
  const response = await request("/api/v1/phones/reveal", { method: "POST",
    json: { case: { type: "home_visit", id: visitId } } });
  const body = await jsonOf(response);
  if (!response.ok) throw new HttpError(response.status, body);
  return body.phone;
}

/** Hex SHA-256 of a Blob's bytes (the photo's address on the server). */
export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export { jsonOf };
