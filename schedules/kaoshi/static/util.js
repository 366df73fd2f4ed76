// What several views of the candidates' app need: the signed-in candidate, a session's time, refusals.
import { ApiError } from "/web/api.js";
import { localTime } from "/web/dom.js";
import { REASONS } from "./texts.js";

let me = null;

/** The signed-in candidate (GET /api/v1/me), fetched once per sign-in. */
export async function candidate(app) {
  if (!me || me.username !== app.client.session.username) me = await app.client.get("/api/v1/me");
  return me.candidate ? { ...me.candidate, username: me.username } : { username: me.username };
}

/** "2026-11-28 09:00 周六": the office's own time and the weekday of its date. */
export function when(app, session) {
  const weekday = new Date(`${session.date}T12:00:00Z`).getUTCDay();
  return `${localTime(session.starts_at)}–${localTime(session.ends_at).slice(11)} ${app.t(`weekday_${weekday}`)}`;
}

/** Words for a refused booking, change or cancel: the 422 reason, or what a 409 carries. */
export function refusal(app, error) {
  if (error instanceof ApiError) {
    const body = error.body;
    if (error.status === 422 && REASONS[error.reason]) {
      return app.t(REASONS[error.reason], { eligible_from: body.eligible_from || "",
        applications_close_at: localTime(body.applications_close_at),
        cutoff_at: body.cutoff_at ? localTime(body.cutoff_at) : app.t("cutoff_rule") });
    }
    if (error.status === 409 && body.seats_left === 0) return app.t("reason_full");
    if (error.status === 409 && body.active_booking_id) return app.t("reason_active_booking");
    if (error.status === 409) return app.t("reason_not_active");
  }
  return app.errorText(error);
}

/** The day before `date` (YYYY-MM-DD). */
export function dayBefore(date) {
  const day = new Date(`${date}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return day.toISOString().slice(0, 10);
}
