// The candidates' app: sign up and in, progress by the test rules, sessions, bookings, the draw, calendars.
import { createClient } from "/web/api.js";
import { checkIdNumber, checkMobile } from "/web/checks.js";
import { h } from "/web/dom.js";
import { buildForm, signInView, signUpView } from "/web/forms.js";
import { createI18n } from "/web/i18n.js";
import { lazy, startApp } from "/web/shell.js";
import { REASONS, TEXTS } from "./texts.js";
import { candidate } from "./util.js";

const LICENSE_CLASSES = ["C1", "C2", "C3", "C4", "C5", "C6", "A1", "A2", "A3", "B1", "B2", "D", "E", "F", "M", "N", "P"];

// A sign-up waiting for its texted code: kept in memory only (never stored), for the code page.
let pending = null;

function awaitCode(app, username, password) {
  pending = { username, password };
  app.go("#/verify");
}

function signUp(app) {
  const { t } = app;
  return signUpView(app, {
    path: "/api/v1/candidates",
    role: "candidate",
    after: "#/progress",
    // The answer is the same for every ID number (accepted or not, with an account or not): the page says
    // where a code would go and what to do first, so it never tells a stranger anything about a person.
    signedUp: (body) => awaitCode(app, body.username, body.password),
    fields: [
      { name: "name", label: t("name"), autocomplete: "name" },
      { name: "id_number", label: t("id_number"), hint: t("id_number_hint"), check: checkIdNumber },
      { name: "phone", label: t("phone"), hint: t("phone_hint"), type: "tel", inputmode: "tel",
        autocomplete: "tel", check: checkMobile },
      { name: "license_class", label: t("license_class"), options: LICENSE_CLASSES.map((c) => [c, c]) },
    ],
  });
}

/** The code texted to the phone recorded at acceptance: entered here, the account opens and is signed in. */
function verifyView(app) {
  const { t } = app;
  if (!pending) {
    app.go("#/signin");
    return [];
  }
  const { username, password } = pending;
  return [
    h("h2", {}, t("verify_title")),
    h("p", { id: "verify-sent" }, t("verify_sent")),
    h("p", { class: "notice warn", id: "verify-first" }, t("verify_first")),
    buildForm(app, {
      id: "verify",
      fields: [{ name: "code", label: t("code"), hint: t("code_hint"), inputmode: "numeric",
        autocomplete: "one-time-code", serverError: t("wrong_code"),
        check: (v) => (/^\s*\d{6}\s*$/.test(v) ? null : ["code_hint", {}]) }],
      submitLabel: t("verify_submit"),
      async onSubmit({ code }) {
        await app.client.signInWith("/api/v1/candidates/verify", { username, password, code }, "candidate");
        pending = null;
        app.flash(t("signed_up"), "ok", true);
        app.go("#/progress");
      },
    }),
    h("p", { class: "meta" }, t("verify_help")),
  ];
}

function subjectCard(app, s) {
  const { t } = app;
  const lines = [];
  if (s.passed) lines.push(h("p", {}, h("span", { class: "tag ok" }, "✓"), t("passed_on", { date: s.passed_on })));
  else if (s.active_booking_id) {
    lines.push(h("p", {}, h("span", { class: "tag ok" }, t("has_booking")), " ",
      h("a", { href: "#/bookings" }, t("see_booking"))));
  } else if (s.eligible) lines.push(h("p", {}, h("span", { class: "tag ok" }, t("can_book_now"))));
  else {
    const from = s.eligible_from || s.retest_from;
    lines.push(h("p", {}, h("span", { class: "tag warn" }, from ? t("can_book_from", { date: from }) : t("cannot_book"))));
    if (s.reason && REASONS[s.reason]) {
      lines.push(h("p", { class: "meta" }, t(REASONS[s.reason], { eligible_from: from || "" })));
    }
  }
  if (s.bookings_left !== undefined && s.bookings_left !== null) {
    lines.push(h("p", { class: "meta" }, t("bookings_left", { left: s.bookings_left, used: s.bookings_used ?? 0 })));
  } else if (s.attempts) lines.push(h("p", { class: "meta" }, t("attempts", { n: s.attempts })));
  const bookable = !s.passed && !s.active_booking_id && s.eligible;
  return h("section", { class: "card subject", dataset: { subject: s.subject }, "aria-labelledby": `subject-${s.subject}` },
    h("h3", { id: `subject-${s.subject}` }, `${t("subject", { n: s.subject })} · ${t(`subject_names_${s.subject}`)}`),
    lines,
    bookable ? h("a", { class: "button", href: `#/sessions?subject=${s.subject}` }, t("find_sessions")) : null);
}

async function progressView(app) {
  const { t } = app;
  const [who, progress] = await Promise.all([candidate(app), app.client.get("/api/v1/me/exam-progress")]);
  const permit = [];
  if (progress.permit_status === "void") {
    permit.push(h("p", { class: "notice bad", id: "permit" }, t("permit_void_line")));
  } else if (progress.permit_issued_on) {
    const expired = progress.permit_expires_on && progress.permit_expires_on < new Date().toISOString().slice(0, 10);
    permit.push(h("p", { class: expired ? "notice bad" : "notice ok", id: "permit" }, expired
      ? t("permit_expired_line", { until: progress.permit_expires_on })
      : t("permit_line", { from: progress.permit_issued_on, until: progress.permit_expires_on || "-" })));
  } else if ("permit_issued_on" in progress) {
    permit.push(h("p", { class: "notice warn", id: "permit" }, t("permit_none")));
  }
  return [
    h("h2", {}, t("progress_title")),
    h("p", {}, who.name ? t("hello", { name: who.name }) : "", " ", t("class_line", { cls: progress.license_class })),
    permit,
    progress.seniority_date ? h("p", { class: "meta" }, t("seniority", { date: progress.seniority_date })) : null,
    h("div", { id: "subjects" }, progress.subjects.map((s) => subjectCard(app, s))),
  ];
}


const i18n = createI18n(TEXTS);
startApp({
  i18n,
  client: createClient("kaoshi"),
  reasons: REASONS,
  home: "#/progress",
  signIn: "#/signin",
  tabs: [["#/progress", "tab_progress"], ["#/sessions", "tab_sessions"], ["#/bookings", "tab_bookings"]],
  routes: [
    [/^\/signin$/, (app) => signInView(app, { role: "candidate", title: app.t("signin_title"), after: "#/progress",
      signUpHash: "#/signup", intro: app.t("signin_intro"),
      unverified: (username, password) => awaitCode(app, username, password) }), true],
    [/^\/signup$/, signUp, true],
    [/^\/verify$/, verifyView, true],
    [/^\/progress$/, progressView],
    [/^\/sessions$/, lazy(() => import("./sessions.js"), "sessionsView")],
    [/^\/bookings$/, lazy(() => import("./bookings.js"), "bookingsView")],
    [/^\/bookings\/(\d+)\/change$/, lazy(() => import("./bookings.js"), "changeView")],
    [/^\/draw\/(\d+)$/, lazy(() => import("./draw.js"), "drawView"), true],
  ],
});
