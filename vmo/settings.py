"""Feature settings: one frozen dataclass per feature, whose field defaults are the only defaults.

A feature declares

    @dataclass(frozen=True)
    class Settings:
        max_changes: int = setting(2, key="EXAM_MAX_CHANGES", low=0)

and installs it in its `register(app, api)` with `install(app, Settings)` (infrastructure in its
`init_app`: vmo.limits, vmo.security, vmo.pagecache; the default office's, vmo.offices.settings, in
`create_app`): the value is read once from the app config (where `create_app` has put the `VMO_*`
environment, as for every setting), converted to the field's type and checked, so an impossible value stops the app at start with a message naming
`VMO_<KEY>`. Resources, CLI commands and demo steps read it with `get(Settings)` and pass it to
services as an argument; services never read the app config.

A field's key is its `key=`, else its name upper-cased. A field whose type is itself a settings
dataclass is read from the same config (so a shared part, like the motorcycle due rules, has its
defaults in one place). docs/configuration.md lists every key with its default (tests check it).
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import time

from flask import current_app

EXTENSION = "vmo.settings"


class SettingError(ValueError):
    """A setting has a value the app cannot run with (raised by create_app, before serving anything)."""


def setting(default, *, key: str | None = None, parse: Callable | None = None, low=None, high=None,
            choices: tuple | None = None, shown: str | None = None):
    """A settings field: its default, and how its config value is read and checked.

    `parse` turns a config value (as JSON or the environment gives it) into the field's value;
    `low`/`high` bound numbers, `choices` lists the allowed values; `shown` is how the docs write a
    default too long for the table.
    """
    metadata = {"key": key, "parse": parse, "low": low, "high": high, "choices": choices, "shown": shown}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: json.loads(json.dumps(default)), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def text(value) -> str:
    """`parse=` for free text (names, secrets, URLs): the environment's `VMO_X=500119` arrives as the
    number 500119 (Flask parses values as JSON), which is taken back as the text it was."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    raise ValueError("must be text")


def key_of(f: dataclasses.Field) -> str:
    return f.metadata.get("key") or f.name.upper()


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _is_settings(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _convert(value, tp):
    """A config value as the field's type: numbers from numbers or their text, text as text."""
    optional = False
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        tp = args[0] if len(args) == 1 else object
    if optional and (value is None or value == ""):
        return None
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if value in (0, 1) and not isinstance(value, float):
            return bool(value)
        raise ValueError("must be true or false")
    if tp in (int, float):
        return _number(value, tp)
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError("must be text")
    if tp is time:
        if isinstance(value, time):
            return value
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise ValueError("must be a time of day, HH:MM") from None
    return value


def _number(value, tp):
    """An int or float setting from a number or its text; True is not 1, 2.5 is not a whole number."""
    message = "must be a whole number" if tp is int else "must be a number"
    if isinstance(value, str):
        try:
            value = tp(value.strip())
        except ValueError:
            raise ValueError(message) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(message)
    if tp is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(message)
    return tp(value)


def load(cls, config: Mapping):
    """Build the settings dataclass `cls` from `config`; SettingError names the first bad key."""
    hints = _hints(cls)
    values, given = {}, []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if _is_settings(tp):
            values[f.name] = load(tp, config)
            continue
        key = key_of(f)
        raw = config.get(key)
        if raw is None:
            continue
        try:
            value = (f.metadata.get("parse") or (lambda v: _convert(v, tp)))(raw)
            _check(f, value)
        except (TypeError, ValueError) as exc:
            raise SettingError(f"VMO_{key} = {raw!r}: {exc}") from None
        values[f.name] = value
        given.append(f"VMO_{key}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a rule between fields (`__post_init__`)
        if isinstance(exc, SettingError):
            raise
        raise SettingError(f"{', '.join(given) or 'the defaults'}: {exc}") from None


def _check(f: dataclasses.Field, value) -> None:
    low, high, choices = f.metadata.get("low"), f.metadata.get("high"), f.metadata.get("choices")
    if value is None:
        return
    if low is not None and high is not None and not low <= value <= high:
        raise ValueError(f"must be {low} to {high}")
    if low is not None and value < low:
        raise ValueError(f"must be at least {low}")
    if high is not None and value > high:
        raise ValueError(f"must be at most {high}")
    if choices is not None and value not in choices:
        raise ValueError(f"must be one of {', '.join(map(str, choices))}")


def install(app, cls):
    """Read `cls` from the app's config (at start: a bad value stops create_app) and keep it for `get`."""
    store = app.extensions.setdefault(EXTENSION, {})
    store[cls] = load(cls, app.config)
    return store[cls]


def reload(app) -> None:
    """Read every installed settings class again from the app config, as a restart would."""
    store = app.extensions.get(EXTENSION, {})
    for cls in list(store):
        store[cls] = load(cls, app.config)


def get(cls):
    """The current app's settings of this class (installed by its feature's `register`)."""
    return of(current_app, cls)


def of(app, cls):
    """`app`'s settings of this class, outside a request or command (tests, the app factory)."""
    return app.extensions[EXTENSION][cls]


def leaves(cls) -> Iterator[tuple[str, dataclasses.Field]]:
    """(config key, field) of every setting `cls` reads, nested settings included."""
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if _is_settings(hints[f.name]):
            yield from leaves(hints[f.name])
        else:
            yield key_of(f), f


def shown(f: dataclasses.Field) -> str:
    """A field's default as docs/configuration.md writes it."""
    if f.metadata.get("shown"):
        return f.metadata["shown"]
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if value is None or value == ():
        return "none"
    if isinstance(value, float):
        return format(value, "g")  # 35.0 is written 35
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, (tuple, list)) and all(isinstance(v, (str, int)) for v in value):
        return ",".join(map(str, value))
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
