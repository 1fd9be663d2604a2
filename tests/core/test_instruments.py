"""PHQ-9 / GAD-7 definitions against docs/rules.md (wording, LOINC, copyright)."""

from __future__ import annotations

import pytest

from afterglow.core.instruments import (
    GAD7,
    INSTRUMENTS,
    PHQ9,
    PHQ9_SELF_HARM_INDEX,
)

PHQ9_ITEM_LOINC = (
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
)


def test_phq9_has_nine_scored_items_numbered_in_order() -> None:
    assert PHQ9.item_count == 9
    assert [item.number for item in PHQ9.items] == list(range(1, 10))
    assert PHQ9.max_total == 27


def test_phq9_stem_is_the_official_wording() -> None:
    assert PHQ9.stem == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "Little interest or pleasure in doing things"),
        (2, "Feeling down, depressed, or hopeless"),
        (3, "Trouble falling or staying asleep, or sleeping too much"),
        (4, "Feeling tired or having little energy"),
        (5, "Poor appetite or overeating"),
        (9, "Thoughts that you would be better off dead or of hurting yourself in some way"),
    ],
)
def test_phq9_item_wording_spot_checks(number: int, text: str) -> None:
    assert PHQ9.items[number - 1].text == text


def test_phq9_long_items_keep_their_full_meaning() -> None:
    item6 = PHQ9.items[5].text
    assert item6.startswith("Feeling bad about yourself")
    assert "failure" in item6
    assert "let yourself or your family down" in item6
    item7 = PHQ9.items[6].text
    assert "reading the newspaper or watching television" in item7
    item8 = PHQ9.items[7].text
    assert item8.startswith("Moving or speaking so slowly that other people could have noticed")
    assert "fidgety or restless" in item8
    assert "moving around a lot more than usual" in item8


def test_phq9_answer_scale_labels_values_and_loinc() -> None:
    assert [(a.value, a.label, a.loinc) for a in PHQ9.answers] == [
        (0, "Not at all", "LA6568-5"),
        (1, "Several days", "LA6569-3"),
        (2, "More than half the days", "LA6570-1"),
        (3, "Nearly every day", "LA6571-9"),
    ]


def test_phq9_panel_and_total_loinc() -> None:
    assert PHQ9.panel_loinc == "44249-1"
    assert PHQ9.total_loinc == "44261-6"


def test_phq9_item_loinc_codes_in_item_order() -> None:
    assert tuple(item.loinc for item in PHQ9.items) == PHQ9_ITEM_LOINC


def test_the_self_harm_index_points_at_item_9() -> None:
    item = PHQ9.items[PHQ9_SELF_HARM_INDEX]
    assert item.number == 9
    assert item.loinc == "44260-8"
    assert "hurting yourself" in item.text


def test_phq9_item_10_is_the_unscored_difficulty_question() -> None:
    item10 = PHQ9.functional_item
    assert item10 is not None
    assert item10.number == 10
    assert item10.loinc == "69722-7"
    assert item10.text.startswith("How difficult have these problems made it for you")
    assert "get along with other people" in item10.text
    # Not among the scored items, so it can never reach the total.
    assert item10.loinc not in {item.loinc for item in PHQ9.items}
    assert all(item.number != 10 for item in PHQ9.items)


def test_phq9_item_10_answer_codes_are_pinned() -> None:
    # Public code often swaps the last two codes (very/extremely).
    mapping = {a.loinc: (a.value, a.label.lower()) for a in PHQ9.functional_answers}
    assert set(mapping) == {"LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3"}
    assert mapping["LA6572-7"][0] == 0
    assert "not difficult" in mapping["LA6572-7"][1]
    assert mapping["LA6573-5"][0] == 1
    assert "somewhat" in mapping["LA6573-5"][1]
    assert mapping["LA6575-0"][0] == 2
    assert mapping["LA6575-0"][1].startswith("very")
    assert mapping["LA6574-3"][0] == 3
    assert mapping["LA6574-3"][1].startswith("extremely")


def test_phq9_copyright_line_travels_with_the_definition() -> None:
    assert "PHQ-9" in PHQ9.copyright
    assert "Pfizer" in PHQ9.copyright
    assert "Copyright" in PHQ9.copyright or "©" in PHQ9.copyright


def test_gad7_definition() -> None:
    assert GAD7.panel_loinc == "69737-5"
    assert GAD7.total_loinc == "70274-6"
    assert GAD7.item_count == 7
    assert GAD7.max_total == 21
    assert [a.value for a in GAD7.answers] == [0, 1, 2, 3]
    texts = [item.text.lower() for item in GAD7.items]
    assert "nervous" in texts[0]
    assert "on edge" in texts[0]
    assert "stop or control worrying" in texts[1]
    assert "trouble relaxing" in texts[3]
    assert "restless" in texts[4]
    assert "irritable" in texts[5]
    assert "afraid" in texts[6]
    assert "awful" in texts[6]
    assert "Pfizer" in GAD7.copyright
    assert GAD7.functional_item is None


def test_gad7_bands() -> None:
    assert [(b.low, b.high, b.label) for b in GAD7.bands] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 21, "severe"),
    ]


@pytest.mark.parametrize("instrument", [PHQ9, GAD7], ids=lambda i: i.code)
def test_bands_cover_every_total_exactly_once(instrument) -> None:
    for total in range(instrument.max_total + 1):
        matching = [b for b in instrument.bands if b.low <= total <= b.high]
        assert len(matching) == 1, total


def test_instrument_registry() -> None:
    assert INSTRUMENTS["phq9"] is PHQ9
    assert INSTRUMENTS["gad7"] is GAD7
