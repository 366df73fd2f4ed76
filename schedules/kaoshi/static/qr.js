// The calendar subscription's QR code, drawn as SVG by the vendored qrcode-generator (byte mode, UTF-8,
// error correction level M, the smallest version that fits). Loaded only when a candidate asks for it.
import qrcode from "./qrcode-generator.js";

// The library's default keeps only each character's low byte; the feed address may hold any text.
const utf8 = new TextEncoder();
qrcode.stringToBytes = (text) => Array.from(utf8.encode(text));

/** `text` as a QR code: its version (1-40) and its modules, row by row, true for dark. */
export function encode(text) {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const size = qr.getModuleCount();
  const modules = Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => qr.isDark(row, col)));
  return { version: (size - 17) / 4, size, modules };
}

/** The QR code of `text` as an SVG image (4 modules of quiet zone), labelled for screen readers. */
export function drawQr(text, label) {
  const { size, modules, version } = encode(text);
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const full = size + 8;
  svg.setAttribute("viewBox", `0 0 ${full} ${full}`);
  svg.setAttribute("width", String(full * 6));
  svg.setAttribute("height", String(full * 6));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "qr");
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.dataset.version = String(version);
  const background = document.createElementNS(ns, "rect");
  background.setAttribute("width", String(full));
  background.setAttribute("height", String(full));
  background.setAttribute("fill", "#fff");
  const path = document.createElementNS(ns, "path");
  let d = "";
  modules.forEach((row, y) => row.forEach((dark, x) => { if (dark) d += `M${x + 4} ${y + 4}h1v1h-1z`; }));
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(background, path);
  return svg;
}
