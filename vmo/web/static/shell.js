// One page, many views: a hash router (#/...), the top bar (language, sign-out), the busy banner and
// one-line messages. Each view is a function that returns the nodes to show.
import { busyText, errorText } from "./api.js";
import { $, clear, h } from "./dom.js";

/** A view whose module loads when it is first shown (the first page stays small on a slow connection). */
export const lazy = (load, name) => async (...args) => (await load())[name](...args);

export function startApp({ i18n, client, routes, tabs, home, signIn, reasons = {} }) {
  const { t } = i18n;
  const main = $("#main");
  const busy = $("#busy");
  const flashBox = $("#flash");
  let pendingFlash = null;
  let rendering = 0;
  let lastBusy = [0, false];

  const app = {
    t,
    i18n,
    client,
    /** A message shown now, or after the next navigation when `later`. */
    flash(text, kind = "ok", later = false) {
      if (later) pendingFlash = [text, kind];
      else show(text, kind);
    },
    error(error) {
      show(errorText(t, error, reasons), "bad");
    },
    errorText: (error) => errorText(t, error, reasons),
    go(hash) {
      if (location.hash === hash) render();
      else location.hash = hash;
    },
    render: () => render(),
    /** Runs `fn` with the button disabled (no double submit) and shows its failure. */
    async act(button, fn) {
      if (button) button.disabled = true;
      try {
        return await fn();
      } catch (error) {
        app.error(error);
        return undefined;
      } finally {
        if (button && button.isConnected) button.disabled = false;
      }
    },
  };
  client.onBusy = (seconds, retrying) => {
    lastBusy = [seconds, retrying];
    busy.textContent = busyText(t, seconds, retrying);
  };

  function show(text, kind) {
    flashBox.className = `notice ${kind}`;
    flashBox.textContent = text || "";
  }

  function drawChrome() {
    i18n.apply();
    $("#lang").textContent = t("switch_lang");
    $("#sign-out").hidden = !client.session;
    const nav = $("#tabs");
    nav.hidden = !client.session;
    nav.setAttribute("aria-label", t("nav_label"));
    const current = location.hash.split("?")[0];
    clear(nav, tabs.map(([hash, key]) => h("a", {
      href: hash, "aria-current": current === hash || current.startsWith(`${hash}/`) ? "page" : null,
    }, t(key))));
    busy.textContent = busyText(t, ...lastBusy);
  }

  async function render({ keepFocus = false } = {}) {
    const hash = location.hash.startsWith("#/") ? location.hash : client.session ? home : signIn;
    const [path, query = ""] = hash.slice(1).split("?");
    let handler = null;
    let params = [];
    for (const [pattern, fn, open] of routes) {
      const match = pattern.exec(path);
      if (match) {
        if (!open && !client.session) break;
        handler = fn;
        params = match.slice(1);
        break;
      }
    }
    if (!handler) {
      location.replace(client.session ? home : signIn);
      return;
    }
    const ticket = ++rendering;
    drawChrome();
    if (pendingFlash) {
      show(...pendingFlash);
      pendingFlash = null;
    } else if (!keepFocus) {
      show("", "ok");
    }
    let nodes;
    try {
      nodes = await handler(app, params, new URLSearchParams(query));
    } catch (error) {
      nodes = h("p", { class: "notice bad", role: "alert" }, errorText(t, error, reasons));
    }
    if (ticket !== rendering) return; // a newer navigation won
    clear(main, nodes);
    if (!keepFocus) {
      const heading = main.querySelector("h2");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: false });
      }
    }
    document.title = `${(main.querySelector("h2") || {}).textContent || ""} · ${t("app_title")}`;
  }

  client.onSignedOut = () => {
    app.flash(t("signed_out"), "warn", true);
    location.hash = signIn;
  };
  $("#lang").addEventListener("click", () => {
    i18n.toggle();
    render({ keepFocus: true }).then(() => $("#lang").focus());
  });
  $("#sign-out").addEventListener("click", async () => {
    await client.signOut();
    location.hash = signIn;
  });
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#/") || !location.hash) render();
  });
  render();
  return app;
}
