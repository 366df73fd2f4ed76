"""What a reply to a follow-up says: a verdict (satisfied or dissatisfied), the reason after it, or neither.

People answer the way they talk: `1`, `满意`, `非常满意`, `好`; `2`, `不满意`, `很不满意`, `差`,
often with the reason straight after (`不满意，排队太久`, `2 窗口人太少`). Full-width digits and
letters and any spaces are forgiven (NFKC). Negative words are tried first and the longest word
wins, so `不满意` is never read as `满意`.
"""
import re
import unicodedata
from dataclasses import dataclass

from vmo.followup.models import InboundOutcome

SATISFIED_WORDS = (
    "1", "满意", "非常满意", "很满意", "挺满意", "比较满意", "基本满意", "十分满意", "特别满意", "满意满意",
    "好", "好的", "很好", "非常好", "挺好", "好评", "不错", "很不错", "赞", "点赞", "谢谢", "感谢",
)
DISSATISFIED_WORDS = (
    "2", "不满意", "很不满意", "非常不满意", "十分不满意", "特别不满意", "不太满意", "不是很满意", "不大满意",
    "差", "很差", "太差", "差评", "不好", "很不好", "太慢", "不行",
)
OPT_OUT_WORDS = ("TD", "T", "退订", "取消订阅")
# Between the verdict and the reason: punctuation and spaces of either width.
_SEPARATORS = " ，,。.！!：:；;、-—~～"
_VERDICTS = sorted([(w, InboundOutcome.DISSATISFIED) for w in DISSATISFIED_WORDS]
                   + [(w, InboundOutcome.SATISFIED) for w in SATISFIED_WORDS],
                   key=lambda item: (-len(item[0]), item[1] != InboundOutcome.DISSATISFIED))
_SPACES = re.compile(r"\s+")
# A digit verdict must stand alone: "2 窗口人太少" is a verdict and a reason, "12" or "1号窗口" is not.
_DIGIT = re.compile(r"([12])(?:[\s" + re.escape(_SEPARATORS) + r"]+(.*))?", re.DOTALL)


@dataclass(frozen=True)
class Reply:
    """`verdict`: satisfied, dissatisfied, opted_out or None (a comment); `reason`: the words after it."""
    verdict: str | None
    reason: str | None


def normalize(text: str) -> str:
    """Full-width forms folded (１ -> 1, Ｔ -> T), spaces removed, Latin letters upper case."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).upper()


def parse(text: str) -> Reply:
    value = normalize(text)
    if value in OPT_OUT_WORDS:
        return Reply(InboundOutcome.OPTED_OUT, None)
    digit = _DIGIT.fullmatch(unicodedata.normalize("NFKC", text or "").strip())
    if digit:
        reason = (digit.group(2) or "").strip(_SEPARATORS + " ")
        verdict = InboundOutcome.SATISFIED if digit.group(1) == "1" else InboundOutcome.DISSATISFIED
        return Reply(verdict, reason[:500] or None)
    for word, verdict in _VERDICTS:
        if word.isdigit() or not value.startswith(word):
            continue
        reason = value[len(word):].strip(_SEPARATORS)
        return Reply(verdict, _reason(text, reason) if reason else None)
    return Reply(None, None)


def _reason(original: str, folded: str) -> str:
    """The reason as the person wrote it (their spaces kept), found from its folded form."""
    text = unicodedata.normalize("NFKC", original or "").strip()
    # Walk back from the end of the original to cover exactly the folded reason's characters.
    count, start = 0, len(text)
    target = len(folded)
    while start > 0 and count < target:
        start -= 1
        if not text[start].isspace():
            count += 1
    return text[start:].strip()[:500]
