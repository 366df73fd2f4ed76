// My bookings: status, waiting-list place, result and score; change, cancel (deadline shown), calendars.
import { clear, h, localTime } from "/web/dom.js";
import { sessionCard } from "./sessions.js";
import { dayBefore, refusal, when } from "./util.js";

const ACTIVE = new Set(["applied", "confirmed", "waitlisted"]);

function statusTag(app, booking) {
  const { t } = app;
  if (booking.status === "waitlisted") {
    return h("span", { class: "tag warn status" }, booking.waitlist_position
      ? t("status_waitlisted", { n: booking.waitlist_position }) : t("status_waitlisted_plain"));
  }
  const kind = { confirmed: "ok", cancelled: "bad" }[booking.status] || "";
  return h("span", { class: `tag ${kind} status`, dataset: { status: booking.status } }, t(`status_${booking.status}`));
}

function resultLine(app, booking) {
  const { t } = app;
  if (!booking.outcome) return null;
  const score = booking.score ?? null;
  const retake = booking.retake_score ?? null;
  return h("p", { class: "result", dataset: { outcome: booking.outcome } },
    h("span", { class: `tag ${booking.outcome === "passed" ? "ok" : "bad"}` }, t(`outcome_${booking.outcome}`)),
    score !== null ? ` ${t("score", { score })}` : "",
    retake !== null ? ` · ${t("retake_score", { score: retake })}` : "");
}

/** Until when a candidate may cancel: the API's own figure when it sends one, else the day before at 24:00. */
function cancelUntil(booking) {
  const given = booking.cancel_until || booking.cancellable_until;
  if (given) return localTime(given);
  return `${dayBefore(booking.session.date)} 24:00`;
}

/** The booking's .ics, fetched with the token, handed to the phone as a file to open in its calendar. */
async function downloadCalendar(app, booking, button) {
  await app.act(button, async () => {
    const response = await app.client.send("GET", booking.calendar_url);
    const blob = new Blob([await response.text()], { type: "text/calendar" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: `kaoshi-${booking.id}.ics`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
}

function bookingCard(app, booking) {
  const { t } = app;
  const card = h("li", { class: "card booking", dataset: { bookingId: booking.id, status: booking.status } },
    h("h3", {}, `${t("subject", { n: booking.subject })} · ${when(app, booking.session)}`),
    h("p", { class: "meta" }, booking.session.venue),
    h("p", {}, statusTag(app, booking),
      booking.cancelled_by === "office" ? h("span", { class: "meta" }, t("cancelled_by_office"),
        booking.session.cancel_reason ? `：${booking.session.cancel_reason}` : "") : null),
    resultLine(app, booking));
  const active = ACTIVE.has(booking.status) && !booking.outcome;
  const actions = h("div", { class: "actions" });
  if (active) {
    card.append(h("p", { class: "meta cutoff" }, t("cancel_until", { time: cancelUntil(booking) }),
      booking.changes_left !== undefined ? ` · ${t("changes_left", { n: booking.changes_left })}` : ""));
    if (booking.changes_left !== 0) {
      actions.append(h("a", { class: "button change", href: `#/bookings/${booking.id}/change` }, t("change")));
    }
    const cancel = h("button", { type: "button", class: "danger cancel" }, t("cancel_booking"));
    cancel.addEventListener("click", async () => {
      // Two taps: the first asks, the second cancels.
      if (cancel.dataset.armed !== "1") {
        cancel.dataset.armed = "1";
        cancel.textContent = t("confirm_cancel");
        return;
      }
      const message = card.querySelector(".card-msg");
      try {
        cancel.disabled = true;
        await app.client.del(`/api/v1/bookings/${booking.id}`);
        app.flash(t("cancelled_ok"), "ok", true);
        app.render();
      } catch (error) {
        message.className = "card-msg notice bad";
        message.textContent = refusal(app, error);
        cancel.disabled = false;
      }
    });
    actions.append(cancel);
  }
  if (booking.status !== "cancelled") {
    const add = h("button", { type: "button", class: "calendar" }, t("add_calendar"));
    add.addEventListener("click", () => downloadCalendar(app, booking, add));
    actions.append(add);
  }
  if (booking.session.allocation === "ballot" && booking.session.state !== "open"
      && booking.session.state !== "applications_closed") {
    actions.append(h("a", { class: "button", href: `#/draw/${booking.session_id}` }, t("see_draw")));
  }
  card.append(actions, h("p", { class: "card-msg", "aria-live": "polite" }));
  return card;
}

function subscription(app) {
  const { t } = app;
  const box = h("div", { id: "feed" });
  const button = h("button", { type: "button", id: "make-feed" }, t("make_feed"));
  button.addEventListener("click", () => app.act(button, async () => {
    const answer = await app.client.post("/api/v1/me/calendar-secret", {});
    const { drawQr } = await import("./qr.js");
    const input = h("input", { id: "feed-url", readonly: true, value: answer.url, class: "mono" });
    const copy = h("button", { type: "button", id: "copy-feed" }, t("copy"));
    copy.addEventListener("click", async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(answer.url);
      } catch {
        document.execCommand("copy");
      }
      copy.textContent = t("copied");
    });
    clear(box,
      h("div", { class: "field" }, h("label", { for: "feed-url" }, t("feed_url")), input),
      h("div", { class: "actions" }, copy,
        h("a", { class: "button", href: answer.url.replace(/^https?:/, "webcal:") }, t("open_in_calendar"))),
      drawQr(answer.url, t("qr_label")));
    button.textContent = t("remake_feed");
  }));
  return h("section", { class: "card", "aria-labelledby": "feed-title" },
    h("h3", { id: "feed-title" }, t("calendar_title")), h("p", {}, t("calendar_intro")),
    h("div", { class: "actions" }, button), box);
}

export async function bookingsView(app) {
  const { t } = app;
  const { items } = await app.client.list("/api/v1/bookings?page_size=100");
  items.sort((a, b) => (ACTIVE.has(b.status) - ACTIVE.has(a.status)) || a.session.starts_at.localeCompare(b.session.starts_at));
  return [
    h("h2", {}, t("bookings_title")),
    items.length ? h("ul", { class: "plain", id: "booking-list" }, items.map((b) => bookingCard(app, b)))
      : h("p", { class: "notice", id: "no-bookings" }, t("no_bookings")),
    subscription(app),
  ];
}

export async function changeView(app, [bookingId]) {
  const { t } = app;
  const booking = await app.client.get(`/api/v1/bookings/${bookingId}`);
  const { items } = await app.client.list(`/api/v1/test-sessions?subject=${booking.subject}&page_size=100`);
  const others = items.filter((s) => s.id !== booking.session_id && s.state !== "started");
  const list = h("ul", { class: "plain", id: "change-list" });
  for (const session of others) {
    const card = sessionCard(app, session, []);
    const move = h("button", { type: "button", class: "primary change-to" }, t("change_to"));
    move.addEventListener("click", () => app.act(move, async () => {
      try {
        await app.client.post(`/api/v1/bookings/${booking.id}/change`,
          { session_id: session.id, waitlist_if_full: false });
        app.flash(t("changed_ok", { when: when(app, session) }), "ok", true);
        app.go("#/bookings");
      } catch (error) {
        const message = card.querySelector(".card-msg");
        message.className = "card-msg notice bad";
        message.textContent = refusal(app, error);
      }
    }));
    card.querySelector(".actions").append(move);
    list.append(card);
  }
  return [
    h("h2", {}, t("change_title", { n: booking.subject })),
    h("p", {}, t("change_intro")),
    h("p", { class: "meta" }, when(app, booking.session)),
    others.length ? list : h("p", { class: "notice" }, t("no_other_sessions")),
    h("p", {}, h("a", { href: "#/bookings" }, t("back"))),
  ];
}
