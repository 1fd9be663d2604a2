"""Questionnaire definitions: wording, answer scale, LOINC codes and severity bands.

PHQ-9 and GAD-7 are free to reproduce; the copyright line travels with the definition.
Sources: Kroenke, Spitzer & Williams 2001 (PHQ-9 bands); Spitzer et al. 2006 (GAD-7);
LOINC codes as used in the HL7 US Core examples (docs/rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnswerOption:
    value: int
    label: str
    loinc: str


@dataclass(frozen=True, slots=True)
class Item:
    number: int
    text: str
    loinc: str


@dataclass(frozen=True, slots=True)
class SeverityBand:
    low: int
    high: int
    label: str


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    name: str
    stem: str
    panel_loinc: str
    total_loinc: str
    items: tuple[Item, ...]
    answers: tuple[AnswerOption, ...]
    bands: tuple[SeverityBand, ...]
    copyright: str
    # An unscored follow-up item (PHQ-9 item 10): stored with the answers, never summed.
    functional_item: Item | None = None
    functional_answers: tuple[AnswerOption, ...] = ()

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def max_total(self) -> int:
        return self.item_count * max(option.value for option in self.answers)


FREQUENCY_ANSWERS = (
    AnswerOption(0, "Not at all", "LA6568-5"),
    AnswerOption(1, "Several days", "LA6569-3"),
    AnswerOption(2, "More than half the days", "LA6570-1"),
    AnswerOption(3, "Nearly every day", "LA6571-9"),
)

PHQ9 = Instrument(
    code="phq9",
    name="Patient Health Questionnaire-9",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    panel_loinc="44249-1",
    total_loinc="44261-6",
    items=(
        Item(1, "Little interest or pleasure in doing things", "44250-9"),
        Item(2, "Feeling down, depressed, or hopeless", "44255-8"),
        Item(3, "Trouble falling or staying asleep, or sleeping too much", "44259-0"),
        Item(4, "Feeling tired or having little energy", "44254-1"),
        Item(5, "Poor appetite or overeating", "44251-7"),
        Item(
            6,
            "Feeling bad about yourself - or that you are a failure or have let yourself or "
            "your family down",
            "44258-2",
        ),
        Item(
            7,
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "44252-5",
        ),
        Item(
            8,
            "Moving or speaking so slowly that other people could have noticed? Or the "
            "opposite - being so fidgety or restless that you have been moving around a lot "
            "more than usual",
            "44253-3",
        ),
        Item(
            9,
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            "44260-8",
        ),
    ),
    answers=FREQUENCY_ANSWERS,
    bands=(
        SeverityBand(0, 4, "minimal"),
        SeverityBand(5, 9, "mild"),
        SeverityBand(10, 14, "moderate"),
        SeverityBand(15, 19, "moderately severe"),
        SeverityBand(20, 27, "severe"),
    ),
    copyright=(
        "PHQ-9 Copyright (c) Pfizer Inc. All rights reserved. Reproduced with permission; "
        "no permission required to reproduce, translate, display or distribute."
    ),
    functional_item=Item(
        10,
        "How difficult have these problems made it for you to do your work, take care of "
        "things at home, or get along with other people?",
        "69722-7",
    ),
    # Order matters: public code often swaps the last two codes; tests pin this mapping.
    functional_answers=(
        AnswerOption(0, "Not difficult at all", "LA6572-7"),
        AnswerOption(1, "Somewhat difficult", "LA6573-5"),
        AnswerOption(2, "Very difficult", "LA6575-0"),
        AnswerOption(3, "Extremely difficult", "LA6574-3"),
    ),
)

GAD7 = Instrument(
    code="gad7",
    name="Generalized Anxiety Disorder-7",
    stem=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    panel_loinc="69737-5",
    total_loinc="70274-6",
    items=(
        Item(1, "Feeling nervous, anxious, or on edge", "69725-0"),
        Item(2, "Not being able to stop or control worrying", "68509-9"),
        Item(3, "Worrying too much about different things", "69733-4"),
        Item(4, "Trouble relaxing", "69734-2"),
        Item(5, "Being so restless that it is hard to sit still", "69735-9"),
        Item(6, "Becoming easily annoyed or irritable", "69689-8"),
        Item(7, "Feeling afraid, as if something awful might happen", "69736-7"),
    ),
    answers=FREQUENCY_ANSWERS,
    bands=(
        SeverityBand(0, 4, "minimal"),
        SeverityBand(5, 9, "mild"),
        SeverityBand(10, 14, "moderate"),
        SeverityBand(15, 21, "severe"),
    ),
    copyright=(
        "GAD-7 Copyright (c) Pfizer Inc. All rights reserved. Reproduced with permission; "
        "no permission required to reproduce, translate, display or distribute."
    ),
)

INSTRUMENTS: dict[str, Instrument] = {PHQ9.code: PHQ9, GAD7.code: GAD7}

# PHQ-9 item 9 (thoughts of self-harm) drives the safety path; its index is fixed by the form.
PHQ9_SELF_HARM_INDEX = 8
