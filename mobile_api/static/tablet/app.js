// The officers' tablet app: sign-in, tours and stops, inspections logged offline, home visits with their
// outcomes recorded offline, and the sync indicator.
import { AuthError, HttpError, NetworkError, pullAssignments, revealPhone, sha256Hex, signIn, signOut } from "./api.js";
import { currentLang, fieldLabel, itemLabel, setLang, t, translateStatic } from "./i18n.js";
import { all, del, get, kvGet, put, recordsAt, saveInspection } from "./store.js";
import { queueCounts, syncAll } from "./sync.js";

const view = document.getElementById("view");
let form = null; // the inspection being filled in: {stopId, walkIn, plate, checks, result, photos: [{blob, url, sha256}]}
let flash = null; // a one-line message shown on the next render: {text, kind}
let lastSyncError = null;
const searches = new Map(); // stop id -> the plate search typed there (kept across redraws)

// ---- small DOM helper: elements from data, never from HTML strings ---------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "className") el.className = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function timeOf(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString(currentLang() === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit" });
}

/** A wall-clock time as the server wrote it (in the office's zone), whatever the tablet's zone is. */
function wallTime(iso) {
  return iso ? iso.slice(11, 16) : "";
}

function dateOf(iso) {
  return iso ? iso.slice(0, 10) : "";
}

function normalPlate(text) {
  return (text || "").replace(/[\s·.•-]/g, "").toUpperCase();
}

// ---- photos ---------------------------------------------------------------------------------

const PHOTO_MAX_SIDE = 1600;
const PHOTO_KEEP_BYTES = 1_500_000;

/** A camera photo as the server takes it: small JPEGs and PNGs as they are; anything larger, or in
 * another format the browser can read (HEIC on some tablets), re-encoded as a JPEG of at most 1600 px. */
async function preparePhoto(file) {
  const plain = file.type === "image/jpeg" || file.type === "image/png";
  if (plain && file.size <= PHOTO_KEEP_BYTES) return file;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await canvas.convertToBlob({ type: "image/jpeg", quality: 0.85 });
  } catch (error) {
    console.warn("photo kept as taken", error);
    return file; // the server answers what it thinks of it; the officer sees that answer
  }
}

// ---- data -----------------------------------------------------------------------------------

async function assignments() {
  return (await kvGet("assignments")) || { tours: [], checklist: [], home_visits: [] };
}

async function findStop(stopId) {
  const data = await assignments();
  for (const tour of data.tours) {
    for (const stop of tour.stops) {
      if (stop.id === stopId) {
        return { tour, stop, checklist: data.checklist, photoKinds: data.photo_kinds || [],
          requiredKinds: data.required_photo_kinds || [] };
      }
    }
  }
  return null;
}

/** The stop's figures: done, passed, failed (this tablet's records), left (pre-registered, not done). */
function summarize(stop, records) {
  const latest = new Map(); // plate -> the latest record for it (a re-inspection replaces the first)
  // A rejected record is not an inspection on the server: the officer must log that plate again.
  for (const record of records) if (record.state !== "rejected") latest.set(record.plate, record);
  const elsewhere = stop.registrations.filter((r) => r.status === "inspected" && !latest.has(r.plate));
  const passed = [...latest.values()].filter((r) => r.result === "pass").length;
  const failed = [...latest.values()].filter((r) => r.result === "fail").length;
  const left = stop.registrations.filter((r) => r.status === "registered" && !latest.has(r.plate)).length;
  return { done: latest.size + elsewhere.length, passed, failed, left, latest };
}

// ---- the shell: network badge, language, sync bar ---------------------------------------------

function showNetwork() {
  const badge = document.getElementById("net");
  badge.dataset.state = navigator.onLine ? "online" : "offline";
  badge.textContent = navigator.onLine ? t("online") : t("offline");
}

async function showSyncStatus(syncing = false) {
  const counts = await queueCounts();
  const lastSync = await kvGet("last_sync");
  const bar = document.getElementById("sync-status");
  bar.replaceChildren(
    h("span", { id: "pending-count", className: counts.waiting ? "count warn" : "count", dataset: { n: counts.waiting } },
      t("sync_waiting", { n: counts.waiting })),
    h("span", { id: "photo-count", className: counts.photos ? "count warn" : "count", dataset: { n: counts.photos } },
      t("sync_photos", { n: counts.photos })),
    h("span", { id: "problem-count", className: counts.problems ? "count bad" : "count", dataset: { n: counts.problems } },
      t("sync_problems", { n: counts.problems })),
    h("span", { className: "sync-note" },
      syncing ? t("syncing")
        : lastSyncError ? lastSyncError
          : !navigator.onLine && counts.waiting ? t("sync_offline")
            : lastSync ? t("sync_last", { time: timeOf(lastSync) }) : ""),
  );
  const button = document.getElementById("sync-now");
  button.disabled = syncing;
  button.textContent = syncing ? t("syncing") : t("sync_now");
}

async function runSync() {
  if (!(await kvGet("token"))) return;
  await showSyncStatus(true);
  try {
    await syncAll();
    lastSyncError = null;
    try {
      await pullAssignments(); // registrations now show as inspected
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
    }
  } catch (error) {
    if (error instanceof AuthError) {
      flash = { text: t("session_expired"), kind: "bad" };
    } else if (error instanceof NetworkError) {
      lastSyncError = t("sync_offline");
    } else {
      lastSyncError = t("sync_failed", { msg: error.message });
    }
  }
  // Never redraw a form the officer is filling in: only the sync bar changes there.
  if ((location.hash.startsWith("#inspect/") || location.hash.startsWith("#visit/")) && !flash) {
    await showSyncStatus();
  }
  else await render();
}

// ---- views ----------------------------------------------------------------------------------

let renders = 0;

async function render() {
  const mine = ++renders;
  showNetwork();
  translateStatic();
  document.getElementById("lang").textContent = t("switch_lang");
  const token = await kvGet("token");
  let content;
  if (!token) {
    content = await loginView();
  } else {
    const route = location.hash.replace(/^#/, "").split("/");
    if (route[0] === "stop" && route[1]) content = await stopView(Number(route[1]));
    else if (route[0] === "inspect" && route[1]) content = await inspectView(Number(route[1]), route[2]);
    else if (route[0] === "visit" && route[1]) content = await visitView(Number(route[1]));
    else content = await homeView();
  }
  if (mine !== renders) return; // a newer render started meanwhile: it wins
  const message = flash ? h("p", { className: `flash ${flash.kind || ""}`, role: "alert" }, flash.text) : null;
  flash = null;
  view.replaceChildren(...[message, content].filter(Boolean));
  await showSyncStatus();
}

async function loginView() {
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true,
    value: (await kvGet("username")) || "" });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password",
    required: true });
  const error = h("p", { id: "login-error", className: "error", role: "alert" });
  const button = h("button", { id: "sign-in", className: "primary big", type: "submit" }, t("sign_in"));
  return h("form", {
    className: "card login",
    onsubmit: async (event) => {
      event.preventDefault();
      if (!navigator.onLine) {
        error.textContent = t("need_network_sign_in");
        return;
      }
      button.disabled = true;
      button.textContent = t("signing_in");
      try {
        const answer = await signIn(username.value.trim(), password.value);
        if (answer.role !== "officer") {
          await signOut();
          throw new Error(t("officers_only"));
        }
        await pullAssignments();
        location.hash = "";
        await render();
        runSync();
      } catch (err) {
        error.textContent = t("sign_in_failed", { msg: err instanceof NetworkError ? t("offline") : err.message });
        button.disabled = false;
        button.textContent = t("sign_in");
      }
    },
  },
  h("label", { for: "username" }, t("username")), username,
  h("label", { for: "password" }, t("password")), password,
  error, button);
}

async function homeView() {
  const data = await assignments();
  const pulledAt = await kvGet("assignments_pulled_at");
  const queue = await all("queue");
  const problems = queue.filter((r) => r.state === "conflict" || r.state === "rejected");
  const failedPhotos = await photoErrors();
  const tours = data.tours.map((tour) => h("section", { className: "card tour", dataset: { tourId: tour.id } },
    h("h2", {}, `${tour.name} · ${tour.date}`),
    h("ul", { className: "stops" }, tour.stops.map((stop) => h("li", {},
      h("a", { className: "stop-link", href: `#stop/${stop.id}`, dataset: { stopId: stop.id } },
        h("strong", {}, `${stop.township} · ${stop.venue}`),
        h("span", { className: "muted" }, `${t("stop_time", { from: wallTime(stop.arrives_at), to: wallTime(stop.departs_at) })}`
          + ` · ${t("registered")} ${stop.registrations.length}`)))))));
  const visits = await visitsSection(data);
  return h("div", { className: "home" },
    h("div", { className: "row spread" },
      h("p", { id: "officer-name" }, t("officer", { name: (await kvGet("username")) || "" })),
      h("button", { id: "sign-out", className: "small", type: "button", onclick: async () => {
        await signOut();
        await render();
      } }, t("sign_out"))),
    h("div", { className: "row spread" },
      h("p", { className: "muted" }, pulledAt ? t("last_pulled", { time: `${dateOf(pulledAt)} ${timeOf(pulledAt)}` })
        : t("never_pulled")),
      h("button", { id: "refresh", type: "button", onclick: async () => {
        try {
          await pullAssignments();
        } catch (error) {
          flash = { text: error instanceof NetworkError ? t("sync_offline") : error.message, kind: "bad" };
        }
        await render();
      } }, t("refresh"))),
    problems.length ? h("section", { className: "card problems" }, h("h2", {}, t("problems")),
      h("ul", { className: "records" }, problems.map((record) => recordRow(record, failedPhotos)))) : null,
    visits,
    h("h2", {}, t("tours")),
    data.tours.length ? tours : h("p", { className: "muted" }, t("no_tours")),
    hallView(data));
}

/** The green-channel days ahead: each booked batch's vehicles with the papers to check against the originals. */
function hallView(data) {
  const days = data.green_channel || [];
  if (!days.length) return null;
  const label = Object.fromEntries((data.papers || []).map((p) => [p.code, p.zh]));
  const vehicle = (v) => h("li", { className: "hall-vehicle", dataset: { vin: v.vin } },
    h("strong", {}, v.vin), h("span", { className: "muted" }, ` ${v.make} ${v.model}`),
    h("ul", { className: "papers" }, (data.papers || []).filter((p) => v[p.code])
      .map((p) => h("li", {}, `${p.zh}：${v[p.code]}`))),
    h("p", { className: v.documents_missing.length ? "error" : "muted" }, v.documents_missing.length
      ? t("papers_missing", { list: v.documents_missing.map((code) => label[code] || code).join("、") })
      : t("papers_complete")));
  return h("section", { id: "hall" }, h("h2", {}, t("hall")), h("p", { className: "muted" }, t("hall_intro")),
    days.map((day) => h("section", { className: "card", dataset: { date: day.date } },
      h("h3", {}, t("hall_window", { date: day.date, from: day.arrive_from, until: day.arrive_until })),
      day.batches.map((batch) => h("div", { dataset: { batchId: batch.batch_id } }, h("h4", {}, batch.company),
        h("ul", { className: "records" }, batch.vehicles.map(vehicle)))))));
}

// ---- home visits ------------------------------------------------------------------------------

/** The officer's home visits: those in the assignments, and those whose outcome this tablet holds
 * (a visit with its outcome synced leaves the assignments; a refused outcome stays until dismissed). */
async function visitsSection(data) {
  const outcomes = new Map((await all("outcomes")).map((o) => [o.visit_id, o]));
  const listed = new Set((data.home_visits || []).map((v) => v.id));
  const visits = [...(data.home_visits || []),
    ...[...outcomes.values()].filter((o) => !listed.has(o.visit_id) && o.state !== "synced").map((o) => o.visit)];
  if (!visits.length) return null;
  return h("section", { className: "card visits" }, h("h2", {}, t("home_visits")),
    h("ul", { id: "visits", className: "stops" }, visits.map((visit) => {
      const outcome = outcomes.get(visit.id);
      return h("li", {}, h("a", { className: "visit-link", href: `#visit/${visit.id}`,
        dataset: { visitId: visit.id, state: outcome ? outcome.state : "open" } },
      h("strong", {}, `${visit.name} · ${visit.township}`),
      h("span", { className: "muted" }, `${visit.date} ${visit.window_from}–${visit.window_until} · ${visit.business}`),
      outcome ? h("span", { className: `chip state-${outcome.state}` },
        `${t(`outcome_${outcome.outcome}`)} · ${t(`state_${outcome.state}`)}`) : null));
    })));
}

async function visitView(visitId) {
  const data = await assignments();
  const saved = await get("outcomes", visitId);
  const visit = (data.home_visits || []).find((v) => v.id === visitId) || (saved && saved.visit);
  if (!visit) {
    location.hash = "";
    return homeView();
  }
  const error = h("p", { id: "visit-error", className: "error", role: "alert" });
  const phone = h("span", { id: "visit-phone" }, visit.phone);
  const call = h("button", { id: "call", className: "big", type: "button", onclick: async () => {
    // The full number only from the server, which writes each reveal to the audit log.
    if (!navigator.onLine) {
      error.textContent = t("call_needs_network");
      return;
    }
    call.disabled = true;
    try {
      const number = await revealPhone(visit.id);
      phone.replaceChildren(h("a", { id: "call-link", className: "button big", href: `tel:${number}` },
        t("call_number", { phone: number })));
      error.textContent = "";
    } catch (err) {
      error.textContent = err instanceof NetworkError ? t("call_needs_network") : err.message;
    } finally {
      call.disabled = false;
    }
  } }, t("call"));
  const note = h("textarea", { id: "visit-note", name: "note", rows: "2" });
  if (saved) note.value = saved.note || "";
  const record = async (outcome) => {
    const current = await get("outcomes", visit.id);
    if (current && current.state !== "rejected") return; // one outcome per visit; a refused one may be redone
    await put("outcomes", {
      visit_id: visit.id, client_id: crypto.randomUUID(), outcome, note: note.value.trim() || null,
      recorded_at: new Date().toISOString(), created_at: new Date().toISOString(), state: "queued", answer: null,
      officer: await kvGet("username"), visit: { ...visit },
    });
    flash = { text: t("outcome_saved", { name: visit.name, outcome: t(`outcome_${outcome}`) }), kind: "good" };
    await render();
    if (navigator.onLine) runSync();
  };
  const buttons = ["done", "not_home", "cancelled"].map((outcome) => h("button", {
    id: `outcome-${outcome}`, type: "button", className: `big outcome outcome-${outcome}`,
    disabled: saved && saved.state !== "rejected" ? true : null,
    "aria-pressed": saved && saved.outcome === outcome ? "true" : "false",
    onclick: () => record(outcome),
  }, t(`outcome_${outcome}`)));
  const status = saved ? h("p", { id: "visit-state", className: `chip state-${saved.state}`, dataset: { state: saved.state } },
    `${t(`outcome_${saved.outcome}`)} · ${t(`state_${saved.state}`)}`
      + (saved.state === "rejected" && saved.answer ? ` · ${saved.answer.message}` : "")) : null;
  const dismiss = saved && saved.state === "rejected" ? h("button", { id: "visit-dismiss", className: "small danger",
    type: "button", onclick: async (event) => {
      // Two taps, as for a refused inspection: the outcome goes only when the officer says so twice.
      const button = event.currentTarget;
      if (button.dataset.armed !== "1") {
        button.dataset.armed = "1";
        button.textContent = t("confirm_dismiss");
        return;
      }
      await del("outcomes", visit.id);
      await render();
    } }, t("dismiss")) : null;
  return h("div", { className: "visit", dataset: { visitId: visit.id } },
    h("a", { className: "back", href: "#" }, t("back")),
    h("h2", {}, `${visit.name} · ${t(`visit_reason_${visit.reason}`)}`),
    h("dl", { className: "registered-ids" },
      h("dt", {}, t("visit_when")), h("dd", { id: "visit-when" }, `${visit.date} ${visit.window_from}–${visit.window_until}`),
      h("dt", {}, t("visit_address")), h("dd", { id: "visit-address" }, `${visit.township} ${visit.address}`),
      h("dt", {}, t("visit_business")), h("dd", { id: "visit-business" }, visit.business),
      h("dt", {}, t("visit_phone")), h("dd", {}, phone)),
    h("div", { className: "row" }, call),
    h("label", { for: "visit-note" }, t("visit_note")), note,
    h("h3", {}, t("visit_outcome")),
    h("div", { className: "results" }, buttons),
    status, dismiss, error);
}

/** client_id -> why the server refused one of its photos (413/415), for the record rows. */
async function photoErrors() {
  return new Map((await all("photos")).filter((p) => p.state === "failed").map((p) => [p.client_id, p.error]));
}

function reasonOf(record) {
  const answer = record.answer || {};
  if (record.state === "conflict") {
    return t("reason_conflict", { fields: (answer.differences || ["content"]).map(fieldLabel).join(", ") });
  }
  if (record.state === "rejected") {
    const parts = [];
    const walk = (value, path) => {
      if (Array.isArray(value)) parts.push(`${path.map(fieldLabel).join(".")}: ${value.join("; ")}`);
      else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
      else if (value) parts.push(String(value));
    };
    walk(answer.errors || {}, []);
    if (answer.message) parts.push(answer.message);
    return t("reason_rejected", { errors: parts.join(" · ") || "?" });
  }
  return "";
}

function recordRow(record, failedPhotos = new Map()) {
  const reason = reasonOf(record);
  const photoError = failedPhotos.get(record.client_id);
  const dismiss = reason || photoError ? h("button", { className: "small danger dismiss", type: "button", onclick: async (event) => {
    // Two taps: a problem record only goes when the officer says so twice.
    const button = event.currentTarget;
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = t("confirm_dismiss");
      return;
    }
    // A refused record goes with its photos; a synced one only loses the photos the server refused.
    if (reason) await del("queue", record.client_id);
    for (const photo of await all("photos")) {
      if (photo.client_id === record.client_id && (reason || photo.state === "failed")) await del("photos", photo.id);
    }
    await render();
  } }, t("dismiss")) : null;
  return h("li", { className: `record state-${record.state}`, dataset: { clientId: record.client_id, state: record.state } },
    h("div", { className: "row spread" },
      h("strong", { className: "plate" }, record.plate),
      h("span", { className: `chip result-${record.result}` }, record.result === "pass" ? t("result_pass") : t("result_fail")),
      h("span", { className: `chip state` }, t(`state_${record.state}`))),
    reason ? h("p", { className: "reason" }, reason) : null,
    photoError ? h("p", { className: "reason photo-error" }, t("photo_failed", { msg: photoError })) : null,
    dismiss);
}

async function stopView(stopId) {
  const found = await findStop(stopId);
  if (!found) {
    location.hash = "";
    return homeView();
  }
  const { tour, stop } = found;
  const records = await recordsAt(stopId);
  const summary = summarize(stop, records);
  const failedPhotos = await photoErrors();
  const search = h("input", { id: "plate-search", type: "search", inputmode: "text", autocomplete: "off",
    placeholder: t("search_plate"), "aria-label": t("search_plate"),
    value: searches.get(stopId) || "" });
  const list = h("ul", { id: "registrations", className: "registrations" });
  const walkIn = h("button", { id: "walk-in", className: "big", type: "button", onclick: () => {
    const plate = normalPlate(search.value);
    location.hash = `#inspect/${stopId}${plate ? `/${encodeURIComponent(plate)}` : ""}`;
  } }, t("walk_in"));

  const fill = () => {
    const wanted = normalPlate(search.value);
    const matches = stop.registrations.filter((r) => !wanted || normalPlate(r.plate).includes(wanted));
    list.replaceChildren(...matches.map((reg) => {
      const record = summary.latest.get(reg.plate);
      const status = record ? (record.result === "pass" ? t("result_pass") : t("result_fail"))
        : reg.status === "inspected" ? t("reg_inspected_elsewhere") : t("reg_waiting");
      return h("li", {},
        h("a", { className: `reg ${record ? `result-${record.result}` : ""}`, href: `#inspect/${stopId}/${encodeURIComponent(reg.plate)}`,
          dataset: { plate: reg.plate } },
        h("strong", { className: "plate" }, reg.plate),
        h("span", {}, reg.owner_name),
        h("span", { className: "chip" }, status)));
    }));
    if (!stop.registrations.length) list.append(h("li", { className: "muted" }, t("no_registrations")));
    else if (!matches.length) list.append(h("li", { className: "muted" }, t("no_match", { plate: wanted })));
    walkIn.textContent = wanted && !matches.some((r) => normalPlate(r.plate) === wanted)
      ? t("walk_in_plate", { plate: wanted }) : t("walk_in");
  };
  search.addEventListener("input", () => {
    searches.set(stopId, search.value);
    fill();
  });
  fill();

  const figure = (key, value, id) => h("div", { className: `figure ${key}`, id },
    h("span", { className: "value" }, String(value)), h("span", { className: "label" }, t(`summary_${key}`)));
  return h("div", { className: "stop", dataset: { stopId } },
    h("a", { className: "back", href: "#" }, t("back")),
    h("h2", {}, `${stop.township} · ${stop.venue}`),
    h("p", { className: "muted" }, `${tour.name} · ${tour.date} · ${t("stop_time", { from: wallTime(stop.arrives_at), to: wallTime(stop.departs_at) })}`),
    h("div", { className: "summary", id: "stop-summary" },
      figure("done", summary.done, "sum-done"), figure("passed", summary.passed, "sum-passed"),
      figure("failed", summary.failed, "sum-failed"), figure("left", summary.left, "sum-left")),
    h("div", { className: "search-row" }, search, walkIn),
    h("h3", {}, t("registered")),
    list,
    h("h3", {}, t("records_here")),
    records.length ? h("ul", { id: "stop-records", className: "records" },
      [...records].reverse().map((record) => recordRow(record, failedPhotos)))
      : h("p", { className: "muted" }, t("no_records")));
}

/** The tablet's last known position: GPS needs no signal, so it is there offline too. Null until the
 * browser gives one, or for good if the officer refuses; a record never waits for it. */
let lastFix = null;
let watching = false;
function watchPosition() {
  if (watching || !("geolocation" in navigator)) return;
  watching = true;
  const round = (degrees) => Math.round(degrees * 1e6) / 1e6;
  navigator.geolocation.watchPosition(
    (pos) => { lastFix = { lat: round(pos.coords.latitude), lon: round(pos.coords.longitude) }; },
    () => {}, { enableHighAccuracy: true, maximumAge: 5 * 60 * 1000, timeout: 30 * 1000 });
}

async function inspectView(stopId, platePart) {
  watchPosition();
  const found = await findStop(stopId);
  if (!found) {
    location.hash = "";
    return homeView();
  }
  const { stop, checklist, photoKinds, requiredKinds } = found;
  const plate = platePart ? decodeURIComponent(platePart) : "";
  if (!form || form.stopId !== stopId || form.plate !== plate) {
    for (const photo of form ? form.photos : []) URL.revokeObjectURL(photo.url);
    form = { stopId, plate, checks: {}, result: null, photos: [], typed: {} };
  }
  // What was typed survives a redraw (language switch): kept in `form` as it is typed.
  const keep = (el) => {
    if (el.name in form.typed) el.value = form.typed[el.name];
    el.addEventListener("input", () => { form.typed[el.name] = el.value; });
    return el;
  };
  const entry = stop.registrations.find((r) => r.plate === plate);
  const registered = Boolean(entry);
  const error = h("p", { id: "form-error", className: "error", role: "alert" });
  const plateInput = keep(h("input", { id: "plate", name: "plate", value: plate, autocomplete: "off", required: true,
    readonly: registered || null }));
  const vinInput = keep(h("input", { id: "vin", name: "vin", autocomplete: "off" }));
  const engineInput = keep(h("input", { id: "engine", name: "engine", autocomplete: "off" }));
  // What the register says, to compare with the frame and the engine (the server records whether they match).
  const registerBox = entry ? h("dl", { id: "registered-ids", className: "registered-ids" },
    h("dt", {}, t("reg_vin")), h("dd", { id: "reg-vin" }, entry.vin || t("reg_none")),
    h("dt", {}, t("reg_engine")), h("dd", { id: "reg-engine" }, entry.engine_number || t("reg_none")),
    h("dt", {}, t("reg_phone")), h("dd", { id: "reg-phone" }, entry.phone || t("reg_none")),
    entry.on_register === false ? h("dd", { className: "warn" }, t("not_on_register")) : null) : null;
  const odoInput = keep(h("input", { id: "odometer", name: "odometer", type: "number", inputmode: "numeric", min: "0",
    step: "1" }));
  const defectsInput = keep(h("textarea", { id: "defects", name: "defects", rows: "3" }));

  const checkButtons = [];
  const checkRows = checklist.map((item) => {
    const buttons = ["pass", "fail", "n/a"].map((value) => h("button", {
      type: "button", className: `check check-${value === "n/a" ? "na" : value}`,
      dataset: { item: item.code, value }, "aria-pressed": form.checks[item.code] === value ? "true" : "false",
      onclick: () => {
        form.checks[item.code] = value;
        paintChecks();
      },
    }, t(value === "n/a" ? "check_na" : `check_${value}`)));
    checkButtons.push(...buttons);
    return h("li", { className: "check-row", dataset: { item: item.code } },
      h("span", { className: "check-label" }, itemLabel(item)), h("div", { className: "check-buttons" }, buttons));
  });
  const resultButtons = ["pass", "fail"].map((value) => h("button", {
    type: "button", id: `result-${value}`, className: `big result result-${value}`, dataset: { value },
    onclick: () => {
      form.result = value;
      paintChecks();
    },
  }, t(`result_${value}`)));

  function paintChecks() {
    const anyFail = Object.values(form.checks).includes("fail");
    if (anyFail) form.result = "fail";
    for (const button of checkButtons) {
      button.setAttribute("aria-pressed", form.checks[button.dataset.item] === button.dataset.value ? "true" : "false");
    }
    for (const button of resultButtons) {
      button.setAttribute("aria-pressed", form.result === button.dataset.value ? "true" : "false");
      if (button.dataset.value === "pass") button.disabled = anyFail;
    }
  }

  const photoList = h("ul", { id: "photos", className: "photos" });
  const kindSelect = keep(h("select", { id: "photo-kind", name: "photo_kind" },
    ...photoKinds.map((kind) => h("option", { value: kind }, kind))));
  const needed = h("p", { id: "photo-kinds-needed", className: "muted" });
  const missingKinds = () => requiredKinds.filter((kind) => !form.photos.some((photo) => photo.kind === kind));
  const paintPhotos = () => {
    const missing = missingKinds();
    needed.textContent = !requiredKinds.length ? ""
      : missing.length ? t("photos_needed", { kinds: missing.join("、") }) : t("photos_complete");
    needed.dataset.missing = missing.join(",");
    photoList.replaceChildren(...form.photos.map((photo, index) => h("li", { dataset: { kind: photo.kind || "" } },
      h("img", { src: photo.url, alt: photo.kind || t("photo") }),
      h("span", { className: "photo-kind" }, photo.kind || ""),
      h("button", { type: "button", className: "small danger", onclick: () => {
        URL.revokeObjectURL(photo.url);
        form.photos.splice(index, 1);
        paintPhotos();
      } }, t("remove_photo")))));
    photoCount.textContent = t("photo_count", { n: form.photos.length });
  };
  const photoCount = h("span", { id: "photo-count-form", className: "muted" });
  const photoInput = h("input", { id: "photo-input", type: "file", accept: "image/*", capture: "environment",
    className: "visually-hidden", onchange: async (event) => {
      for (const file of event.target.files) {
        const blob = await preparePhoto(file);
        form.photos.push({ blob, type: blob.type, url: URL.createObjectURL(blob), sha256: await sha256Hex(blob),
          kind: kindSelect.value || null });
      }
      event.target.value = "";
      paintPhotos();
    } });

  const save = async () => {
    const plateValue = normalPlate(plateInput.value);
    const unanswered = checklist.filter((item) => !form.checks[item.code]).length;
    const odometer = odoInput.value.trim();
    const problem = !plateValue ? t("err_plate")
      : unanswered ? t("err_checklist", { n: unanswered })
        : !form.result ? t("err_result")
          : form.result === "pass" && Object.values(form.checks).includes("fail") ? t("err_pass_with_fail")
            : form.result === "pass" && missingKinds().length ? t("photos_needed", { kinds: missingKinds().join("、") })
            : odometer && !/^\d+$/.test(odometer) ? t("err_odometer") : null;
    if (problem) {
      error.textContent = problem;
      return;
    }
    const clientId = crypto.randomUUID(); // made here, once: every retry of this record is the same record
    const record = {
      client_id: clientId, stop_id: stopId, plate: plateValue, vin: vinInput.value.trim().toUpperCase() || null,
      engine_number: engineInput.value.trim().toUpperCase() || null,
      photos: form.photos.filter((photo) => photo.kind).map((photo) => ({ kind: photo.kind, sha256: photo.sha256 })),
      odometer_km: odometer ? Number(odometer) : null, checklist: { ...form.checks }, result: form.result,
      defects: defectsInput.value.split("\n").map((line) => line.trim()).filter(Boolean),
      recorded_at: new Date().toISOString(), lat: lastFix ? lastFix.lat : null, lon: lastFix ? lastFix.lon : null,
      walk_in: !registered, state: "queued", answer: null, created_at: new Date().toISOString(),
      officer: await kvGet("username"), // synced only under this officer's sign-in
    };
    const photos = form.photos.map((photo) => ({ id: `${clientId}:${photo.sha256}`, client_id: clientId,
      sha256: photo.sha256, kind: photo.kind, type: photo.type, blob: photo.blob, state: "waiting" }));
    await saveInspection(record, photos);
    for (const photo of form.photos) URL.revokeObjectURL(photo.url);
    form = null;
    searches.delete(stopId);
    flash = { text: t("saved", { plate: plateValue }), kind: "good" };
    location.hash = `#stop/${stopId}`;
    if (navigator.onLine) runSync();
  };

  const formEl = h("form", { className: "inspect", onsubmit: (event) => { event.preventDefault(); save(); } },
    h("a", { className: "back", href: `#stop/${stopId}` }, t("back")),
    h("h2", {}, registered ? `${t("inspect")} ${plate}` : t("new_inspection")),
    h("label", { for: "plate" }, t("plate")), plateInput,
    h("div", { className: "two" },
      h("div", {}, h("label", { for: "vin" }, t("vin")), vinInput),
      h("div", {}, h("label", { for: "engine" }, t("engine")), engineInput)),
    h("label", { for: "odometer" }, t("odometer")), odoInput,
    registerBox,
    h("div", { className: "row spread" }, h("h3", {}, t("checklist")),
      h("button", { id: "all-pass", type: "button", className: "big", onclick: () => {
        for (const item of checklist) form.checks[item.code] = "pass";
        paintChecks();
      } }, t("all_pass"))),
    h("ul", { className: "checklist" }, checkRows),
    h("label", { for: "defects" }, t("defects")), defectsInput,
    h("div", { className: "row" }, h("label", { for: "photo-kind" }, t("photo_kind")), kindSelect,
      h("label", { for: "photo-input", className: "button big", id: "photo-button" }, t("photo")),
      photoInput, photoCount),
    needed,
    photoList,
    h("h3", {}, t("result")),
    h("div", { className: "results" }, resultButtons),
    error,
    h("div", { className: "row actions" },
      h("a", { className: "button", href: `#stop/${stopId}` }, t("cancel")),
      h("button", { id: "save", className: "primary big", type: "submit" }, t("save"))));
  paintChecks();
  paintPhotos();
  return formEl;
}

// ---- start ------------------------------------------------------------------------------------

const RETRY_MS = 60_000;
const KEEP_DONE_DAYS = 30;

/** Synced records are kept for the stop summaries, and synced visit outcomes, a month at most. */
async function pruneDone() {
  const before = new Date(Date.now() - KEEP_DONE_DAYS * 86_400_000).toISOString();
  for (const record of await all("done")) {
    if (record.synced_at && record.synced_at < before) await del("done", record.client_id);
  }
  for (const outcome of await all("outcomes")) {
    if (outcome.synced_at && outcome.synced_at < before) await del("outcomes", outcome.visit_id);
  }
}

async function start() {
  setLang(currentLang());
  document.getElementById("lang").addEventListener("click", async () => {
    setLang(currentLang() === "zh" ? "en" : "zh");
    await render();
  });
  document.getElementById("sync-now").addEventListener("click", runSync);
  window.addEventListener("hashchange", render);
  window.addEventListener("online", () => {
    showNetwork();
    runSync();
  });
  window.addEventListener("offline", () => {
    showNetwork();
    showSyncStatus();
  });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/tablet/sw.js", { scope: "/tablet/" }).catch((error) => {
      console.warn("service worker not registered", error);
    });
  }
  await pruneDone();
  await render();
  // A flaky signal does not always fire `online`: while records wait, try again every minute.
  setInterval(async () => {
    if (navigator.onLine && (await queueCounts()).waiting) runSync();
  }, RETRY_MS);
  if (navigator.onLine && (await kvGet("token"))) {
    try {
      await pullAssignments();
    } catch (error) {
      if (error instanceof AuthError) flash = { text: t("session_expired"), kind: "bad" };
      else if (!(error instanceof NetworkError || error instanceof HttpError)) throw error;
    }
    await runSync();
  }
  document.body.dataset.ready = "1";
}

start();
