"""Person-facing texts: Chinese templates declared once per feature, and what a text costs in SMS segments.

Each feature keeps its texts in its own `notifications.py` as `Template`s. A template is the body
only: the outbox puts the office's signature (`VMO_SMS_SIGNATURE`, default 【南川车管所】) in front
when the message is queued, so no feature writes it. Every template registers itself with the
longest realistic values it can be filled with, and one test renders them all and checks the
language and the budget (tests/test_texts.py).
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field

from flask import has_app_context

from vmo import settings

DEFAULT_SIGNATURE = "【南川车管所】"
# GSM 03.38 does not carry Chinese: a UCS-2 message holds 70 characters, and each part of a
# concatenated one 67 (3 characters' worth go to the reassembly header).
SINGLE_SEGMENT_CHARS = 70
MULTI_SEGMENT_CHARS = 67
# A follow-up must fit one segment, signature included (the office pays per segment).
FOLLOW_UP_BUDGET = SINGLE_SEGMENT_CHARS

REGISTRY: list[Template] = []


def segments(text: str) -> int:
    """Billed SMS segments for `text` (UCS-2: 70 characters in one, 67 in each of several)."""
    n = len(text)
    if n <= SINGLE_SEGMENT_CHARS:
        return 1 if n else 0
    return math.ceil(n / MULTI_SEGMENT_CHARS)


def signed(body: str, signature: str = DEFAULT_SIGNATURE) -> str:
    """The text as the person receives it: the signature first, then the body."""
    return f"{signature}{body}"


def signature() -> str:
    """The configured signature (`VMO_SMS_SIGNATURE`); the default outside an app."""
    if has_app_context():
        from vmo.notify.settings import SmsSettings  # it imports this module's default

        return settings.get(SmsSettings).signature or DEFAULT_SIGNATURE
    return DEFAULT_SIGNATURE


# A body that still opens with a signature of its own (e.g. the office's long name in 【】) loses
# it: the person sees exactly one signature, the configured one.
_OWN_SIGNATURE = re.compile(r"^\s*【[^】]{1,40}】")


def as_sent(body: str) -> str:
    """The body as it goes out: the configured signature in front, any signature of its own removed."""
    return signed(_OWN_SIGNATURE.sub("", body or "", count=1), signature())


# Latin letters may appear only inside values the person needs as they are (plates, codes, VINs,
# licence classes); the template's own words must be Chinese.
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Template:
    """One text: `text` is a `str.format` template of the body (no signature)."""
    key: str
    text: str
    worst: dict = field(default_factory=dict, compare=False)
    budget: int | None = None
    # The module that declared it (e.g. "vmo.followup.notifications"), to check every feature has its texts.
    module: str = field(default="", compare=False)

    def render(self, **values) -> str:
        return self.text.format(**values)

    def worst_case(self, signature: str = DEFAULT_SIGNATURE) -> str:
        """The longest text this template sends, signature included."""
        return signed(self.render(**self.worst), signature)

    def english_words(self) -> list[str]:
        """Latin words in the template's own wording (placeholders removed)."""
        return _LATIN_WORD.findall(re.sub(r"\{[^}]*\}", "", self.text))


def template(key: str, text: str, *, worst: dict, budget: int | None = None) -> Template:
    """Declare a text (module level, in a feature's notifications.py) and register it for the checks."""
    tpl = Template(key, text, worst, budget, sys._getframe(1).f_globals.get("__name__", ""))
    if any(t.key == key for t in REGISTRY):
        raise ValueError(f"text {key!r} is declared twice")
    REGISTRY.append(tpl)
    return tpl
