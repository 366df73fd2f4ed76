// Vehicles from a company's CSV export or typed in: read, normalise and checked row by row with the
// server's own rules (VehicleCreateSchema and the batch's VIN checks) before anything is sent.
import { checkVin, normalVin } from "/web/checks.js";
import { FUEL_TYPES, USE_CHARACTERS, VEHICLE_TYPES } from "./texts.js";

// A vehicle's papers (vmo/fleet/papers.py): optional in a batch, all needed to register.
export const PAPER_COLUMNS = ["certificate_number", "purchase_tax_number", "insurance_policy", "use_character"];
export const COLUMNS = ["vin", "make", "model", "vehicle_type", "fuel_type", "color", "invoice_number", ...PAPER_COLUMNS];
const PAPER_LENGTHS = { certificate_number: [10, 20], purchase_tax_number: [8, 30], insurance_policy: [8, 40] };

/** A paper's value as the server stores it (spaces and dashes dropped, full-width made plain, capitals). */
export function normalPaper(column, raw) {
  if (column === "use_character") return raw.trim();
  return raw.replace(/[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/[\s-]/g, "").toUpperCase();
}

/** [key, values] of what is wrong with a paper's value (not empty), or null: the server's own rules. */
export function checkPaper(column, raw) {
  const value = normalPaper(column, raw);
  if (column === "use_character") return USE_CHARACTERS.includes(value) ? null : ["bad_choice", {}];
  if (!/^[0-9A-Z]+$/.test(value)) return ["paper_chars", {}];
  const [low, high] = PAPER_LENGTHS[column];
  return value.length < low || value.length > high ? ["paper_length", { low, high, n: value.length }] : null;
}
const REQUIRED = new Set(["vin", "make", "model", "vehicle_type"]);
const MAX_LENGTH = { make: 80, model: 80, color: 40, invoice_number: 64 };

// Column names as company systems write them.
const HEADERS = {
  vin: ["vin", "车架号", "车辆识别代号", "车辆识别代码", "vin码"],
  make: ["make", "品牌", "厂牌", "车辆品牌"],
  model: ["model", "型号", "车型", "车辆型号"],
  vehicle_type: ["vehicle_type", "车辆类型", "类型"],
  fuel_type: ["fuel_type", "燃料", "燃料类型", "燃料种类"],
  color: ["color", "colour", "颜色", "车身颜色"],
  invoice_number: ["invoice_number", "发票号", "发票号码", "购车发票号"],
  certificate_number: ["certificate_number", "合格证编号", "合格证号", "合格证"],
  purchase_tax_number: ["purchase_tax_number", "完税证明号码", "完税证明号", "购置税完税证明"],
  insurance_policy: ["insurance_policy", "交强险保单号", "交强险", "保单号"],
  use_character: ["use_character", "使用性质"],
};
// Values as company systems write them.
const TYPE_WORDS = { 轿车: "passenger_car", 小型轿车: "passenger_car", 乘用车: "passenger_car", suv: "suv",
  mpv: "mpv", 厢式车: "van", 面包车: "van", 皮卡: "pickup", 轻型货车: "light_truck", 轻卡: "light_truck",
  重型货车: "heavy_truck", 重卡: "heavy_truck", 客车: "bus", 大客车: "bus", 挂车: "trailer", 专项作业车: "special" };
const FUEL_WORDS = { 汽油: "petrol", 柴油: "diesel", 燃气: "gas", 天然气: "gas", 油电混合: "hybrid", 混合动力: "hybrid",
  插电式混合动力: "plug_in_hybrid", 插电混动: "plug_in_hybrid", 纯电动: "electric", 电动: "electric",
  燃料电池: "fuel_cell" };

/** RFC 4180 CSV: quoted fields, "" inside quotes, CRLF or LF; a BOM is dropped. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  const source = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < source.length; i += 1) {
    const c = source[i];
    if (quoted) {
      if (c === '"' && source[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && source[i + 1] === "\n") i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((value) => value.trim() !== ""));
}

/** Bytes of a file as text: UTF-8 if it is valid UTF-8, else GB18030 (what Excel in Chinese writes). */
export function decode(buffer) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch {
    return new TextDecoder("gb18030").decode(buffer);
  }
}

/** CSV text -> {vehicles: [{...fields, line}], error?}; `line` counts the header as line 1. */
export function readVehicles(text) {
  const rows = parseCsv(text);
  if (!rows.length) return { vehicles: [], error: "csv_empty" };
  const header = rows[0].map((name) => name.trim().toLowerCase());
  const index = {};
  for (const [column, names] of Object.entries(HEADERS)) {
    const at = header.findIndex((name) => names.includes(name));
    if (at >= 0) index[column] = at;
  }
  if (index.vin === undefined) return { vehicles: [], error: "csv_no_vin_column" };
  const vehicles = rows.slice(1).map((row, i) => {
    const vehicle = { line: i + 2 };
    for (const column of COLUMNS) vehicle[column] = index[column] === undefined ? "" : (row[index[column]] || "").trim();
    return vehicle;
  });
  return { vehicles, error: vehicles.length ? null : "csv_empty" };
}

function code(value, allowed, words) {
  const lower = value.trim().toLowerCase();
  if (allowed.includes(lower)) return lower;
  return words[lower] || words[value.trim()] || null;
}

/** Every problem as {row (0-based), field, key, values}; and the vehicles as the API takes them. */
export function checkVehicles(vehicles) {
  const problems = [];
  const firstSeen = {};
  const body = vehicles.map((v, row) => {
    const out = {};
    for (const column of COLUMNS) {
      const value = (v[column] || "").trim();
      if (!value) {
        if (REQUIRED.has(column)) problems.push({ row, field: column, key: "required", values: {} });
        continue;
      }
      if (MAX_LENGTH[column] && value.length > MAX_LENGTH[column]) {
        problems.push({ row, field: column, key: "too_long", values: {} });
      }
      if (PAPER_COLUMNS.includes(column)) {
        const problem = checkPaper(column, value);
        if (problem) problems.push({ row, field: column, key: problem[0], values: problem[1] });
        out[column] = normalPaper(column, value);
      } else if (column === "vin") {
        const problem = checkVin(value);
        if (problem) problems.push({ row, field: "vin", key: problem[0], values: problem[1] });
        else if (firstSeen[normalVin(value)] !== undefined) {
          problems.push({ row, field: "vin", key: "vin_twice", values: { n: vehicles[firstSeen[normalVin(value)]].line || firstSeen[normalVin(value)] + 1 } });
        } else firstSeen[normalVin(value)] = row;
        out.vin = normalVin(value);
      } else if (column === "vehicle_type" || column === "fuel_type") {
        const mapped = column === "vehicle_type" ? code(value, VEHICLE_TYPES, TYPE_WORDS) : code(value, FUEL_TYPES, FUEL_WORDS);
        if (!mapped) problems.push({ row, field: column, key: "bad_choice", values: {} });
        out[column] = mapped || value;
      } else out[column] = value;
    }
    return out;
  });
  return { problems, body };
}

/** The server's 422 for a batch ({json: {vehicles: {"3": {vin: [...]}}}}) as problems like checkVehicles's. */
export function serverProblems(error, vehicles) {
  const per = error && error.body && error.body.errors && error.body.errors.json && error.body.errors.json.vehicles;
  if (!per || typeof per !== "object" || Array.isArray(per)) return [];
  const problems = [];
  for (const [row, fields] of Object.entries(per)) {
    for (const [field, messages] of Object.entries(fields)) {
      for (const message of [].concat(messages)) {
        const twice = /twice in this batch \(also at index (\d+)\)/.exec(message);
        let key = "server_says";
        let values = { msg: message };
        if (twice) {
          key = "vin_twice";
          values = { n: (vehicles[Number(twice[1])] || {}).line || Number(twice[1]) + 1 };
        } else if (/already known|already registered/.test(message)) {
          key = "vin_known";
          values = {};
        }
        problems.push({ row: Number(row), field, key, values });
      }
    }
  }
  return problems;
}
