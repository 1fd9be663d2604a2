"""A synthetic cohort in the backtest history format (README.md, "Commands").

The trajectories follow the published shape of ketamine treatment for depression: most
patients respond during an induction series of six infusions, many lose the response after
a few weeks (median about 18 days) and come back for boosters; some stop answering, a few
opt out, a few report thoughts of self-harm. Nothing here is real data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from afterglow.core.rules.kinds import AlertKind

INDUCTION_DAYS = (0, 2, 4, 7, 9, 11)
CHECKIN_DAYS = (7, 14, 21, 28, 42, 56, 70, 84, *range(114, 366, 30))
UTC_OFFSETS = (-8, -7, -6, -5, -4)


@dataclass(frozen=True, slots=True)
class CohortShape:
    patients: int = 100
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    enrollment_span_days: int = 90
    response_rate: float = 0.65
    answer_rate: float = 0.85
    opt_out_rate: float = 0.03
    self_harm_rate: float = 0.03
    resolve_rate: float = 0.3
    baseline_given_rate: float = 0.7


def generate_history(shape: CohortShape, seed: int = 7) -> list[dict[str, Any]]:
    """Every patient's events, merged into one list ordered by time (ties keep patient order)."""
    rng = random.Random(seed)
    events: list[tuple[datetime, int, dict[str, Any]]] = []
    order = 0
    for index in range(shape.patients):
        for at, event in _patient_events(rng, shape, f"pt-{index:06d}"):
            events.append((at, order, event))
            order += 1
    events.sort(key=lambda row: (row[0], row[1]))
    return [event for _, _, event in events]


def _patient_events(
    rng: random.Random, shape: CohortShape, patient_id: str
) -> Iterator[tuple[datetime, dict[str, Any]]]:
    zone = timezone(timedelta(hours=rng.choice(UTC_OFFSETS)))
    enrolled = shape.start + timedelta(
        days=rng.uniform(0, shape.enrollment_span_days), hours=rng.uniform(0, 8)
    )
    baseline = rng.randint(12, 26)
    horizon = enrolled + timedelta(days=365)

    def emit(at: datetime, event_type: str, **fields: Any) -> tuple[datetime, dict[str, Any]]:
        local = at.astimezone(zone).replace(microsecond=0)
        return at, {"type": event_type, "patient_id": patient_id, "at": local.isoformat(), **fields}

    enrollment: dict[str, Any] = {}
    if rng.random() < shape.baseline_given_rate:
        enrollment["baseline_phq9"] = baseline
    yield emit(enrolled, "patient_enrolled", **enrollment)
    if "baseline_phq9" not in enrollment:
        yield emit(
            enrolled + timedelta(hours=2), "assessment_completed", items=_items(rng, baseline)
        )

    responds = rng.random() < shape.response_rate
    opt_out_at = (
        enrolled + timedelta(days=rng.uniform(20, 300))
        if rng.random() < shape.opt_out_rate
        else None
    )
    series_start = enrolled + timedelta(days=1, hours=rng.uniform(0, 6))
    # Each series (induction, then boosters on relapse) re-plans the check-ins from its end.
    while series_start < horizon:
        infusions = INDUCTION_DAYS if series_start < enrolled + timedelta(days=2) else (0,)
        for day in infusions:
            yield emit(series_start + timedelta(days=day), "infusion_completed")
        last_infusion = series_start + timedelta(days=infusions[-1])
        relapse_day = rng.lognormvariate(2.9, 0.6)  # median ~18 days
        next_series: datetime | None = None
        streak = 0
        for day in CHECKIN_DAYS:
            due = last_infusion + timedelta(days=day, hours=rng.uniform(0, 3))
            if due >= horizon:
                break
            if opt_out_at is not None and due > opt_out_at:
                yield emit(opt_out_at, "opted_out")
                return
            if rng.random() > shape.answer_rate:
                streak += 1
                yield emit(due + timedelta(hours=72), "checkin_expired")
                continue
            streak = 0
            relapsed = not responds or day > relapse_day
            level = baseline * (rng.uniform(0.7, 1.05) if relapsed else rng.uniform(0.1, 0.45))
            total = max(0, min(27, round(level + rng.gauss(0, 2))))
            items = _items(rng, total)
            if rng.random() < shape.self_harm_rate * (2 if relapsed else 0.5):
                items[8] = max(items[8], rng.choice((1, 1, 2, 3)))
            answered = due + timedelta(minutes=rng.uniform(5, 600))
            fields: dict[str, Any] = {"items": items}
            if rng.random() < 0.5:
                fields["difficulty"] = rng.randint(0, 3)
            yield emit(answered, "assessment_completed", **fields)
            if rng.random() < shape.resolve_rate:
                kind = rng.choice(list(AlertKind)).value
                yield emit(
                    answered + timedelta(hours=rng.uniform(1, 30)), "alert_resolved", kind=kind
                )
            if responds and relapsed and rng.random() < 0.6:
                next_series = answered + timedelta(days=rng.uniform(2, 10))
                break
        if next_series is None:
            return
        series_start = next_series


def _items(rng: random.Random, total: int) -> list[int]:
    """Nine 0-3 answers summing to `total` (item 9 kept low unless set later)."""
    items = [0] * 9
    remaining = max(0, min(24, total))
    while remaining:
        index = rng.randrange(8)
        if items[index] < 3:
            items[index] += 1
            remaining -= 1
    return items
