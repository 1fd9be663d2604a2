"""Acknowledgment codes (4 digits, deterministic, never shared by one clinician's open
alerts) and reading what a clinician texts back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from afterglow.core.alerting import ClinicianReply, ReplyKind, ack_code_for, parse_clinician_reply

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, database=None)


def test_the_code_is_four_digits_and_the_same_for_the_same_inputs() -> None:
    code = ack_code_for("3f9a0c1d2e4b5a69", ())
    assert len(code) == 4
    assert code.isdigit()
    assert 1000 <= int(code) <= 9999
    assert ack_code_for("3f9a0c1d2e4b5a69", ()) == code
    assert ack_code_for("3f9a0c1d2e4b5a69", ["0000"]) == code


def test_a_taken_code_moves_to_the_next_free_one() -> None:
    code = ack_code_for("a-1", ())
    following = str(1000 + (int(code) - 1000 + 1) % 9000)
    after_that = str(1000 + (int(code) - 1000 + 2) % 9000)
    assert ack_code_for("a-1", [code]) == following
    assert ack_code_for("a-1", {code, following}) == after_that


def test_probing_wraps_from_9999_to_1000() -> None:
    # Find an alert id whose natural code is 9999 (deterministic, so the search is too).
    alert_id = next(f"a-{n}" for n in range(200_000) if ack_code_for(f"a-{n}", ()) == "9999")
    assert ack_code_for(alert_id, ["9999"]) == "1000"


def test_no_free_code_is_an_error() -> None:
    everything = [str(n) for n in range(1000, 10_000)]
    with pytest.raises(ValueError, match="taken"):
        ack_code_for("a-1", everything)


@PROPERTY_SETTINGS
@given(
    st.lists(st.text(min_size=1, max_size=24), min_size=1, max_size=40, unique=True),
    st.lists(st.integers(1000, 9999).map(str), max_size=30),
)
def test_codes_handed_out_in_turn_never_collide(alert_ids: list[str], held: list[str]) -> None:
    taken = list(held)
    for alert_id in alert_ids:
        code = ack_code_for(alert_id, taken)
        assert code not in taken
        assert len(code) == 4
        assert "1000" <= code <= "9999"
        assert ack_code_for(alert_id, list(reversed(taken))) == code  # order is irrelevant
        taken.append(code)
    assert len(set(taken[len(held) :])) == len(alert_ids)


# --- replies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "ACK 4821",
        "ack4821",
        " Ack #4821 ",
        "ACK: 4821",
        "ACK:4821",
        "ack  4821.",
        "Ack - 4821!",
        "ACK\n4821",
        "ACK 48 21",
        "ＡＣＫ ４８２１",  # full-width, as some phone keyboards send
    ],
)
def test_ack_with_a_code(body: str) -> None:
    assert parse_clinician_reply(body) == ClinicianReply(ReplyKind.ACK, "4821")


@pytest.mark.parametrize("body", ["ACK", "ack", " Ack. ", "ACK!", "ACK #"])
def test_ack_without_a_code(body: str) -> None:
    assert parse_clinician_reply(body) == ClinicianReply(ReplyKind.ACK, None)


@pytest.mark.parametrize(
    ("body", "code"), [("ACK 12", "12"), ("ack 482199", "482199"), ("ACK 0821", "0821")]
)
def test_ack_with_digits_that_cannot_be_a_code_keeps_them_for_the_answer(
    body: str, code: str
) -> None:
    assert parse_clinician_reply(body) == ClinicianReply(ReplyKind.ACK, code)


@pytest.mark.parametrize("body", ["HELP", "help", " Help? ", "?", "??", "INFO", "ayuda", "¿?"])
def test_help(body: str) -> None:
    assert parse_clinician_reply(body) == ClinicianReply(ReplyKind.HELP, None)


@pytest.mark.parametrize(
    "body",
    ["", "   ", "4821", "ok", "ACK abc", "ACK 4821 on it", "acknowledged", "back 4821", "STOP"],
)
def test_anything_else_is_unknown(body: str) -> None:
    assert parse_clinician_reply(body) == ClinicianReply(ReplyKind.UNKNOWN, None)


@PROPERTY_SETTINGS
@given(st.integers(1000, 9999), st.sampled_from(["ACK", "ack", "Ack", "aCk"]), st.text(" \t#:"))
def test_any_spelling_of_ack_and_a_valid_code_is_read(code: int, word: str, gap: str) -> None:
    assert parse_clinician_reply(f" {word}{gap}{code} ") == ClinicianReply(ReplyKind.ACK, str(code))


@PROPERTY_SETTINGS
@given(st.text(max_size=40))
def test_any_text_parses_and_an_ack_code_is_always_digits(body: str) -> None:
    reply = parse_clinician_reply(body)
    if reply.kind is ReplyKind.ACK:
        assert reply.code is None or (reply.code.isascii() and reply.code.isdigit())
    else:
        assert reply.code is None
