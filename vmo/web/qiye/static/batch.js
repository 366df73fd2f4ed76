// One batch: its vehicles' status (refreshing itself), the green-channel day (book, move, cancel, ask),
// plate choice per vehicle, and the printable visit sheet.
import { ApiError } from "/web/api.js";
import { clear, fieldError, h, localTime } from "/web/dom.js";
import { companyState } from "./company.js";
import { mailingSection } from "./mailing.js";
import { USE_CHARACTERS } from "./texts.js";
import { PAPER_COLUMNS, checkPaper } from "./vehicles.js";

const REFRESH_SECONDS = 20;
const LIVE = new Set(["booked"]);

/** Today in the office's zone (the browser may be elsewhere). */
function officeToday(zone = "Asia/Shanghai") {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date());
}

function addDays(date, n) {
  const day = new Date(`${date}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() + n);
  return day.toISOString().slice(0, 10);
}

function vehicleTag(app, status) {
  const kind = { registered: "ok", inspected: "ok", failed_inspection: "bad" }[status] || "";
  return h("span", { class: `tag ${kind}`, dataset: { status } }, app.t(`vehicle_${status}`));
}

/** The plate issued, or the one chosen and held for the vehicle (its `plate_choice`). */
const plateOf = (v) => v.plate || (v.plate_choice && v.plate_choice.plate) || "";

/** "Complete", or which papers are missing, with the link to fill them in while the vehicle is unregistered. */
function papersCell(app, batch, v) {
  const { t } = app;
  const missing = v.documents_missing || [];
  return [h("span", { class: `tag ${missing.length ? "bad" : "ok"}` },
    missing.length ? t("papers_missing", { list: missing.map((m) => t(m)).join("、") }) : t("papers_complete")),
  v.status !== "registered" ? [" ", h("a", { href: `#/batch/${batch.id}/papers/${v.vin}`, class: "fill-papers",
    "aria-label": `${t("fill_papers")} ${v.vin}` }, t("fill_papers"))] : null];
}

function vehicleRows(app, batch, approved = true) {
  const { t } = app;
  const label = (key) => ({ "data-label": t(key) });
  return batch.vehicles.map((v) => h("tr", { dataset: { vin: v.vin, status: v.status } },
    h("td", { class: "mono", ...label("vin") }, v.vin),
    h("td", label("model"), `${v.make} ${v.model}`),
    h("td", label("status"), vehicleTag(app, v.status)),
    h("td", { class: "defects", ...label("defects") }, v.status === "failed_inspection" && v.last_inspection
      ? v.last_inspection.defects.join("；") : ""),
    h("td", { class: "plate", ...label("plate") }, plateOf(v)),
    h("td", { class: "papers", ...label("papers") }, papersCell(app, batch, v)),
    h("td", label("choose_plate"), v.status !== "registered" && approved
      ? h("a", { href: `#/batch/${batch.id}/plate/${v.vin}`, "aria-label": `${t("choose_plate")} ${v.vin}` }, t("choose_plate"))
      : "")));
}

function vehicleTable(app, batch, approved) {
  const { t } = app;
  return h("table", { id: "vehicle-status", class: "stack" },
    h("caption", { class: "visually-hidden" }, t("vehicles")),
    h("thead", {}, h("tr", {}, ["vin", "model", "status", "defects", "plate", "papers", "choose_plate"]
      .map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, vehicleRows(app, batch, approved)));
}

async function loadDays(app, from, to) {
  const { items } = await app.client.list(`/api/v1/green-channel/days?from=${from}&to=${to}&page_size=100`);
  return items;
}

/** A month calendar of open days: places left and arrival window; `onPick(day)` books or moves. */
function dayPicker(app, { need, days, pickLabel, onPick }) {
  const { t } = app;
  const byDate = Object.fromEntries(days.map((d) => [d.date, d]));
  const months = [...new Set(days.map((d) => d.date.slice(0, 7)))];
  let monthIndex = 0;
  let chosen = null;
  const box = h("div", { class: "calendar", id: "day-picker" });
  const detail = h("div", { id: "day-detail", "aria-live": "polite" });

  function cellFor(date) {
    const day = byDate[date];
    const number = String(Number(date.slice(8)));
    if (!day) return h("td", { class: "closed" }, h("span", { "aria-hidden": "true" }, number));
    const enough = day.available >= need;
    const hours = day.arrive_from ? `${day.arrive_from}–${day.arrive_until}` : "";
    // The name comes from what the button shows (the full date hidden for screen readers only).
    const button = h("button", { type: "button", class: `day ${enough ? "" : "full"}`, dataset: { date },
      "aria-pressed": chosen === date ? "true" : "false", "aria-disabled": enough ? null : "true" },
    h("span", { class: "num" }, number), h("span", { class: "visually-hidden" }, ` (${date}) `),
    h("span", { class: "left" }, enough ? t("places_left", { n: day.available }) : t("day_full")),
    hours ? [" ", h("span", { class: "window" }, hours)] : null);
    button.addEventListener("click", () => {
      chosen = date;
      draw();
      showDetail(day, enough);
      box.querySelector(`button[data-date="${date}"]`).focus();
    });
    return h("td", {}, button);
  }

  function showDetail(day, enough) {
    const go = h("button", { type: "button", class: "primary", id: "pick-day" }, pickLabel);
    go.disabled = !enough;
    go.addEventListener("click", () => app.act(go, () => onPick(day)));
    clear(detail,
      h("p", {}, t("day_detail", { date: day.date, n: day.available, need })),
      day.arrive_from ? h("p", {}, t("arrival_window", { from: day.arrive_from, until: day.arrive_until })) : null,
      day.note ? h("p", { class: "meta" }, day.note) : null,
      enough ? null : h("p", { class: "error" }, t("not_enough", { need })),
      h("div", { class: "actions" }, go));
  }

  function draw() {
    if (!months.length) {
      clear(box, h("p", { class: "notice" }, t("closed")));
      return;
    }
    const month = months[monthIndex];
    const first = new Date(`${month}-01T12:00:00Z`);
    const lead = (first.getUTCDay() + 6) % 7; // Monday first
    const cells = [];
    for (let i = 0; i < lead; i += 1) cells.push(h("td"));
    for (let d = new Date(first); d.getUTCMonth() === first.getUTCMonth(); d.setUTCDate(d.getUTCDate() + 1)) {
      cells.push(cellFor(d.toISOString().slice(0, 10)));
    }
    const rows = [];
    for (let i = 0; i < cells.length; i += 7) rows.push(h("tr", {}, cells.slice(i, i + 7)));
    const prev = h("button", { type: "button", class: "small", disabled: monthIndex === 0 }, t("prev_month"));
    const next = h("button", { type: "button", class: "small", disabled: monthIndex === months.length - 1 }, t("next_month"));
    prev.addEventListener("click", () => { monthIndex -= 1; draw(); });
    next.addEventListener("click", () => { monthIndex += 1; draw(); });
    clear(box,
      h("div", { class: "actions month-nav" }, prev, h("strong", { id: "month-title" }, month), next),
      h("table", { class: "month", "aria-labelledby": "month-title" },
        h("thead", {}, h("tr", {}, [1, 2, 3, 4, 5, 6, 0].map((w) => h("th", { scope: "col" }, t(`weekday_short_${w}`))))),
        h("tbody", {}, rows)));
  }
  draw();
  return h("div", {}, h("h4", {}, t("calendar_label")), box, detail);
}

function greenRequest(app, batch) {
  const { t } = app;
  const date = h("input", { type: "date", id: "wanted-date", required: true });
  const note = h("input", { id: "request-note", maxlength: 500 });
  const send = h("button", { type: "submit", class: "primary", id: "send-request" }, t("send_request"));
  const form = h("form", { id: "green-request" },
    h("p", {}, t("green_request_intro")),
    h("div", { class: "field" }, h("label", { for: "wanted-date" }, t("wanted_date")), date),
    h("div", { class: "field" }, h("label", { for: "request-note" }, t("request_note")), note),
    h("div", { class: "actions" }, send));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!date.value) {
      date.setAttribute("aria-invalid", "true");
      date.focus();
      return;
    }
    app.act(send, async () => {
      await app.client.post(`/api/v1/fleet/batches/${batch.id}/green-channel-request`,
        { wanted_date: date.value, note: note.value.trim() || null });
      app.flash(t("requested_ok"), "ok", true);
      app.render();
    });
  });
  return h("details", { class: "card" }, h("summary", {}, t("green_request")), form);
}

function appointmentError(app, error) {
  if (error instanceof ApiError && error.status === 409) {
    const message = error.body.message || "";
    if (/started|in progress|inspect/.test(message)) return app.t("reason_started");
    if (/already/.test(message)) return app.t("reason_already_booked");
    return app.t("not_enough", { need: "" });
  }
  return app.errorText(error);
}

async function appointmentSection(app, batch) {
  const { t } = app;
  const need = batch.vehicles.length;
  const section = h("section", { class: "card", "aria-labelledby": "appointment-title", id: "appointment" },
    h("h3", { id: "appointment-title" }, t("appointment")));
  const message = h("p", { class: "card-msg", "aria-live": "polite" });
  const today = officeToday();
  const days = await loadDays(app, today, addDays(today, 62));
  const appointment = batch.appointment && LIVE.has(batch.appointment.status) ? batch.appointment : null;
  const fail = (error) => {
    message.className = "card-msg notice bad";
    message.textContent = appointmentError(app, error);
  };
  if (appointment) {
    const day = days.find((d) => d.date === appointment.date) || {};
    const from = appointment.arrive_from || day.arrive_from;
    const until = appointment.arrive_until || day.arrive_until;
    const cancel = h("button", { type: "button", class: "danger", id: "cancel-appointment" }, t("cancel_appointment"));
    cancel.addEventListener("click", async () => {
      if (cancel.dataset.armed !== "1") {
        cancel.dataset.armed = "1";
        cancel.textContent = t("confirm_cancel");
        return;
      }
      try {
        cancel.disabled = true;
        await app.client.del(`/api/v1/fleet/batches/${batch.id}/appointment`);
        app.flash(t("cancelled_ok"), "ok", true);
        app.render();
      } catch (error) {
        cancel.disabled = false;
        fail(error);
      }
    });
    const move = h("button", { type: "button", id: "move-appointment", "aria-expanded": "false" }, t("move"));
    const moveBox = h("div", { id: "move-box", hidden: true });
    move.addEventListener("click", () => {
      moveBox.hidden = !moveBox.hidden;
      move.setAttribute("aria-expanded", String(!moveBox.hidden));
      if (!moveBox.childNodes.length) {
        // Moving keeps the old day's places until the new day is held: the batch needs its count on
        // the new day only (the server answers 409 and keeps the old day when there is no room).
        moveBox.append(dayPicker(app, { need, days: days.filter((d) => d.date !== appointment.date),
          pickLabel: t("move_this_day"), onPick: async (picked) => {
            try {
              await app.client.patch(`/api/v1/fleet/batches/${batch.id}/appointment`, { date: picked.date });
              app.flash(t("moved_ok", { date: picked.date }), "ok", true);
              app.render();
            } catch (error) {
              fail(error);
            }
          } }));
      }
    });
    section.append(
      h("p", { class: "notice ok", id: "appointment-day" }, t("appointment_on", { date: appointment.date }),
        from ? ` · ${t("arrival_window", { from, until })}` : ""),
      h("div", { class: "actions" }, move, cancel,
        h("a", { class: "button", href: `#/batch/${batch.id}/print`, id: "to-print" }, t("print_page"))),
      moveBox, message);
  } else if (batch.status === "submitted") {
    section.append(h("p", {}, t("book_day")), dayPicker(app, { need, days, pickLabel: t("book_this_day"),
      onPick: async (picked) => {
        try {
          await app.client.post(`/api/v1/fleet/batches/${batch.id}/appointment`, { date: picked.date });
          app.flash(t("booked_ok", { date: picked.date }), "ok", true);
          app.render();
        } catch (error) {
          fail(error);
        }
      } }), message, greenRequest(app, batch));
  }
  return section;
}

export async function batchView(app, [batchId]) {
  const { t } = app;
  const [batch, state] = await Promise.all([app.client.get(`/api/v1/fleet/batches/${batchId}`), companyState(app)]);
  const wrap = h("div", { class: "table-wrap" }, vehicleTable(app, batch, state.approved));
  const stamp = h("p", { class: "meta", id: "refreshed", "aria-live": "off" },
    t("auto_refresh", { s: REFRESH_SECONDS }), " · ", t("updated_at", { time: new Date().toLocaleTimeString() }));
  const status = h("span", { class: "tag", id: "batch-status" }, t(`batch_${batch.status}`));
  // The table refreshes itself while it is on screen (and stops once the page moves on).
  const timer = setInterval(async () => {
    if (!wrap.isConnected) {
      clearInterval(timer);
      return;
    }
    if (document.hidden) return;
    try {
      const fresh = await app.client.get(`/api/v1/fleet/batches/${batchId}`);
      if (!wrap.isConnected) return;
      wrap.querySelector("tbody").replaceChildren(...vehicleRows(app, fresh, state.approved));
      status.textContent = t(`batch_${fresh.status}`);
      stamp.lastChild.textContent = t("updated_at", { time: new Date().toLocaleTimeString() });
    } catch {
      // the busy banner or the next round says what is wrong
    }
  }, REFRESH_SECONDS * 1000);
  return [
    h("h2", {}, t("batch", { id: batch.id }), " ", status),
    h("p", { class: "meta" }, t("batch_line", { n: batch.vehicle_count, time: localTime(batch.created_at) })),
    batch.note ? h("p", {}, batch.note) : null,
    // Not approved yet: what to bring to the counter instead of a calendar it could not book.
    state.approved ? await appointmentSection(app, batch) : state.notice,
    h("h3", {}, t("vehicles")), stamp, wrap,
    await mailingSection(app, batch),
  ];
}

export async function papersView(app, [batchId, vin]) {
  const { t } = app;
  const back = h("p", {}, h("a", { href: `#/batch/${batchId}` }, t("back")));
  const vehicle = await app.client.get(`/api/v1/fleet/vehicles/${vin}`);
  if (vehicle.status === "registered") {
    return [h("h2", {}, t("papers_title", { vin })), h("p", { class: "notice warn" }, t("papers_locked")), back];
  }
  const inputs = {};
  const rows = PAPER_COLUMNS.map((column) => {
    const id = `papers-${column}`;
    const input = column === "use_character"
      ? h("select", { id, name: column, "aria-describedby": `${id}-hint` },
        h("option", { value: "", selected: !vehicle[column] }, "—"),
        USE_CHARACTERS.map((u) => h("option", { value: u, selected: vehicle[column] === u }, u)))
      : h("input", { id, name: column, value: vehicle[column] || "", spellcheck: "false", autocapitalize: "characters",
        autocomplete: "off", class: "mono", "aria-describedby": `${id}-hint` });
    inputs[column] = input;
    return h("div", { class: "field" }, h("label", { for: id }, t(column)),
      h("p", { class: "hint", id: `${id}-hint` }, t(`${column}_hint`)), input,
      h("p", { class: "error", id: `${id}-error`, hidden: true }));
  });
  const message = h("p", { id: "papers-msg", role: "alert" });
  const save = h("button", { type: "submit", class: "primary", id: "save-papers" }, t("save_papers"));
  const form = h("form", { id: "papers-form", novalidate: true }, rows, message, h("div", { class: "actions" }, save));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    message.textContent = "";
    const body = {};
    let first = null;
    for (const column of PAPER_COLUMNS) {
      const value = inputs[column].value.trim();
      const problem = value ? checkPaper(column, value) : null;
      fieldError(`papers-${column}`, problem ? t(problem[0], problem[1]) : "");
      if (problem && !first) first = inputs[column];
      if (value && value !== (vehicle[column] || "")) body[column] = value;
    }
    if (first) {
      first.focus();
      return;
    }
    if (!Object.keys(body).length) {
      app.go(`#/batch/${batchId}`);
      return;
    }
    app.act(save, async () => {
      try {
        await app.client.patch(`/api/v1/fleet/vehicles/${vin}`, body);
      } catch (error) {
        const fields = error instanceof ApiError && error.body.errors && error.body.errors.json;
        if (!fields || typeof fields !== "object") throw error;
        for (const [name, messages] of Object.entries(fields)) {
          fieldError(`papers-${name}`, t("server_says", { msg: [].concat(messages).join("; ") }));
        }
        message.textContent = t("invalid");
        return;
      }
      app.flash(t("papers_saved", { vin }), "ok", true);
      app.go(`#/batch/${batchId}`);
    });
  });
  return [h("h2", {}, t("papers_title", { vin })), h("p", {}, t("papers_intro")), form, back];
}

export async function printView(app, [batchId]) {
  const { t } = app;
  const batch = await app.client.get(`/api/v1/fleet/batches/${batchId}`);
  const appointment = batch.appointment && LIVE.has(batch.appointment.status) ? batch.appointment : null;
  let day = {};
  if (appointment) {
    day = await app.client.get(`/api/v1/green-channel/days/${appointment.date}`).catch(() => ({}));
  }
  const from = (appointment && appointment.arrive_from) || day.arrive_from;
  const until = (appointment && appointment.arrive_until) || day.arrive_until;
  const print = h("button", { type: "button", class: "primary", id: "print" }, t("print"));
  print.addEventListener("click", () => window.print());
  return [
    h("h2", {}, t("print_title", { id: batch.id })),
    h("dl", { class: "pairs sheet" },
      h("dt", {}, t("print_company")), h("dd", {}, batch.company),
      h("dt", {}, t("print_day")), h("dd", { id: "print-day" }, appointment ? appointment.date : t("no_appointment")),
      h("dt", {}, t("print_window")), h("dd", { id: "print-window" }, from ? `${from}–${until}` : "—"),
      h("dt", {}, t("print_count")), h("dd", {}, String(batch.vehicle_count))),
    h("p", {}, t("print_note")),
    h("table", { id: "print-vehicles" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "#"), ["vin", "model", "chosen_plate"]
        .map((k) => h("th", { scope: "col" }, t(k))))),
      h("tbody", {}, batch.vehicles.map((v, i) => h("tr", { dataset: { vin: v.vin } },
        h("td", {}, String(i + 1)), h("td", { class: "mono" }, v.vin), h("td", {}, `${v.make} ${v.model}`),
        h("td", { class: "plate" }, plateOf(v)))))),
    h("div", { class: "actions" }, print, h("a", { class: "button", href: `#/batch/${batch.id}` }, t("back"))),
  ];
}

export async function platesView(app, [batchId, vin]) {
  const { t } = app;
  const back = h("p", {}, h("a", { href: `#/batch/${batchId}` }, t("back")));
  let offer;
  try {
    offer = await app.client.get(`/api/v1/fleet/vehicles/${vin}/plate-choices`);
  } catch (error) {
    if (error instanceof ApiError && [403, 404, 405, 409, 422].includes(error.status)) {
      const why = { company_not_approved: "reason_company_not_approved", not_scheduled: "plate_not_scheduled",
        draws_exhausted: "plate_draws_exhausted", plate_final: "plate_final" }[error.reason] || "plate_not_now";
      return [h("h2", {}, t("plates_title", { vin })), h("p", { class: "notice warn" }, t(why)), back];
    }
    throw error;
  }
  const message = h("p", { id: "plate-msg", "aria-live": "polite" });
  const radios = offer.choices.map((plate, i) => h("label", { class: "plate-choice" },
    h("input", { type: "radio", name: "plate", value: plate, id: `plate-${i}` }), ` ${plate}`));
  const own = h("input", { id: "own-plate", name: "own", "aria-describedby": "own-plate-hint", autocapitalize: "characters",
    spellcheck: "false" });
  const take = h("button", { type: "submit", class: "primary", id: "take-plate" }, t("take_plate"));
  const form = h("form", { id: "plate-form" },
    h("fieldset", {}, h("legend", {}, t("plate_choices")), h("div", { class: "plate-grid" }, radios)),
    h("div", { class: "field" }, h("label", { for: "own-plate" }, t("own_plate")),
      h("p", { class: "hint", id: "own-plate-hint" }, t("own_plate_hint")), own),
    message, h("div", { class: "actions" }, take));
  own.addEventListener("input", () => {
    if (own.value) for (const r of form.querySelectorAll('input[type="radio"]')) r.checked = false;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = form.querySelector('input[type="radio"]:checked');
    const plate = own.value.trim().toUpperCase() || (picked && picked.value);
    if (!plate) {
      message.className = "notice bad";
      message.textContent = t("required");
      return;
    }
    app.act(take, async () => {
      try {
        const answer = await app.client.post(`/api/v1/fleet/vehicles/${vin}/plate`, { plate });
        app.flash(t("plate_ok", { plate: answer.plate || plate }), "ok", true);
        app.go(`#/batch/${batchId}`);
      } catch (error) {
        message.className = "notice bad";
        if (error instanceof ApiError && error.reason === "plate_final") message.textContent = t("plate_final");
        else if (error instanceof ApiError && error.reason === "reserved") message.textContent = t("plate_reserved");
        else if (error instanceof ApiError && error.status === 409) message.textContent = t("plate_taken");
        else if (error instanceof ApiError && error.status === 422) message.textContent = t("plate_rules", { msg: plate });
        else message.textContent = app.errorText(error);
      }
    });
  });
  return [h("h2", {}, t("plates_title", { vin })),
    h("p", {}, t("plates_intro", { time: localTime(offer.expires_at) })), form, back];
}
