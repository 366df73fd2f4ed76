// A new batch: a CSV export read into an editable table (or rows typed in), every row and field checked
// as the server would, and sent only when nothing is wrong; the server's own refusals land on the same cells.
import { h } from "/web/dom.js";
import { COLUMNS, checkVehicles, decode, readVehicles, serverProblems } from "./vehicles.js";
import { FUEL_TYPES, USE_CHARACTERS, VEHICLE_TYPES } from "./texts.js";

// Columns chosen from a list: [prefix of the words for each code (none: the code is the word), codes].
const CHOICES = { vehicle_type: ["type", VEHICLE_TYPES], fuel_type: ["fuel", FUEL_TYPES],
  use_character: [null, USE_CHARACTERS] };

export function newBatchView(app) {
  const { t } = app;
  let vehicles = [{ line: 1, ...Object.fromEntries(COLUMNS.map((c) => [c, ""])) }];
  const tbody = h("tbody");
  const summary = h("div", { id: "check-summary", role: "status", "aria-live": "polite" });
  const problemList = h("ul", { id: "problems", class: "problems" });
  const submit = h("button", { type: "button", class: "primary", id: "submit-batch" });
  const note = h("input", { id: "batch-note", name: "note", maxlength: 2000 });
  const fileInfo = h("p", { id: "file-info", "aria-live": "polite" });

  function cell(row, column) {
    const label = `${t("row", { n: vehicles[row].line })} ${t(column)}`;
    const value = vehicles[row][column];
    let input;
    if (CHOICES[column]) {
      const [prefix, codes] = CHOICES[column];
      const options = codes.map((code) => h("option", { value: code, selected: value === code },
        prefix ? t(`${prefix}_${code}`) : code));
      const known = codes.includes(value);
      input = h("select", { "aria-label": label },
        h("option", { value: "", selected: !value }, column === "fuel_type" ? t(`${prefix}_petrol`) : "—"),
        value && !known ? h("option", { value, selected: true }, value) : null, options);
    } else {
      input = h("input", { value, "aria-label": label, size: column === "vin" ? 19 : 10, spellcheck: "false",
        autocapitalize: column === "vin" ? "characters" : "off", class: column === "vin" ? "mono" : null });
    }
    input.id = `v-${row}-${column}`;
    input.dataset.row = row;
    input.dataset.column = column;
    // Checked as it is typed (nothing moves but the marks and the list above the table).
    for (const event of ["input", "change"]) {
      input.addEventListener(event, () => {
        vehicles[row][column] = input.value;
        recheck();
      });
    }
    return h("td", { "data-label": t(column) }, input);
  }

  function drawRows() {
    tbody.replaceChildren(...vehicles.map((v, row) => {
      const remove = h("button", { type: "button", class: "small remove", "aria-label": t("remove_row", { n: v.line }) }, "×");
      remove.addEventListener("click", () => {
        vehicles.splice(row, 1);
        drawRows();
        recheck();
      });
      return h("tr", { dataset: { line: v.line } }, h("th", { scope: "row" }, t("row", { n: v.line })),
        COLUMNS.map((c) => cell(row, c)), h("td", {}, remove));
    }));
  }

  function show(problems) {
    for (const el of tbody.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    for (const p of problems) {
      const el = document.getElementById(`v-${p.row}-${p.field}`);
      if (el) el.setAttribute("aria-invalid", "true");
    }
    problemList.replaceChildren(...problems.map((p) => {
      const line = (vehicles[p.row] || {}).line ?? p.row + 1;
      const text = t("row_problem", { n: line, field: t(p.field), msg: t(p.key, p.values) });
      const link = h("a", { href: `#v-${p.row}-${p.field}`, dataset: { row: p.row, field: p.field } }, text);
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const el = document.getElementById(`v-${p.row}-${p.field}`);
        if (el) el.focus();
      });
      return h("li", {}, link);
    }));
    const count = vehicles.length;
    summary.className = problems.length ? "notice bad" : "notice ok";
    summary.textContent = problems.length ? t("check_bad", { n: problems.length }) : t("check_ok", { n: count });
    submit.textContent = t("submit_batch", { n: count });
    submit.disabled = problems.length > 0 || count === 0;
  }

  function recheck() {
    show(checkVehicles(vehicles).problems);
  }

  const file = h("input", { type: "file", id: "csv-file", accept: ".csv,text/csv" });
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    const { vehicles: read, error } = readVehicles(decode(await file.files[0].arrayBuffer()));
    if (error) {
      fileInfo.className = "notice bad";
      fileInfo.textContent = t(error);
      return;
    }
    vehicles = read;
    fileInfo.className = "notice";
    fileInfo.textContent = t("csv_read", { n: read.length });
    drawRows();
    recheck();
    summary.focus();
  });
  summary.tabIndex = -1;

  const add = h("button", { type: "button", id: "add-row" }, t("add_row"));
  add.addEventListener("click", () => {
    const line = Math.max(0, ...vehicles.map((v) => v.line)) + 1;
    vehicles.push({ line, ...Object.fromEntries(COLUMNS.map((c) => [c, ""])) });
    drawRows();
    recheck();
    document.getElementById(`v-${vehicles.length - 1}-vin`).focus();
  });

  submit.addEventListener("click", () => app.act(submit, async () => {
    const { problems, body } = checkVehicles(vehicles);
    if (problems.length) {
      show(problems);
      return;
    }
    try {
      const batch = await app.client.post("/api/v1/fleet/batches", { vehicles: body, note: note.value.trim() || null });
      app.flash(t("submitted_ok", { id: batch.id, n: batch.vehicles.length }), "ok", true);
      app.go(`#/batch/${batch.id}`);
    } catch (error) {
      const fromServer = serverProblems(error, vehicles);
      if (!fromServer.length) throw error;
      show(fromServer);
      summary.focus();
    }
  }));

  drawRows();
  recheck();
  return [
    h("h2", {}, t("new_title")),
    h("section", { "aria-labelledby": "csv-title", class: "card" },
      h("h3", { id: "csv-title" }, t("mode_csv")),
      h("p", {}, t("csv_intro"), " ", h("a", { href: "/qiye/sample.csv", download: "sample.csv" }, t("csv_sample"))),
      h("div", { class: "field" }, h("label", { for: "csv-file" }, t("csv_file")), file), fileInfo),
    h("section", { "aria-labelledby": "rows-title" },
      h("h3", { id: "rows-title" }, t("mode_type")),
      summary, problemList,
      h("div", { class: "table-wrap" }, h("table", { id: "vehicle-table", class: "edit stack" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "#"), COLUMNS.map((c) => h("th", { scope: "col" }, t(c))),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("remove_row", { n: "" }))))),
        tbody)),
      h("div", { class: "actions" }, add)),
    h("div", { class: "field" }, h("label", { for: "batch-note" }, t("note")), note),
    h("div", { class: "actions" }, submit),
  ];
}
