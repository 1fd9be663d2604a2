"""What a fictional patient answers to a text, given the simulated time: pure.

Trajectories follow the rules' definitions (docs/rules.md): a response is
`2 x total <= baseline`, remission a total <= 4, and a probable relapse a responder whose
total is >= 10 and above half the baseline again. Each persona keeps a margin of several
points around those lines, so the seeded noise never changes which alerts it raises.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Persona(StrEnum):
    EARLY_RESPONDER = "early_responder"  # better within a week, stays well
    RELAPSING = "relapsing"  # responds, relapses around week 3, recovers after a booster
    NON_RESPONDER = "non_responder"  # stays severe
    SLOW_RESPONDER = "slow_responder"  # responds around week 5
    GOES_SILENT = "goes_silent"  # answers the first check-in, then never again
    TEXTS_STOP = "texts_stop"  # answers the first check-in, texts STOP at the second
    CRISIS = "crisis"  # answers item 9 with 1 at the second check-in
    SPANISH = "spanish"  # an early responder who gets and answers the texts in Spanish
    MALFORMED = "malformed"  # answers every first question with something unusable first


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a text from the clinic asks for."""

    kind: str  # "start" (first message), "item" (1-9), "difficulty" (item 10), "other"
    number: int = 0


@dataclass(frozen=True, slots=True)
class Reply:
    body: str
    delay: timedelta  # simulated time between reading the text and answering it
    through: int = 0  # the last item (10: the difficulty question) this reply answers


_ITEM = re.compile(r"\b[QP](\d)/9\b")
_ASKED_AGAIN = re.compile(r"\b(?:question|pregunta) (\d)\b", re.IGNORECASE)
_DIFFICULTY = ("Last question", "Pregunta final", "Not difficult", "No ha sido dificil")
_MALFORMED = ("not sure", "most days I guess", "11", "??", "a bit")


def classify(body: str) -> Prompt:
    """Read a text the way a patient would: which question does it ask, if any."""
    if any(marker in body for marker in _DIFFICULTY):
        return Prompt("difficulty")
    found = _ITEM.search(body) or _ASKED_AGAIN.search(body)
    if found is None:
        return Prompt("other")
    number = int(found.group(1))
    return Prompt("start" if number == 1 and _ITEM.search(body) else "item", number)


def total_at(persona: Persona, baseline: int, days: float, infusions: int) -> int:
    """The PHQ-9 total a persona feels `days` after its latest infusion (the `infusions`-th),
    before noise."""
    if persona is Persona.RELAPSING and infusions == 1:
        if days < 10:
            return baseline - 8  # better, not yet a response (2 x 12 > 20)
        if days < 18:
            return 5  # response, near remission
        return 15  # probable relapse at the week-3 check-in, confirmed 5 days later
    if persona is Persona.NON_RESPONDER:
        return baseline - 1  # never a response, never "severe" (>= 20) even with noise
    if persona in (Persona.SLOW_RESPONDER, Persona.CRISIS):
        return max(4, baseline - int(days // 7) * 3)
    return 3 if days >= 5 else baseline - 6  # early responders, and after a booster


def checkin_items(
    persona: Persona, baseline: int, days: float, infusions: int, checkin: int, rng: random.Random
) -> list[int]:
    """The nine answers of the `checkin`-th check-in (1 = the first)."""
    total = max(0, min(24, total_at(persona, baseline, days, infusions) + rng.choice((-1, 0, 1))))
    items = [0] * 8
    for _ in range(total):
        free = [i for i in range(8) if items[i] < 3]
        items[rng.choice(free)] += 1
    crisis = persona is Persona.CRISIS and checkin == 2
    return [*items, 1 if crisis else 0]


def silent_from(persona: Persona) -> int | None:
    """The check-in from which the persona no longer answers (None: it always does)."""
    return {Persona.GOES_SILENT: 2, Persona.TEXTS_STOP: 3}.get(persona)


def reply_to(
    persona: Persona,
    prompt: Prompt,
    items: list[int],
    checkin: int,
    answered: int,
    rng: random.Random,
) -> Reply | None:
    """The persona's answer to `prompt`, during its `checkin`-th check-in whose answers are
    `items` and of which it answered items up to `answered`; None when it does not answer.
    A reminder of a question already answered is ignored: answering it again would shift
    every later answer by one."""
    silent = silent_from(persona)
    if silent is not None and checkin >= silent:
        return None
    # A while to notice the first text; the next questions come while the phone is in hand.
    minutes = rng.randint(20, 150) if prompt.kind == "start" else rng.randint(1, 6)
    delay = timedelta(minutes=minutes)
    all_nine = Reply(" ".join(str(item) for item in items), delay, 9)
    if persona is Persona.TEXTS_STOP and checkin == 2:
        return Reply("STOP", delay) if prompt.kind == "start" else None
    if prompt.kind == "start":
        if persona is Persona.MALFORMED:
            # Unusable first; the clarification that follows asks question 1 again.
            return Reply(rng.choice(_MALFORMED), delay)
        return all_nine
    if prompt.kind == "item" and answered < prompt.number <= 9:
        if prompt.number == 1:
            return all_nine
        return Reply(str(items[prompt.number - 1]), delay, prompt.number)
    if prompt.kind == "difficulty" and answered == 9:
        return Reply(str(min(3, sum(items) // 7)), delay, 10)
    return None
