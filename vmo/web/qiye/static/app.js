// The companies' app: sign up and in, batches from a CSV or typed, the green-channel day, plates, the visit sheet.
import { createClient } from "/web/api.js";
import { checkCreditCode, checkMobile } from "/web/checks.js";
import { h, localTime } from "/web/dom.js";
import { signInView, signUpView } from "/web/forms.js";
import { createI18n } from "/web/i18n.js";
import { lazy, startApp } from "/web/shell.js";
import { companyState } from "./company.js";
import { TEXTS } from "./texts.js";

function signUp(app) {
  const { t } = app;
  return signUpView(app, {
    path: "/api/v1/companies",
    role: "company",
    after: "#/batches",
    fields: [
      { name: "name", label: t("company_name"), autocomplete: "organization" },
      { name: "credit_code", label: t("credit_code"), hint: t("credit_code_hint"), check: checkCreditCode,
        autocapitalize: "characters" },
      { name: "contact_name", label: t("contact_name"), autocomplete: "name" },
      { name: "contact_phone", label: t("contact_phone"), hint: t("contact_phone_hint"), type: "tel",
        inputmode: "tel", autocomplete: "tel", check: checkMobile },
    ],
  });
}

async function batchesView(app) {
  const { t } = app;
  const state = await companyState(app);
  const { items } = await app.client.list("/api/v1/fleet/batches?page_size=100");
  items.sort((a, b) => b.id - a.id);
  const cards = items.map((b) => h("li", { class: "card batch", dataset: { batchId: b.id } },
    h("h3", {}, h("a", { href: `#/batch/${b.id}` }, t("batch", { id: b.id })), " ",
      h("span", { class: "tag" }, t(`batch_${b.status}`))),
    h("p", { class: "meta" }, t("batch_line", { n: b.vehicle_count, time: localTime(b.created_at) })),
    b.note ? h("p", {}, b.note) : null,
    h("p", {}, b.appointment && b.appointment.status === "booked"
      ? t("appointment_on", { date: b.appointment.date }) : t("no_appointment")),
    h("p", { class: "meta" }, Object.entries(b.status_counts).map(([s, n]) => `${t(`vehicle_${s}`)} ${n}`).join(" · "))));
  return [
    state.notice,
    h("h2", {}, t("batches_title")),
    h("div", { class: "actions" }, h("a", { class: "button primary", href: "#/new" }, t("tab_new"))),
    items.length ? h("ul", { class: "plain", id: "batch-list" }, cards) : h("p", { class: "notice" }, t("no_batches")),
  ];
}

startApp({
  i18n: createI18n(TEXTS),
  client: createClient("qiye"),
  home: "#/batches",
  signIn: "#/signin",
  reasons: { company_not_approved: "reason_company_not_approved" },
  tabs: [["#/batches", "tab_batches"], ["#/new", "tab_new"]],
  routes: [
    [/^\/signin$/, (app) => signInView(app, { role: "company", title: app.t("signin_title"), after: "#/batches",
      signUpHash: "#/signup", intro: app.t("signin_intro") }), true],
    [/^\/signup$/, signUp, true],
    [/^\/batches$/, batchesView],
    [/^\/new$/, lazy(() => import("./newbatch.js"), "newBatchView")],
    [/^\/batch\/(\d+)$/, lazy(() => import("./batch.js"), "batchView")],
    [/^\/batch\/(\d+)\/print$/, lazy(() => import("./batch.js"), "printView")],
    [/^\/batch\/(\d+)\/plate\/([0-9A-Za-z]{17})$/, lazy(() => import("./batch.js"), "platesView")],
    [/^\/batch\/(\d+)\/papers\/([0-9A-Za-z]{17})$/, lazy(() => import("./batch.js"), "papersView")],
  ],
});
