"""Seniority-tier seat ballot: order by (seniority_date, sha256(f"{seed}:{candidate_id}"), application_id)."""

# How the order is computed (ALGORITHM = "vmo-draw-v2"); published so anyone can recompute it.
#
# 1. Applicants are grouped into tiers by `seniority_date`, oldest first,
#    the way the national test-booking system ranks people who have waited
#    longest (the moment the application was accepted for a first subject 1,
#    to the second, or the last exam for a retake; a cancellation or no-show
#    moves it forward).  Computing it is the caller's job.  In "vmo-draw-v2"
#    it is an instant (ISO 8601 in UTC, whole seconds), so a tier holds the
#    applicants of one same second; in "vmo-draw-v1" (draws stored before) it
#    was a date, and such records still replay.
# 2. Within a tier, applicants are ordered by their lottery key, ascending as a
#    lowercase hex string:
#
#        key = SHA-256( seed + ":" + str(candidate_id) )   # hex digest, lowercase
#
#    where `seed` is the 64-character lowercase hex seed drawn once with
#    `new_seed()` when applications close, and `candidate_id` is written in
#    decimal without padding.  Anyone can recompute a key from a shell:
#
#        printf '%s' "<seed>:<candidate_id>" | sha256sum
#
# 3. The application id is only a final tie-break so the order is total; it
#    never decides anything in practice because candidate ids are unique.
#
# The first `capacity` applicants in this order win a seat; everyone else goes
# onto the waiting list in the same order.  Neither the input order nor the time
# of application is an input, so applying early gives no advantage, and
# `DrawResult.as_record()` + `verify_record()` let anyone replay a draw.

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

ALGORITHM = "vmo-draw-v2"
ALGORITHM_BY_DATE = "vmo-draw-v1"
KEY_FORMULA = 'sha256(seed + ":" + str(candidate_id)), lowercase hex'

_SEED_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Applicant:
    """One application taking part in a draw."""

    application_id: int
    candidate_id: int
    # An aware instant to the second (v2); a date in records of v1.
    seniority_date: date | datetime


@dataclass(frozen=True)
class DrawResult:
    """The outcome of a draw together with everything needed to recompute it."""

    seed: str
    ranking: list[int]
    winners: list[int]
    waitlist: list[int]
    keys: dict[int, str]
    capacity: int = 0
    # Sorted by application id so that two draws over the same applicants
    # compare equal regardless of the order the caller listed them in.
    applicants: tuple[Applicant, ...] = field(default=())

    def as_record(self) -> dict[str, Any]:
        """A JSON-ready record of inputs, seed and result for storage or publication."""
        by_date = bool(self.applicants) and not isinstance(self.applicants[0].seniority_date, datetime)
        return {
            "algorithm": ALGORITHM_BY_DATE if by_date else ALGORITHM,
            "key_formula": KEY_FORMULA,
            "seed": self.seed,
            "capacity": self.capacity,
            "applicants": [
                {
                    "application_id": a.application_id,
                    "candidate_id": a.candidate_id,
                    "seniority_date": _iso(a.seniority_date),
                }
                for a in self.applicants
            ],
            "ranking": list(self.ranking),
            "winners": list(self.winners),
            "waitlist": list(self.waitlist),
            # JSON object keys are strings; keeping them strings here means a
            # record read back from JSON compares equal to a fresh one.
            "keys": {str(app_id): key for app_id, key in sorted(self.keys.items())},
        }


def _iso(seniority: date | datetime) -> str:
    if isinstance(seniority, datetime):
        return seniority.astimezone(timezone.utc).isoformat()
    return seniority.isoformat()


def new_seed() -> str:
    """Draw a fresh 256-bit seed as 64 lowercase hex characters."""
    return secrets.token_hex(32)


def check_seed(seed: object) -> str:
    # Lowercase only: the seed is hashed as text, so "AB" and "ab" would give
    # different keys and make a published seed ambiguous to recompute.
    if not isinstance(seed, str) or not _SEED_RE.fullmatch(seed):
        raise ValueError("seed must be exactly 64 lowercase hex characters")
    return seed


def _check_int(name: str, value: object) -> int:
    # bool is an int subclass; True would format as "True" in the key message.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    return value


def lottery_key(seed: str, candidate_id: int) -> str:
    """Return `sha256(f"{seed}:{candidate_id}")` as lowercase hex."""
    check_seed(seed)
    _check_int("candidate_id", candidate_id)
    # Keyed by candidate rather than application so that withdrawing and
    # re-applying cannot buy a second roll of the dice under the same seed.
    return hashlib.sha256(f"{seed}:{candidate_id}".encode("ascii")).hexdigest()


def _validate(applicants: Iterable[Applicant]) -> list[Applicant]:
    checked: list[Applicant] = []
    seen_applications: set[int] = set()
    seen_candidates: set[int] = set()
    kinds: set[type] = set()
    for applicant in applicants:
        if not isinstance(applicant, Applicant):
            raise ValueError(f"expected Applicant, got {type(applicant).__name__}")
        app_id = _check_int("application_id", applicant.application_id)
        cand_id = _check_int("candidate_id", applicant.candidate_id)
        seniority = applicant.seniority_date
        # An instant must be aware (a naive time is ambiguous across zones) and whole seconds (the
        # published record keeps seconds); a date and an instant cannot be ordered against each other.
        if isinstance(seniority, datetime):
            if seniority.tzinfo is None or seniority.utcoffset() is None or seniority.microsecond:
                raise ValueError(f"seniority_date must be an aware instant in whole seconds, got {seniority!r}")
        elif not isinstance(seniority, date):
            raise ValueError(f"seniority_date must be a date or an instant, got {seniority!r}")
        kinds.add(datetime if isinstance(seniority, datetime) else date)
        if len(kinds) > 1:
            raise ValueError("seniority_date must be all dates or all instants in one draw")
        if app_id in seen_applications:
            raise ValueError(f"duplicate application_id {app_id}")
        if cand_id in seen_candidates:
            # One seat per person: a second application would double the odds.
            raise ValueError(f"duplicate candidate_id {cand_id}")
        seen_applications.add(app_id)
        seen_candidates.add(cand_id)
        checked.append(applicant)
    return checked


def run_draw(applicants: list[Applicant], capacity: int, seed: str) -> DrawResult:
    """Rank applicants by (seniority_date, lottery key, application id) and split at capacity."""
    check_seed(seed)
    _check_int("capacity", capacity)
    if capacity < 0:
        raise ValueError("capacity must be >= 0")
    checked = _validate(applicants)

    keys = {a.application_id: lottery_key(seed, a.candidate_id) for a in checked}
    ordered = sorted(
        checked, key=lambda a: (a.seniority_date, keys[a.application_id], a.application_id)
    )
    ranking = [a.application_id for a in ordered]
    return DrawResult(
        seed=seed,
        ranking=ranking,
        winners=ranking[:capacity],
        waitlist=ranking[capacity:],
        keys=keys,
        capacity=capacity,
        applicants=tuple(sorted(checked, key=lambda a: a.application_id)),
    )


def replay(record: Mapping[str, Any]) -> DrawResult:
    """Re-run the draw from the inputs stored in a record produced by `as_record()`."""
    if record.get("algorithm") not in (ALGORITHM, ALGORITHM_BY_DATE):
        raise ValueError(f"unsupported draw algorithm {record.get('algorithm')!r}")
    parse = date.fromisoformat if record["algorithm"] == ALGORITHM_BY_DATE else datetime.fromisoformat
    applicants = [
        Applicant(
            application_id=item["application_id"],
            candidate_id=item["candidate_id"],
            seniority_date=parse(item["seniority_date"]),
        )
        for item in record["applicants"]
    ]
    return run_draw(applicants, record["capacity"], record["seed"])


def verify_record(record: Mapping[str, Any]) -> bool:
    """True if recomputing the draw from the record's inputs reproduces its stored result."""
    fresh = replay(record).as_record()
    # The applicants are the inputs just replayed, so only their order could
    # differ; everything else must match exactly.  Extra keys a caller stored
    # alongside (row ids, timestamps) are not part of the draw and are ignored.
    return all(record.get(name) == value for name, value in fresh.items() if name != "applicants")
