// A batch's plates and papers by post: the form to ask for them, then what became of the mailing.
import { ApiError } from "/web/api.js";
import { fieldError, h, localTime } from "/web/dom.js";

// The server's address shape (vmo/validators.py address_problems), so the company sees in Chinese
// which part is missing before anything is sent.
const MUNICIPALITY = /^(北京|天津|上海|重庆)市?/;
const PROVINCE = /^[\u4e00-\u9fff]{2,7}?(省|自治区|特别行政区)/;
const CITY = /^[\u4e00-\u9fff]{1,10}?(自治州|地区|盟|市)/;
const DISTRICT = /^[\u4e00-\u9fff]{1,12}?(自治县|区|县|旗|市)/;
const STREET = /[路街巷道弄号村组镇乡栋幢室楼\d]/;

/** The keys of the parts an address lacks, in order; [] when it has them all. */
export function addressProblems(raw) {
  let rest = raw.replace(/\s+/g, "");
  if (!rest) return ["address_empty"];
  const problems = [];
  const municipality = rest.match(MUNICIPALITY);
  const province = municipality || rest.match(PROVINCE);
  if (!province) problems.push("address_province");
  else rest = rest.slice(province[0].length);
  if (!municipality) {
    const city = rest.match(CITY);
    if (!city) problems.push("address_city");
    else rest = rest.slice(city[0].length);
  }
  const district = rest.match(DISTRICT);
  if (!district) problems.push("address_district");
  else rest = rest.slice(district[0].length);
  if (rest.length < 2 || !STREET.test(rest)) problems.push("address_street");
  return problems;
}

function statusView(app, mailing) {
  const { t } = app;
  const kind = { sent: "ok", delivered: "ok", returned: "bad" }[mailing.status] || "";
  return [
    h("p", { class: `notice ${kind}`, id: "mailing-status", dataset: { status: mailing.status } },
      t(`mailing_${mailing.status}`, { carrier: mailing.carrier || "", number: mailing.tracking_number || "" })),
    h("dl", { class: "pairs" },
      h("dt", {}, t("mailing_recipient")), h("dd", {}, `${mailing.recipient}（${mailing.phone}）`),
      h("dt", {}, t("mailing_address")), h("dd", { id: "mailing-address" }, mailing.address),
      h("dt", {}, t("mailing_items")), h("dd", {}, mailing.items.join("、")),
      h("dt", {}, t("mailing_asked")), h("dd", {}, localTime(mailing.created_at))),
  ];
}

function requestForm(app, batch) {
  const { t } = app;
  const field = (name, attrs = {}) => {
    const id = `mailing-${name}`;
    const input = h("input", { id, name, required: true, "aria-describedby": `${id}-hint`, ...attrs });
    return [input, h("div", { class: "field" }, h("label", { for: id }, t(`mailing_${name}`)),
      h("p", { class: "hint", id: `${id}-hint` }, t(`mailing_${name}_hint`)), input,
      h("p", { class: "error", id: `${id}-error`, hidden: true }))];
  };
  const [recipient, recipientField] = field("recipient", { maxlength: 60, autocomplete: "name" });
  const [phone, phoneField] = field("phone", { inputmode: "numeric", maxlength: 11, autocomplete: "tel" });
  const [address, addressField] = field("address", { maxlength: 200, autocomplete: "street-address" });
  const send = h("button", { type: "submit", class: "primary", id: "send-mailing" }, t("mailing_send"));
  const form = h("form", { id: "mailing-form", novalidate: true },
    h("p", {}, t("mailing_intro")), recipientField, phoneField, addressField, h("div", { class: "actions" }, send));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const problems = {
      recipient: recipient.value.trim() ? "" : t("required"),
      phone: /^1[3-9]\d{9}$/.test(phone.value.trim()) ? "" : t("mailing_phone_bad"),
      address: addressProblems(address.value).map((key) => t(key)).join("；"),
    };
    for (const [name, message] of Object.entries(problems)) fieldError(`mailing-${name}`, message);
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) {
      first.focus();
      return;
    }
    app.act(send, async () => {
      try {
        await app.client.post(`/api/v1/fleet/batches/${batch.id}/mailing`, {
          recipient: recipient.value.trim(), phone: phone.value.trim(), address: address.value.trim() });
      } catch (error) {
        const fields = error instanceof ApiError && error.body.errors && error.body.errors.json;
        if (!fields || typeof fields !== "object") throw error;
        for (const [name, messages] of Object.entries(fields)) {
          fieldError(`mailing-${name}`, t("server_says", { msg: [].concat(messages).join("; ") }));
        }
        return;
      }
      app.flash(t("mailing_requested_ok"), "ok", true);
      app.render();
    });
  });
  return h("details", { class: "card", id: "mailing-request" }, h("summary", {}, t("mailing_title")), form);
}

/** The batch's mailing, or the form to ask for one. */
export async function mailingSection(app, batch) {
  const { t } = app;
  let mailing = null;
  try {
    mailing = await app.client.get(`/api/v1/fleet/batches/${batch.id}/mailing`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  if (!mailing) return requestForm(app, batch);
  return h("section", { class: "card", id: "mailing", "aria-labelledby": "mailing-title" },
    h("h3", { id: "mailing-title" }, t("mailing_title")), statusView(app, mailing),
    mailing.status === "returned" ? requestForm(app, batch) : null);
}
