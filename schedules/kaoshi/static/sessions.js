// Test sessions by date: seats left, waiting list, first come or ballot; book, apply or join the waiting list.
import { h, localTime } from "/web/dom.js";
import { refusal, when } from "./util.js";

function query(params) {
  const wanted = new URLSearchParams();
  for (const name of ["from", "to", "subject"]) if (params.get(name)) wanted.set(name, params.get(name));
  if (params.get("weekend") === "true") wanted.set("weekend", "true");
  wanted.set("page_size", "100");
  return wanted;
}

function filters(app, params) {
  const { t } = app;
  const input = (id, label, attrs) => h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name: id, ...attrs }));
  const form = h("form", { id: "filters", class: "filters", role: "search" },
    input("from", t("filter_from"), { type: "date", value: params.get("from") || "" }),
    input("to", t("filter_to"), { type: "date", value: params.get("to") || "" }),
    h("div", { class: "field" }, h("label", { for: "subject" }, t("filter_subject")),
      h("select", { id: "subject", name: "subject" }, h("option", { value: "" }, t("any_subject")),
        [1, 2, 3, 4].map((n) => h("option", { value: n, selected: params.get("subject") === String(n) },
          t("subject", { n }))))),
    h("div", { class: "field check" }, h("input", { type: "checkbox", id: "weekend", name: "weekend",
      checked: params.get("weekend") === "true" }), h("label", { for: "weekend" }, t("weekend_only"))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "search" }, t("search"))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of ["from", "to", "subject"]) if (data.get(name)) next.set(name, data.get(name));
    if (data.get("weekend")) next.set("weekend", "true");
    app.go(`#/sessions?${next}`);
  });
  return form;
}

async function book(app, session, card, button, waitlist) {
  const { t } = app;
  const message = card.querySelector(".card-msg");
  message.className = "card-msg";
  message.textContent = "";
  const result = await app.act(button, async () => {
    try {
      return await app.client.post(`/api/v1/test-sessions/${session.id}/bookings`,
        waitlist ? { waitlist_if_full: true } : {});
    } catch (error) {
      message.className = "card-msg notice bad";
      message.textContent = refusal(app, error);
      if (error.body && error.body.seats_left === 0 && !card.querySelector(".join-waitlist")) {
        const join = h("button", { type: "button", class: "join-waitlist" }, t("join_waitlist"));
        join.addEventListener("click", () => book(app, session, card, join, true));
        card.querySelector(".actions").append(join);
      }
      return null;
    }
  });
  if (!result) return;
  let text = t("booked_ok", { when: when(app, session) });
  if (result.status === "applied") text = t("applied_ok", { time: localTime(session.applications_close_at) });
  if (result.status === "waitlisted") text = t("waitlisted_ok", { n: result.waitlist_position ?? "?" });
  app.flash(text, "ok", true);
  app.go("#/bookings");
}

export function sessionCard(app, session, actions) {
  const { t } = app;
  const ballot = session.allocation === "ballot";
  const card = h("li", { class: "card session", dataset: { sessionId: session.id, allocation: session.allocation } },
    h("h3", {}, `${t("subject", { n: session.subject })} · ${when(app, session)}`),
    h("p", { class: "meta" }, session.venue),
    h("p", {},
      session.kind === "extra" ? h("span", { class: "tag warn" }, t("kind_extra")) : null,
      h("span", { class: "tag" }, ballot ? t("ballot_closes", { time: localTime(session.applications_close_at) })
        : t("first_come")),
      h("span", { class: `tag ${session.state === "open" ? "ok" : ""}`, dataset: { state: session.state } },
        t(`state_${session.state}`))),
    h("p", { class: "seats" },
      h("span", { class: "seats-left" }, ballot && session.state !== "drawn"
        ? t("ballot_seats", { cap: session.capacity })
        : t("seats", { left: session.seats_left, cap: session.capacity })),
      " · ", h("span", { class: "waitlist-length" }, t("waitlist", { n: session.waitlist_length }))),
    h("div", { class: "actions" }, actions),
    h("p", { class: "card-msg", "aria-live": "polite" }));
  return card;
}

export async function sessionsView(app, _params, params) {
  const { t } = app;
  const { items } = await app.client.list(`/api/v1/test-sessions?${query(params)}`);
  const list = h("ul", { class: "plain", id: "session-list" });
  let lastDate = null;
  for (const session of items) {
    if (session.date !== lastDate) {
      lastDate = session.date;
      list.append(h("li", { class: "date-head" }, h("h3", {}, `${session.date} ${t(`weekday_${new Date(`${session.date}T12:00:00Z`).getUTCDay()}`)}`)));
    }
    const actions = [];
    const card = sessionCard(app, session, actions);
    const row = card.querySelector(".actions");
    const add = (cls, label, waitlist) => {
      const button = h("button", { type: "button", class: `primary ${cls}` }, label);
      button.addEventListener("click", () => book(app, session, card, button, waitlist));
      row.append(button);
    };
    if (session.state === "open") {
      if (session.allocation === "ballot") add("apply", t("apply"), false);
      else if (session.seats_left > 0) add("book", t("book"), false);
      else add("join-waitlist", t("join_waitlist"), true);
    } else if (session.state === "drawn" && session.seats_left === 0) {
      add("join-waitlist", t("join_waitlist"), true);
    } else if (session.state === "drawn") {
      add("book", t("book"), false);
    }
    if (session.allocation === "ballot" && session.state === "drawn") {
      row.append(h("a", { class: "button", href: `#/draw/${session.id}` }, t("see_draw")));
    }
    list.append(card);
  }
  return [
    h("h2", {}, t("sessions_title")),
    filters(app, params),
    items.length ? list : h("p", { class: "notice", id: "no-sessions" }, t("no_sessions")),
  ];
}
