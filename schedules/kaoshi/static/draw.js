// A ballot's draw, published whole, and checked again on the candidate's own phone (vmo-draw-v2):
// order by (seniority, sha256(seed + ":" + candidate id) as hex, application id); the first
// `capacity` win a seat, the others wait in that order. Seniority is an instant in UTC to the second
// (v2) or a date (v1, older draws): both compare as ISO 8601 text.
import { ApiError } from "/web/api.js";
import { h, localTime } from "/web/dom.js";
import { when } from "./util.js";

// The applicant's number in the key: a pseudonym for this draw (draws published since), or the candidate id.
const who = (a) => a.pseudonym ?? a.candidate_id;

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Recompute the draw from its published inputs; returns the list of differences (empty: it holds). */
export async function recompute(draw) {
  const keys = {};
  for (const a of draw.applicants) keys[a.application_id] = await sha256Hex(`${draw.seed}:${who(a)}`);
  const ordered = [...draw.applicants].sort((a, b) => a.seniority_date.localeCompare(b.seniority_date)
    || keys[a.application_id].localeCompare(keys[b.application_id]) || a.application_id - b.application_id);
  const ranking = ordered.map((a) => a.application_id);
  const same = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);
  const problems = [];
  if (!["vmo-draw-v1", "vmo-draw-v2"].includes(draw.algorithm)) problems.push(`algorithm ${draw.algorithm}`);
  if (!Object.entries(keys).every(([id, key]) => draw.keys[id] === key)) problems.push("keys");
  if (!same(ranking, draw.ranking)) problems.push("ranking");
  if (!same(ranking.slice(0, draw.capacity), draw.winners)) problems.push("winners");
  if (!same(ranking.slice(draw.capacity), draw.waitlist)) problems.push("waitlist");
  return problems;
}

export async function drawView(app, [sessionId]) {
  const { t } = app;
  const session = await app.client.get(`/api/v1/test-sessions/${sessionId}`);
  let draw;
  try {
    draw = await app.client.get(`/api/v1/test-sessions/${sessionId}/draw`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return [h("h2", {}, t("draw_title", { when: when(app, session) })), h("p", { class: "notice" }, t("no_draw"))];
    }
    throw error;
  }
  // The record names no one: the candidate finds their own line by their booking's id.
  const mine = new Set(app.client.session
    ? (await app.client.get(`/api/v1/bookings?session_id=${sessionId}`)).map((b) => b.id) : []);
  const byId = Object.fromEntries(draw.applicants.map((a) => [a.application_id, a]));
  const rows = draw.ranking.map((id, index) => {
    const a = byId[id];
    const won = index < draw.capacity;
    const isMe = mine.has(a.application_id);
    const cell = (key, ...content) => h("td", { "data-label": t(key) }, ...content);
    return h("tr", { class: isMe ? "me" : null, dataset: { applicationId: id } },
      cell("draw_rank", String(index + 1)), cell("draw_application", String(id)),
      cell("draw_candidate", String(who(a)), isMe ? t("me") : ""), cell("seniority_date_short", a.seniority_date),
      h("td", { class: "mono", "data-label": t("draw_key") }, draw.keys[String(id)].slice(0, 16), "…"),
      cell("draw_result", won ? t("draw_won") : t("draw_wait", { n: index - draw.capacity + 1 })));
  });
  const result = h("p", { id: "draw-check", "aria-live": "polite" });
  const check = h("button", { type: "button", class: "primary", id: "check-draw" }, t("draw_check"));
  check.addEventListener("click", () => app.act(check, async () => {
    const problems = await recompute(draw);
    result.className = problems.length ? "notice bad" : "notice ok";
    result.dataset.ok = problems.length ? "0" : "1";
    result.textContent = problems.length ? t("draw_mismatch", { what: problems.join(", ") }) : t("draw_checked");
  }));
  return [
    h("h2", {}, t("draw_title", { when: when(app, session) })),
    h("p", {}, t("draw_intro", { cap: draw.capacity })),
    h("dl", { class: "pairs" },
      h("dt", {}, t("draw_seed")), h("dd", { class: "mono", id: "draw-seed" }, draw.seed),
      h("dt", {}, t("draw_when")), h("dd", {}, localTime(draw.drawn_at))),
    h("p", { class: draw.verified ? "notice ok" : "notice bad" }, draw.verified ? t("draw_verified") : t("draw_not_verified")),
    h("div", { class: "actions" }, check), result,
    h("div", { class: "table-wrap" }, h("table", { id: "draw-table", class: "stack" },
      h("thead", {}, h("tr", {}, ["draw_rank", "draw_application", "draw_candidate", "seniority_date_short",
        "draw_key", "draw_result"].map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, rows))),
  ];
}
