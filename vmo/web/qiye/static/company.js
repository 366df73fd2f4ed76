// The company's own review by the office: approved (nothing to say), or pending / declined with what to bring.
import { h } from "/web/dom.js";

/** The signed-in company's review: nothing while approved; else what to bring to the counter (and why not). */
export async function companyState(app) {
  const { t } = app;
  const { company } = await app.client.get("/api/v1/me");
  if (!company || company.status === "approved") return { approved: true, notice: null };
  const offices = await app.client.get("/api/v1/offices").catch(() => []);
  const office = (Array.isArray(offices) ? offices : []).find((o) => o.code === company.office) || {};
  const declined = company.status === "declined";
  const notice = h("section", { class: `card notice ${declined ? "bad" : "warn"}`, id: "company-state",
    dataset: { status: company.status }, "aria-labelledby": "company-state-title" },
  h("h3", { id: "company-state-title" }, t(declined ? "company_declined_title" : "company_pending_title")),
  h("p", {}, declined ? t("company_declined", { reason: company.decline_reason || "" }) : t("company_pending")),
  h("p", {}, t("bring_title")),
  h("ul", { id: "bring-list" }, h("li", {}, t("bring_licence", { code: company.credit_code })),
    h("li", {}, t("bring_id")), h("li", {}, t("bring_authorisation"))),
  office.address || office.name ? h("p", {}, t("bring_where", { place: office.address || office.name })) : null,
  office.phone ? h("p", {}, t("bring_phone", { phone: office.phone })) : null);
  return { approved: false, notice };
}
