"""The fictional patients' answers (afterglow.demo.personas) and what the rules make of
them: the same seed gives the same alert kinds per persona."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from afterglow.core.events import (
    AssessmentCompleted,
    CheckinExpired,
    InfusionCompleted,
    OptedOut,
    PatientEnrolled,
)
from afterglow.core.rules import PatientRuleState, evaluate
from afterglow.demo.cast import FEATURED, demo_patients
from afterglow.demo.personas import Persona, Prompt, checkin_items, classify, reply_to

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_texts_are_read_as_the_question_they_ask_in_english_and_spanish() -> None:
    assert classify("Lakeside check-in: ... Text STOP to opt out.\nQ1/9: Little interest?") == (
        Prompt("start", 1)
    )
    assert classify("Clinica Sol: ... Escriba STOP para cancelar.\nP1/9: Poco interes") == (
        Prompt("start", 1)
    )
    assert classify("Q4/9: Feeling tired? Reply 0 (not at all) to 3") == Prompt("item", 4)
    assert classify("Reminder from X: please answer question 3 of 9 with a number") == Prompt(
        "item", 3
    )
    assert classify("Sorry, please reply with one number for question 1: 0 Not at all") == (
        Prompt("item", 1)
    )
    assert classify("Pregunta final: ... Responda 0 No ha sido dificil") == Prompt("difficulty")
    assert classify("Thank you. Your answers were sent") == Prompt("other")


def test_a_reminder_of_an_answered_question_gets_no_second_answer() -> None:
    items = [1] * 9
    rng = random.Random(1)
    reminder = Prompt("item", 3)
    assert reply_to(Persona.EARLY_RESPONDER, reminder, items, 1, 3, rng) is None
    answer = reply_to(Persona.EARLY_RESPONDER, reminder, items, 1, 2, rng)
    assert answer is not None
    assert (answer.body, answer.through) == ("1", 3)


def test_the_malformed_persona_answers_unusably_first_then_all_nine() -> None:
    items = [0, 1, 2, 3, 0, 1, 2, 3, 0]
    rng = random.Random(3)
    first = reply_to(Persona.MALFORMED, Prompt("start", 1), items, 1, 0, rng)
    assert first is not None
    assert first.through == 0
    assert not first.body.replace(" ", "").isdigit()
    again = reply_to(Persona.MALFORMED, Prompt("item", 1), items, 1, 0, rng)
    assert again is not None
    assert again.body == "0 1 2 3 0 1 2 3 0"


def test_stop_at_the_second_check_in_and_silence_after_the_first() -> None:
    rng = random.Random(0)
    start = Prompt("start", 1)
    stop = reply_to(Persona.TEXTS_STOP, start, [0] * 9, 2, 0, rng)
    assert stop is not None
    assert stop.body == "STOP"
    assert reply_to(Persona.GOES_SILENT, start, [0] * 9, 2, 0, rng) is None
    assert reply_to(Persona.GOES_SILENT, start, [0] * 9, 1, 0, rng) is not None


def test_only_the_crisis_persona_answers_item_9_with_1_and_only_at_its_second_check_in() -> None:
    rng = random.Random(5)
    assert checkin_items(Persona.CRISIS, 18, 14, 1, 2, rng)[8] == 1
    assert checkin_items(Persona.CRISIS, 18, 7, 1, 1, rng)[8] == 0
    assert all(checkin_items(p, 18, 14, 1, 2, rng)[8] == 0 for p in Persona if p != "crisis")


def test_the_same_seed_gives_the_same_alert_kinds_per_persona() -> None:
    first, second = _alert_kinds(seed=7), _alert_kinds(seed=7)
    assert first == second
    # What the README promises, whatever the seed.
    expected = {
        Persona.CRISIS: {"safety"},
        Persona.RELAPSING: {"probable_relapse", "relapse", "worsening", "losing_response"},
        Persona.GOES_SILENT: {"disengaged"},
        Persona.TEXTS_STOP: {"monitoring_stopped"},
        Persona.NON_RESPONDER: set(),
        Persona.SLOW_RESPONDER: set(),
        Persona.SPANISH: set(),
        Persona.MALFORMED: set(),
    }
    assert first == expected
    assert _alert_kinds(seed=99) == expected


def _alert_kinds(seed: int) -> dict[Persona, set[str]]:
    """Every featured patient's first 6 weeks through the rules, without the pipeline: a
    check-in on days 7, 14, 21, ... after the latest infusion, a confirmatory one 5 days
    after a probable relapse, and a booster once it is confirmed (demo/boosters.py)."""
    kinds: dict[Persona, set[str]] = defaultdict(set)
    for patient in demo_patients(seed):
        if patient.patient_id not in FEATURED:
            continue
        pid = patient.patient_id
        state = PatientRuleState(pid)
        infusions = [START]
        found = evaluate(state, PatientEnrolled(pid, START, patient.baseline))
        found += evaluate(state, InfusionCompleted(pid, START))
        due = [START + timedelta(days=d) for d in (7, 14, 21, 28, 35, 42)]
        checkin = 0
        while due:
            at = due.pop(0)
            checkin += 1
            days = (at - infusions[-1]).total_seconds() / 86400
            rng = random.Random(f"items:{seed}:{pid}:{checkin}")
            items = checkin_items(
                patient.persona, patient.baseline, days, len(infusions), checkin, rng
            )
            start = reply_to(patient.persona, Prompt("start", 1), items, checkin, 0, rng)
            if start is not None and start.body == "STOP":
                found += evaluate(state, OptedOut(pid, at))
                break
            if start is None:
                found += evaluate(state, CheckinExpired(pid, at + timedelta(days=3)))
                continue
            now = evaluate(state, AssessmentCompleted(pid, at, tuple(items)))
            found += now
            new = {decision.kind.value for decision in now}
            if "probable_relapse" in new:
                due.insert(0, at + timedelta(days=5))
            if "relapse" in new:
                infusions.append(at)
                evaluate(state, InfusionCompleted(pid, at))
                due = [at + timedelta(days=d) for d in (7, 14)]
        kinds[patient.persona] |= {decision.kind.value for decision in found}
    return dict(kinds)
