"""Independent reference implementation (test oracle) of the Afterglow alert rules.

Implements the rules of docs/rules.md over backtest events (docs/clinics.md),
for differential testing against the production rule engine.  It is written on purpose
in a different style from an incremental state machine:

* every patient keeps the full list of their events (``history``);
* for every new event the needed facts (baseline, previous, responder, nadir, relapse
  phase, last actually-raised P1/P2 alert, expiry streak) are recomputed by scanning
  that history from the beginning;
* the alert lifecycle (open alerts, resolution, 7-day suppression) is an explicit
  ledger of alert records that is searched on every match.

The only memo is the baseline *as of* each history entry: it is a pure function of the
history prefix ending at that entry, computed once when the entry arrives, so that the
relapse phase can be replayed from scratch without going cubic.

Usage::

    reference_alerts(events)  # -> [{"patient_id", "kind", "priority", "at"}, ...]

Run this module directly to execute its hand-worked self-checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

PRIORITY: dict[str, str] = {
    "safety": "P1",
    "severe": "P2",
    "worsening": "P2",
    "losing_response": "P2",
    "probable_relapse": "P2",
    "relapse": "P2",
    "missed_high_risk": "P2",
    "monitoring_stopped": "P2",
    "disengaged": "P3",
}

SUPPRESSION = timedelta(days=7)
RELAPSE_CONFIRM_MIN = timedelta(days=5)
RELAPSE_CONFIRM_MAX = timedelta(days=15)
HIGH_RISK_WINDOW = timedelta(days=14)
FOLLOW_UP = timedelta(days=365)

Phase = Literal["none", "responder", "probable", "relapsed"]
Decision = Literal["raise", "update", "suppress"]


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    type: str
    patient_id: str
    at: datetime
    at_text: str
    baseline_phq9: int | None
    items: tuple[int, ...]
    kind: str | None

    @property
    def total(self) -> int:
        return sum(self.items)

    @property
    def is_assessment(self) -> bool:
        return self.type == "assessment_completed"


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # input is promised valid; be loud if it is not
        raise ValueError(f"timestamp without UTC offset: {text!r}")
    return moment


def to_event(raw: Mapping[str, Any]) -> Event:
    baseline = raw.get("baseline_phq9")
    items = raw.get("items")
    kind = raw.get("kind")
    return Event(
        type=str(raw["type"]),
        patient_id=str(raw["patient_id"]),
        at=parse_time(str(raw["at"])),
        at_text=str(raw["at"]),
        baseline_phq9=int(baseline) if baseline is not None else None,
        items=tuple(int(v) for v in items) if items is not None else (),
        kind=str(kind) if kind is not None else None,
    )


@dataclass(frozen=True)
class Entry:
    """One history entry: the event plus the baseline as of the prefix ending here."""

    event: Event
    baseline: int | None


# ------------------------------------------------------------ facts from history scans


def first_infusion_at(history: Sequence[Entry]) -> datetime | None:
    for entry in history:
        if entry.event.type == "infusion_completed":
            return entry.event.at
    return None


def baseline_from_scratch(history: Sequence[Entry], current: Event) -> int | None:
    """Baseline as of ``history + [current]`` (computed without any memo)."""
    events = [entry.event for entry in history] + [current]
    enrolled = [
        e.baseline_phq9
        for e in events
        if e.type == "patient_enrolled" and e.baseline_phq9 is not None
    ]
    if enrolled:
        return enrolled[-1]
    infusions = [e.at for e in events if e.type == "infusion_completed"]
    if not infusions:
        return None
    first = infusions[0]
    pre_treatment = [e.total for e in events if e.is_assessment and e.at <= first]
    return pre_treatment[-1] if pre_treatment else None


def is_after_first_infusion(history: Sequence[Entry], event: Event) -> bool:
    first = first_infusion_at(history)
    return first is not None and event.at > first


def meets_response(total: int, baseline: int | None) -> bool:
    return total <= 4 or (baseline is not None and baseline >= 10 and 2 * total <= baseline)


def meets_relapse_criterion(total: int, baseline: int | None) -> bool:
    return total >= 10 and (baseline is None or 2 * total > baseline)


def post_treatment_assessments(history: Sequence[Entry]) -> list[Entry]:
    """Assessments strictly after the first infusion, in history order."""
    first = first_infusion_at(history)
    if first is None:
        return []
    return [e for e in history if e.event.is_assessment and e.event.at > first]


def previous_assessment(history: Sequence[Entry]) -> Event | None:
    """Most recent assessment in ``history`` (the current event is not in it)."""
    for entry in reversed(history):
        if entry.event.is_assessment:
            return entry.event
    return None


def nadir(history: Sequence[Entry]) -> int | None:
    """Lowest total among the earlier post-treatment assessments."""
    totals = [entry.event.total for entry in post_treatment_assessments(history)]
    return min(totals) if totals else None


def is_responder(history: Sequence[Entry]) -> bool:
    """True once any post-treatment assessment (with its baseline then) met response."""
    return any(
        meets_response(entry.event.total, entry.baseline)
        for entry in post_treatment_assessments(history)
    )


@dataclass(frozen=True)
class PhaseStep:
    phase: Phase
    since: datetime | None  # start of the current probable relapse
    signal: str | None  # "probable_relapse" / "relapse" match raised by this assessment


def replay_relapse_phase(history: Sequence[Entry]) -> list[PhaseStep]:
    """Replays the relapse state machine over all post-treatment assessments.

    Returns one step per post-treatment assessment, in order (empty if none).
    """
    steps: list[PhaseStep] = []
    phase: Phase = "none"
    since: datetime | None = None
    for entry in post_treatment_assessments(history):
        at = entry.event.at
        total = entry.event.total
        response = meets_response(total, entry.baseline)
        relapse = meets_relapse_criterion(total, entry.baseline)
        signal: str | None = None
        if phase == "none":
            if response:
                phase = "responder"
        elif phase == "responder":
            if relapse:
                phase, since, signal = "probable", at, "probable_relapse"
        elif phase == "probable":
            assert since is not None
            if relapse:
                delta = at - since
                if RELAPSE_CONFIRM_MIN <= delta <= RELAPSE_CONFIRM_MAX:
                    phase, since, signal = "relapsed", None, "relapse"
                elif delta > RELAPSE_CONFIRM_MAX:
                    since, signal = at, "probable_relapse"
                # delta < 5 days: stay, no alert
            else:
                phase, since = "responder", None
        elif phase == "relapsed" and response:
            phase = "responder"
        steps.append(PhaseStep(phase, since, signal))
    return steps


def current_phase(history: Sequence[Entry]) -> Phase:
    steps = replay_relapse_phase(history)
    return steps[-1].phase if steps else "none"


def expiry_streak(history: Sequence[Entry]) -> int:
    """Expired check-ins since the last completed assessment (or since the start)."""
    count = 0
    for entry in reversed(history):
        if entry.event.is_assessment:
            break
        if entry.event.type == "checkin_expired":
            count += 1
    return count


# ---------------------------------------------------------------------- alert ledger


@dataclass
class AlertRecord:
    patient_id: str
    kind: str
    priority: str
    at: datetime
    at_text: str
    resolved_at: datetime | None = None


class Ledger:
    """Every alert actually raised (printed), with its resolution time if resolved."""

    def __init__(self) -> None:
        self.records: list[AlertRecord] = []

    def of(self, patient_id: str, kind: str) -> list[AlertRecord]:
        return [r for r in self.records if r.patient_id == patient_id and r.kind == kind]

    def decide(self, patient_id: str, kind: str, at: datetime) -> Decision:
        if kind == "safety":
            return "raise"
        same = self.of(patient_id, kind)
        if any(r.resolved_at is None for r in same):
            return "update"
        if any(r.resolved_at is not None and at < r.resolved_at + SUPPRESSION for r in same):
            return "suppress"
        return "raise"

    def resolve(self, patient_id: str, kind: str, at: datetime) -> None:
        for record in self.of(patient_id, kind):
            if record.resolved_at is None:
                record.resolved_at = at

    def last_raised_p1_p2(self, patient_id: str) -> AlertRecord | None:
        mine = [
            r for r in self.records if r.patient_id == patient_id and r.priority in ("P1", "P2")
        ]
        return mine[-1] if mine else None


# ------------------------------------------------------------------------- the rules


def matches_for(history: Sequence[Entry], current: Entry, ledger: Ledger) -> list[str]:
    """Alert kinds matched by ``current`` (``history`` excludes it), in table order."""
    event = current.event
    full = [*history, current]
    kinds: list[str] = []

    if event.is_assessment:
        total = event.total
        previous = previous_assessment(history)
        if event.items[8] >= 1:
            kinds.append("safety")
        if total >= 20 and (previous is None or previous.total < 20):
            kinds.append("severe")
        if previous is not None and total - previous.total >= 5:
            kinds.append("worsening")
        low = nadir(history)
        if is_responder(full) and low is not None and total - low >= 6:
            kinds.append("losing_response")
        if is_after_first_infusion(history, event):
            signal = replay_relapse_phase(full)[-1].signal
            if signal is not None:
                kinds.append(signal)

    elif event.type == "checkin_expired":
        last = ledger.last_raised_p1_p2(event.patient_id)
        recent = last is not None and event.at - last.at <= HIGH_RISK_WINDOW
        if current_phase(history) == "probable" or recent:
            kinds.append("missed_high_risk")
        if expiry_streak(full) == 2:
            kinds.append("disengaged")

    elif event.type == "opted_out":
        infusions = [e.event.at for e in history if e.event.type == "infusion_completed"]
        if any(timedelta(0) <= event.at - inf <= FOLLOW_UP for inf in infusions):
            kinds.append("monitoring_stopped")

    return kinds


def reference_alerts(events: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Alerts raised (printed) for a backtest event history, in raise order."""
    histories: dict[str, list[Entry]] = {}
    ledger = Ledger()
    out: list[dict[str, str]] = []
    for raw in events:
        event = to_event(raw)
        history = histories.setdefault(event.patient_id, [])
        current = Entry(event, baseline_from_scratch(history, event))

        if event.type == "alert_resolved":
            assert event.kind is not None
            ledger.resolve(event.patient_id, event.kind, event.at)

        for kind in matches_for(history, current, ledger):
            if ledger.decide(event.patient_id, kind, event.at) != "raise":
                continue
            priority = PRIORITY[kind]
            ledger.records.append(
                AlertRecord(event.patient_id, kind, priority, event.at, event.at_text)
            )
            out.append(
                {
                    "patient_id": event.patient_id,
                    "kind": kind,
                    "priority": priority,
                    "at": event.at_text,
                }
            )

        history.append(current)
    return out


# ------------------------------------------------------------------------ self-check


def _ev(patient: str, type_: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "patient_id": patient, "at": at, **fields}


def _a(patient: str, at: str, items: list[int]) -> dict[str, Any]:
    return _ev(patient, "assessment_completed", at, items=items)


def _alert(patient: str, kind: str, at: str) -> tuple[str, str, str, str]:
    return (patient, kind, PRIORITY[kind], at)


def _check(name: str, events: list[dict[str, Any]], expected: list[tuple[str, ...]]) -> None:
    got = [(a["patient_id"], a["kind"], a["priority"], a["at"]) for a in reference_alerts(events)]
    assert got == expected, f"{name}:\n got      {got}\n expected {expected}"
    print(f"ok  {name}: {len(got)} alerts")


def _self_check() -> None:
    # 1. Baseline from a pre-treatment assessment; responder -> probable -> relapsed;
    #    A1/A2/A4/A5/A6 on assessments; A7 after a raised P2; A9 once per streak.
    p = "p1"
    _check(
        "relapse path",
        [
            _ev(p, "patient_enrolled", "2024-01-01T00:00:00Z"),
            # total 20, no previous -> A2 severe (pre-treatment)
            _a(p, "2024-01-01T10:00:00Z", [3, 3, 3, 3, 2, 2, 2, 2, 0]),
            _ev(p, "infusion_completed", "2024-01-02T00:00:00+00:00"),
            # total 8, baseline 20, 16 <= 20 -> responder; nothing raised
            _a(p, "2024-01-09T00:00:00Z", [1, 1, 1, 1, 1, 1, 1, 1, 0]),
            # total 11, item9=1 -> A1; 11>=10 and 22>20 -> probable, A5
            _a(p, "2024-01-16T00:00:00Z", [2, 1, 1, 1, 1, 1, 1, 2, 1]),
            # total 12, 2 days after probable -> stay; nadir 8, 12-8=4 -> no A4
            _a(p, "2024-01-18T00:00:00Z", [2, 2, 2, 1, 1, 1, 1, 2, 0]),
            # total 15, 7 days after probable -> relapsed, A6; 15-8=7 -> A4 (before A6)
            _a(p, "2024-01-23T00:00:00Z", [2, 2, 2, 2, 2, 2, 1, 2, 0]),
            # 2 days after raised A6 -> A7; streak 1
            _ev(p, "checkin_expired", "2024-01-25T00:00:00Z"),
            # A7 open -> update; streak 2 -> A9
            _ev(p, "checkin_expired", "2024-01-28T00:00:00Z"),
            # A7 update; streak 3 -> no A9
            _ev(p, "checkin_expired", "2024-01-31T00:00:00Z"),
            _ev(p, "alert_resolved", "2024-01-31T00:00:00Z", kind="disengaged"),
            # streak 4, A9 not open and R + 7 days reached -> still no A9 (once per streak);
            # 13 days after the raised A7 -> A7 matches, open -> update
            _ev(p, "checkin_expired", "2024-02-07T00:00:00Z"),
        ],
        [
            _alert(p, "severe", "2024-01-01T10:00:00Z"),
            _alert(p, "safety", "2024-01-16T00:00:00Z"),
            _alert(p, "probable_relapse", "2024-01-16T00:00:00Z"),
            _alert(p, "losing_response", "2024-01-23T00:00:00Z"),
            _alert(p, "relapse", "2024-01-23T00:00:00Z"),
            _alert(p, "missed_high_risk", "2024-01-25T00:00:00Z"),
            _alert(p, "disengaged", "2024-01-28T00:00:00Z"),
        ],
    )

    # 2. Lifecycle: safety never deduplicated/suppressed, 7-day suppression boundary,
    #    resolve with nothing open ignored, updates not printed; A8 365-day boundary.
    p, q = "p2", "p3"
    _check(
        "lifecycle",
        [
            _ev(p, "patient_enrolled", "2024-02-01T00:00:00Z", baseline_phq9=12),
            _ev(p, "infusion_completed", "2024-02-01T12:00:00Z"),
            _ev(q, "infusion_completed", "2024-01-01T00:00:00Z"),
            # total 21, item9=1 -> A1 + A2 (no previous); not a responder yet
            _a(p, "2024-02-02T00:00:00Z", [3, 3, 3, 3, 3, 2, 2, 1, 1]),
            # total 22 -> A1 again (never deduplicated); previous 21 >= 20 -> no A2
            _a(p, "2024-02-03T00:00:00Z", [3, 3, 3, 3, 3, 3, 2, 1, 1]),
            # closes severe; severe suppressed until 2024-02-11T00:00Z
            _ev(p, "alert_resolved", "2024-02-04T00:00:00Z", kind="severe"),
            # total 5, baseline 12 (enrollment), 10 <= 12 -> responder
            _a(p, "2024-02-05T00:00:00Z", [1, 1, 1, 1, 1, 0, 0, 0, 0]),
            # total 20: A2 suppressed; A3 20-5=15; A4 nadir 5 -> 15; A5 (40 > 12)
            _a(p, "2024-02-06T00:00:00Z", [3, 3, 3, 3, 2, 2, 2, 2, 0]),
            # closes both open safety alerts, no suppression
            _ev(p, "alert_resolved", "2024-02-07T00:00:00Z", kind="safety"),
            # total 1, item9=1 -> A1 raised; probable -> responder
            _a(p, "2024-02-08T00:00:00Z", [0, 0, 0, 0, 0, 0, 0, 0, 1]),
            # no open severe -> ignored entirely (does not restart suppression)
            _ev(p, "alert_resolved", "2024-02-08T01:00:00Z", kind="severe"),
            # total 20 exactly at R + 7 days -> A2 raised; A3/A4/A5 open -> updates
            _a(p, "2024-02-11T00:00:00Z", [3, 3, 3, 3, 2, 2, 2, 2, 0]),
            # q: 365 days + 1 s after the infusion (2024 is a leap year) -> no A8
            _ev(q, "opted_out", "2024-12-31T00:00:01Z"),
            # p: exactly 365 days after the infusion -> A8
            _ev(p, "opted_out", "2025-01-31T12:00:00Z"),
            # opt-out without any infusion -> nothing
            _ev("p9", "opted_out", "2025-01-31T12:00:00Z"),
        ],
        [
            _alert(p, "safety", "2024-02-02T00:00:00Z"),
            _alert(p, "severe", "2024-02-02T00:00:00Z"),
            _alert(p, "safety", "2024-02-03T00:00:00Z"),
            _alert(p, "worsening", "2024-02-06T00:00:00Z"),
            _alert(p, "losing_response", "2024-02-06T00:00:00Z"),
            _alert(p, "probable_relapse", "2024-02-06T00:00:00Z"),
            _alert(p, "safety", "2024-02-08T00:00:00Z"),
            _alert(p, "severe", "2024-02-11T00:00:00Z"),
            _alert(p, "monitoring_stopped", "2025-01-31T12:00:00Z"),
        ],
    )

    # 3. Assessment at the infusion's time is pre-treatment baseline; probable restarts
    #    after > 15 days; A7 by probable phase and by the 14-day window (boundaries);
    #    A9 once per streak, reset by an assessment, open A9 absorbs a new streak.
    p, r = "p4", "p5"
    _check(
        "probable restart and engagement",
        [
            _ev(p, "infusion_completed", "2024-03-01T00:00:00Z"),
            # total 16 at the infusion's time -> pre-treatment, baseline 16
            _a(p, "2024-03-01T00:00:00Z", [2, 2, 2, 2, 2, 2, 2, 2, 0]),
            # total 8, 16 <= 16 -> responder
            _a(p, "2024-03-08T00:00:00Z", [1, 1, 1, 1, 1, 1, 1, 1, 0]),
            # total 10, 20 > 16 -> probable(03-15), A5; nadir 8 (03-01 excluded) -> no A4
            _a(p, "2024-03-15T00:00:00Z", [2, 2, 1, 1, 1, 1, 1, 1, 0]),
            # probable -> A7; streak 1
            _ev(p, "checkin_expired", "2024-03-20T00:00:00Z"),
            # A5 closed, suppressed until 03-28
            _ev(p, "alert_resolved", "2024-03-21T00:00:00Z", kind="probable_relapse"),
            # total 10, 17 days after probable -> restart, A5 raised (after suppression)
            _a(p, "2024-04-01T00:00:00Z", [2, 2, 1, 1, 1, 1, 1, 1, 0]),
            # A7 open -> update; streak 1 (reset by the assessment)
            _ev(p, "checkin_expired", "2024-04-05T00:00:00Z"),
            # A7 closed, suppressed until 04-13
            _ev(p, "alert_resolved", "2024-04-06T00:00:00Z", kind="missed_high_risk"),
            # A7 suppressed; streak 2 -> A9
            _ev(p, "checkin_expired", "2024-04-09T00:00:00Z"),
            _ev(p, "alert_resolved", "2024-04-10T00:00:00Z", kind="disengaged"),
            # A7 suppressed; streak 3 -> no A9 (once per streak)
            _ev(p, "checkin_expired", "2024-04-12T00:00:00Z"),
            # total 3 -> back to responder; streak reset
            _a(p, "2024-04-13T00:00:00Z", [1, 1, 1, 0, 0, 0, 0, 0, 0]),
            # responder; last raised P1/P2 = A5 at 04-01, exactly 14 days -> A7 raised
            _ev(p, "checkin_expired", "2024-04-15T00:00:00Z"),
            _ev(r, "infusion_completed", "2024-05-01T00:00:00Z"),
            # total 1, item9=1 -> A1 (responder, remission)
            _a(r, "2024-05-02T00:00:00Z", [0, 0, 0, 0, 0, 0, 0, 0, 1]),
            # 14 days + 1 s after the A1 -> no A7; streak 1
            _ev(r, "checkin_expired", "2024-05-16T00:00:01Z"),
            # streak 2 -> A9
            _ev(r, "checkin_expired", "2024-05-17T00:00:00Z"),
            _a(r, "2024-05-18T00:00:00Z", [0, 0, 0, 0, 0, 0, 0, 0, 0]),
            _ev(r, "checkin_expired", "2024-05-19T00:00:00Z"),
            # new streak reaches 2 but A9 still open -> update, not printed
            _ev(r, "checkin_expired", "2024-05-20T00:00:00Z"),
        ],
        [
            _alert(p, "probable_relapse", "2024-03-15T00:00:00Z"),
            _alert(p, "missed_high_risk", "2024-03-20T00:00:00Z"),
            _alert(p, "probable_relapse", "2024-04-01T00:00:00Z"),
            _alert(p, "disengaged", "2024-04-09T00:00:00Z"),
            _alert(p, "missed_high_risk", "2024-04-15T00:00:00Z"),
            _alert(r, "safety", "2024-05-02T00:00:00Z"),
            _alert(r, "disengaged", "2024-05-17T00:00:00Z"),
        ],
    )

    # 4. Enrollment baseline beats the pre-treatment assessment and survives a later
    #    enrollment without one; < 5 days stays probable; exactly 15 days -> relapse;
    #    relapsed until response; open A5 absorbs a new probable relapse.
    p = "p6"
    _check(
        "enrollment baseline and relapse boundaries",
        [
            _ev(p, "patient_enrolled", "2024-06-01T00:00:00Z", baseline_phq9=20),
            _a(p, "2024-06-01T01:00:00Z", [1, 1, 1, 1, 1, 1, 0, 0, 0]),  # total 6
            _ev(p, "patient_enrolled", "2024-06-01T02:00:00Z"),  # keeps baseline 20
            _ev(p, "infusion_completed", "2024-06-02T00:00:00Z"),
            # total 10, 20 <= 20 -> responder (with baseline 6 it would not be)
            _a(p, "2024-06-09T00:00:00Z", [2, 2, 1, 1, 1, 1, 1, 1, 0]),
            # total 11, 22 > 20 -> probable(06-12), A5
            _a(p, "2024-06-12T00:00:00Z", [2, 2, 2, 1, 1, 1, 1, 1, 0]),
            # total 12, 4 days -> stay
            _a(p, "2024-06-16T00:00:00Z", [2, 2, 2, 2, 1, 1, 1, 1, 0]),
            # total 12, exactly 15 days after 06-12 -> relapsed, A6
            _a(p, "2024-06-27T00:00:00Z", [2, 2, 2, 2, 1, 1, 1, 1, 0]),
            # relapsed, criterion met again -> nothing
            _a(p, "2024-07-20T00:00:00Z", [2, 2, 2, 2, 1, 1, 1, 1, 0]),
            # total 4 -> meets response -> responder
            _a(p, "2024-07-21T00:00:00Z", [1, 1, 1, 1, 0, 0, 0, 0, 0]),
            # total 11: A3 (7), A4 (nadir 4 -> 7), A5 matches but is open -> update
            _a(p, "2024-07-22T00:00:00Z", [2, 2, 2, 1, 1, 1, 1, 1, 0]),
        ],
        [
            _alert(p, "probable_relapse", "2024-06-12T00:00:00Z"),
            _alert(p, "relapse", "2024-06-27T00:00:00Z"),
            _alert(p, "worsening", "2024-07-22T00:00:00Z"),
            _alert(p, "losing_response", "2024-07-22T00:00:00Z"),
        ],
    )


if __name__ == "__main__":
    _self_check()
