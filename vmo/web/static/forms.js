// Forms from a list of fields: labels and hints, checks in the browser first, then the server's own
// field errors put back on the fields they name. Shared by the sign-in and sign-up pages of both apps.
import { ApiError } from "./api.js";
import { checkPassword, checkUsername } from "./checks.js";
import { fieldError, field, focusFirstError, h } from "./dom.js";

/**
 * spec: {id, fields: [{name, label, type?, hint?, options?: [[value, text]], check?, required?, autocomplete?,
 * inputmode?, serverError?: words for any error the server names on the field}], submitLabel,
 * onSubmit(values) -> Promise, extra?: nodes after the button}
 */
export function buildForm(app, spec) {
  const { t } = app;
  const inputs = {};
  const rows = spec.fields.map((f) => {
    let input;
    if (f.options) {
      input = h("select", { required: f.required !== false },
        f.options.map(([value, text]) => h("option", { value }, text)));
    } else {
      input = h("input", {
        type: f.type || "text", autocomplete: f.autocomplete || "off", inputmode: f.inputmode,
        required: f.required !== false, spellcheck: "false", autocapitalize: f.autocapitalize || "off",
        min: f.min, max: f.max, value: f.value,
      });
    }
    input.name = f.name;
    inputs[f.name] = input;
    return field(`${spec.id}-${f.name}`, f.label, input, f.hint);
  });
  const button = h("button", { type: "submit", class: "primary", id: `${spec.id}-submit` }, spec.submitLabel);
  const formError = h("p", { class: "error", role: "alert", id: `${spec.id}-error` });
  const form = h("form", { id: spec.id, novalidate: true }, rows, formError, h("div", { class: "actions" }, button),
    spec.extra || null);

  const check = () => {
    let ok = true;
    for (const f of spec.fields) {
      const value = inputs[f.name].value;
      let problem = null;
      if (f.required !== false && !value.trim()) problem = ["required", {}];
      else if (value && f.check) problem = f.check(value);
      fieldError(`${spec.id}-${f.name}`, problem ? t(problem[0], problem[1]) : "");
      if (problem) ok = false;
    }
    return ok;
  };
  for (const f of spec.fields) {
    const problemOf = () => (f.check && inputs[f.name].value ? f.check(inputs[f.name].value) : null);
    // A message comes when the field is left (while the person still looks at it) and goes as soon as
    // the value is right, while typing: never on the way to the button, which would move under the finger.
    inputs[f.name].addEventListener("blur", () => {
      const problem = problemOf();
      if (problem) fieldError(`${spec.id}-${f.name}`, t(problem[0], problem[1]));
    });
    inputs[f.name].addEventListener("input", () => {
      if (inputs[f.name].getAttribute("aria-invalid") && !problemOf() && inputs[f.name].value) {
        fieldError(`${spec.id}-${f.name}`, "");
      }
    });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.textContent = "";
    if (!check()) {
      formError.textContent = t("invalid");
      focusFirstError(form);
      return;
    }
    const values = Object.fromEntries(spec.fields.map((f) => [f.name, inputs[f.name].value.trim()]));
    button.disabled = true;
    const label = button.textContent;
    button.textContent = t("sending");
    try {
      await spec.onSubmit(values);
    } catch (error) {
      const fields = error instanceof ApiError && error.body.errors && error.body.errors.json;
      if (fields && typeof fields === "object") {
        for (const [name, messages] of Object.entries(fields)) {
          if (inputs[name]) {
            // A 409 names the field already taken; other field errors are the server's own words.
            const own = spec.fields.find((f) => f.name === name && f.serverError);
            const text = own ? own.serverError : error.status === 409 ? t("already_registered")
              : t("server_says", { msg: [].concat(messages).join("; ") });
            fieldError(`${spec.id}-${name}`, text);
          }
        }
        formError.textContent = t("invalid");
        focusFirstError(form);
      } else {
        formError.textContent = spec.errorText ? spec.errorText(error) : app.errorText(error);
      }
    } finally {
      if (button.isConnected) {
        button.disabled = false;
        button.textContent = label;
      }
    }
  });
  return form;
}

/**
 * The sign-in page both apps use: accounts of `role` only. `unverified(username, password, error)`, if
 * given, takes over when the account's phone has not proved itself yet (403 `phone_unverified`).
 */
export function signInView(app, { role, title, after, signUpHash, intro, unverified }) {
  const { t } = app;
  return [
    h("h2", {}, title),
    intro ? h("p", {}, intro) : null,
    buildForm(app, {
      id: "signin",
      fields: [
        { name: "username", label: t("username"), autocomplete: "username" },
        { name: "password", label: t("password"), type: "password", autocomplete: "current-password" },
      ],
      submitLabel: t("sign_in"),
      async onSubmit({ username, password }) {
        try {
          await app.client.signIn(username, password, role);
        } catch (error) {
          if (unverified && error instanceof ApiError && error.reason === "phone_unverified") {
            unverified(username, password, error);
            return;
          }
          throw error;
        }
        app.go(after);
      },
    }),
    h("p", {}, t("no_account"), " ", h("a", { href: signUpHash, id: "to-signup" }, t("sign_up"))),
  ];
}

/**
 * The sign-up page both apps use: the app's own fields, then a username and password; after the 201 the
 * new account signs in and goes on to `after`, or `signedUp(body, answer)` takes over (a code to enter).
 */
export function signUpView(app, { fields, path, role, after, signedUp }) {
  const { t } = app;
  return [
    h("h2", {}, t("signup_title")),
    buildForm(app, {
      id: "signup",
      fields: [
        ...fields,
        { name: "username", label: t("username"), hint: t("username_hint"), autocomplete: "username",
          check: checkUsername },
        { name: "password", label: t("password"), hint: t("password_hint"), type: "password",
          autocomplete: "new-password", check: checkPassword },
      ],
      submitLabel: t("sign_up"),
      errorText: (error) => (error instanceof ApiError && error.status === 409 ? t("conflict_taken")
        : app.errorText(error)),
      async onSubmit(body) {
        const answer = await app.client.post(path, body);
        if (signedUp) {
          signedUp(body, answer);
          return;
        }
        await app.client.signIn(body.username, body.password, role);
        app.flash(t("signed_up"), "ok", true);
        app.go(after);
      },
    }),
    h("p", {}, t("have_account"), " ", h("a", { href: "#/signin" }, t("sign_in"))),
  ];
}
