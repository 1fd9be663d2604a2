"""Reminders, expiry, replays, idle texts and the stored state (docs/rules.md, "SMS
conversation")."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from afterglow.core.conversation import (
    ConversationState,
    ConversationStatus,
    ReplyCategory,
    start_checkin,
)
from afterglow.core.conversation.replies import TEMPLATE_PARAMS
from afterglow.core.conversation.state import MAX_SEEN_SIDS
from afterglow.core.events import CheckinExpired, NaiveDatetimeError
from tests.core.conversation.chat import (
    CHECKIN,
    CLINIC,
    GIVE_UP,
    NINE,
    PATIENT,
    Chat,
    at_item,
    said,
)


def test_a_reminder_points_at_the_waiting_question() -> None:
    chat = at_item(4)
    out = chat.remind(1)
    (reply,) = out.replies
    assert reply.category is ReplyCategory.REMINDER
    assert reply.params == {"clinic_name": CLINIC, "number": 4, "reminder_number": 1}
    assert not out.events


# (what happened before reminder 1 arrives) -> no reminder
NO_REMINDER = [
    pytest.param(lambda c: c.texts(NINE), id="all nine answered (item 10 pending)"),
    pytest.param(lambda c: c.texts(NINE, "2"), id="completed"),
    pytest.param(lambda c: c.texts(*GIVE_UP * 9), id="incomplete"),
    pytest.param(lambda c: c.expire(), id="expired"),
    pytest.param(lambda c: c.text("STOP"), id="stopped"),
    pytest.param(lambda c: c.start(occurrence_id="other"), id="replaced by another check-in"),
]


@pytest.mark.parametrize("before", NO_REMINDER)
def test_no_reminder_once_the_check_in_is_no_longer_waiting(before) -> None:
    chat = Chat()
    chat.start()
    before(chat)
    assert said(chat.remind(1)) == []


def test_a_replayed_reminder_is_not_sent_twice() -> None:
    chat = at_item(2)
    assert said(chat.remind(1)) == ["reminder:2"]
    assert said(chat.remind(1)) == []
    assert said(chat.remind(2)) == ["reminder:2"]
    assert said(chat.remind(2)) == []


def test_a_reminder_for_another_check_in_is_ignored() -> None:
    chat = at_item(2)
    assert said(chat.remind(1, occurrence_id="inf-1:d014")) == []


def test_expiry_is_silent_and_reports_a_missed_checkin_with_its_partial_answers() -> None:
    chat = at_item(5)
    out = chat.expire()
    assert out.replies == []
    assert out.events == [
        CheckinExpired(
            PATIENT, out.events[0].at, CHECKIN, (1, 1, 1, 1, None, None, None, None, None)
        )
    ]
    assert chat.state.status is ConversationStatus.EXPIRED
    assert chat.state.answers == [1, 1, 1, 1, None, None, None, None, None]
    assert chat.state.occurrence_id == CHECKIN
    assert chat.state.open_occurrence_id is None
    # A late answer is not attached to the closed check-in.
    assert said(chat.text("2")) == ["no_open_checkin"]
    assert chat.state.answers[4] is None


def test_expiry_while_only_item_10_is_pending_closes_it_as_completed() -> None:
    chat = at_item(10)
    assert chat.expire().events == []
    assert chat.state.status is ConversationStatus.COMPLETED
    assert said(chat.text("2")) == ["no_open_checkin"]


def test_expiry_of_another_check_in_changes_nothing() -> None:
    chat = at_item(5)
    assert chat.expire(occurrence_id="inf-1:d014").events == []
    assert chat.state.status is ConversationStatus.ACTIVE
    assert said(chat.text("2")) == ["item:6"]


def test_a_replayed_start_does_not_restart_the_questionnaire() -> None:
    chat = at_item(5)
    assert said(chat.start()) == []
    assert chat.state.item_index == 4
    assert chat.state.answers[:4] == [1, 1, 1, 1]


@pytest.mark.parametrize("text", ["2", "hello?", "thanks!"])
def test_a_text_with_no_open_check_in_gets_a_short_pointer_to_help(text: str) -> None:
    chat = Chat()
    out = chat.text(text)
    assert said(out) == ["no_open_checkin"]
    assert out.replies[0].category is ReplyCategory.INFO
    assert not out.events


def test_a_redelivered_inbound_message_is_handled_once() -> None:
    chat = at_item(3)
    assert said(chat.text("2", sid="SM1")) == ["item:4"]
    replay = chat.text("2", sid="SM1")
    assert (replay.replies, replay.events) == ([], [])
    assert chat.state.item_index == 3
    stop = chat.text("STOP", sid="SM2")
    assert said(stop) == ["stop_confirmation"]
    again = chat.text("STOP", sid="SM2")
    assert (again.replies, again.events) == ([], [])


def test_remembered_message_sids_are_bounded() -> None:
    chat = Chat()
    for n in range(MAX_SEEN_SIDS + 5):
        chat.text("hi", sid=f"SM{n}")
    assert len(chat.state.seen_sids) == MAX_SEEN_SIDS
    assert chat.state.seen_sids[-1] == f"SM{MAX_SEEN_SIDS + 4}"
    assert "SM0" not in chat.state.seen_sids


def _checkpoints() -> list[Chat]:
    chats = [Chat(), at_item(1, "es"), at_item(6), at_item(10)]
    stopped = at_item(3)
    stopped.texts("maybe", "STOP")
    expired = at_item(4)
    expired.text("x", sid="SM9")
    expired.expire()
    chats += [stopped, expired]
    return chats


@pytest.mark.parametrize("chat", _checkpoints())
def test_the_state_survives_a_json_round_trip_and_behaves_the_same(chat: Chat) -> None:
    stored = json.loads(json.dumps(chat.state.to_dict()))
    restored = ConversationState.from_dict(stored)
    assert restored == chat.state
    twin = Chat(state=restored, now=chat.now)
    for text in ["1", "maybe", "I want to die", "HELP", "2", "STOP"]:
        assert said(twin.text(text)) == said(chat.text(text))
        assert twin.state == chat.state


def test_every_reply_carries_exactly_the_parameters_its_template_needs() -> None:
    chats = [at_item(3), at_item(9), at_item(9)]
    chats[0].texts("?", "??", "???", "I want to die", "HELP", "START")
    chats[0].remind(1)
    chats[1].texts("2", *GIVE_UP, "STOP", "hi")
    chats[2].texts(*GIVE_UP)
    idle = Chat()
    idle.texts("hi", "STOP")
    replies = [r for chat in [*chats, idle] for o in chat.log for r in o.replies]
    assert {r.template for r in replies} == set(TEMPLATE_PARAMS)
    for reply in replies:
        assert set(reply.params) == TEMPLATE_PARAMS[reply.template], reply.template
        json.dumps(reply.params)  # travels on a topic


def test_naive_times_are_rejected() -> None:
    state = ConversationState()
    with pytest.raises(NaiveDatetimeError):
        start_checkin(state, PATIENT, CHECKIN, "en", CLINIC, datetime(2026, 1, 1))


def test_an_expiry_that_crosses_the_last_answer_is_not_a_missed_checkin() -> None:
    chat = Chat()
    chat.start()
    chat.text(NINE)
    assert chat.expire().events == []
    assert chat.state.status is ConversationStatus.AWAITING_DIFFICULTY or chat.state.status in (
        ConversationStatus.COMPLETED,
    )


def test_an_incomplete_checkin_expires_with_the_items_it_has() -> None:
    chat = at_item(9)
    chat.texts(*GIVE_UP)  # item 9 left unanswered: the questionnaire ends incomplete
    (expired,) = chat.expire().events
    assert isinstance(expired, CheckinExpired)
    assert expired.items == (1, 1, 1, 1, 1, 1, 1, 1, None)
    assert chat.state.status is ConversationStatus.EXPIRED


def test_a_stopped_checkin_does_not_expire() -> None:
    chat = at_item(3)
    chat.text("STOP")
    assert chat.expire().events == []


def test_a_checkin_left_unanswered_expires_when_the_next_one_starts() -> None:
    chat = at_item(3)
    out = chat.start(occurrence_id="inf-1:c005")
    assert isinstance(out.events[0], CheckinExpired)
    assert (out.events[0].occurrence_id, out.events[0].items) == (
        CHECKIN,
        (1, 1, None, None, None, None, None, None, None),
    )
    assert said(out) == ["first_message"]
    # Its own expiry signal, later, finds the newer check-in and expires nothing.
    assert chat.expire().events == []


def test_a_state_saved_before_occurrence_ids_keeps_its_open_checkin() -> None:
    chat = at_item(3)
    legacy = chat.state.to_dict()
    legacy["checkin_id"] = f"{PATIENT}:{legacy.pop('occurrence_id')}"
    restored = ConversationState.from_dict(legacy, patient_id=PATIENT)
    assert restored.occurrence_id == CHECKIN
    assert restored == chat.state
