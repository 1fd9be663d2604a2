"""The daily cap on extra texts: reminders and info replies count, crisis and keyword
confirmations never wait."""

from __future__ import annotations

from datetime import date

import pytest

from afterglow.core.conversation.limits import (
    MAX_EXTRA_PER_DAY,
    with_consent_withdrawn,
    within_daily_limit,
)
from afterglow.core.conversation.replies import Reply, ReplyCategory, TemplateName
from tests.core.conversation.chat import at_item, said

TODAY = date(2026, 3, 8)


def _reply(category: ReplyCategory) -> Reply:
    return Reply(TemplateName.HELP, {}, category)


def test_the_fourth_extra_text_of_a_day_is_held() -> None:
    counter = None
    sent = 0
    for _ in range(MAX_EXTRA_PER_DAY + 2):
        kept, counter, _held = within_daily_limit([_reply(ReplyCategory.INFO)], counter, TODAY)
        sent += len(kept)
    assert sent == MAX_EXTRA_PER_DAY


def test_crisis_and_keyword_replies_are_never_held() -> None:
    counter = {"day": TODAY.isoformat(), "count": MAX_EXTRA_PER_DAY}
    replies = [
        _reply(ReplyCategory.CRISIS),
        _reply(ReplyCategory.KEYWORD),
        _reply(ReplyCategory.QUESTIONNAIRE),
        _reply(ReplyCategory.REMINDER),
    ]
    kept, _counter, held = within_daily_limit(replies, counter, TODAY)
    assert [r.category for r in kept] == [
        ReplyCategory.CRISIS,
        ReplyCategory.KEYWORD,
        ReplyCategory.QUESTIONNAIRE,
    ]
    assert held == 1


def test_the_count_starts_again_on_a_new_local_day() -> None:
    counter = {"day": "2026-03-07", "count": MAX_EXTRA_PER_DAY}
    kept, counter, _held = within_daily_limit([_reply(ReplyCategory.REMINDER)], counter, TODAY)
    assert len(kept) == 1
    assert counter == {"day": TODAY.isoformat(), "count": 1}


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        pytest.param("I want to die", ["crisis"], id="crisis text: resources still go out"),
        pytest.param("1", ["crisis"], id="item 9 positive: resources still go out"),
        pytest.param("HELP", ["help"], id="keyword: the confirmation still goes out"),
        pytest.param("STOP", ["stop_confirmation"], id="STOP: confirmed"),
    ],
)
def test_without_consent_only_crisis_and_keyword_replies_go_out(
    text: str, allowed: list[str]
) -> None:
    chat = at_item(9)  # consent withdrawn by the clinic while the check-in was open
    kept, _held = with_consent_withdrawn(chat.text(text).replies)
    assert said_of(kept) == allowed


def test_without_consent_questions_and_thanks_are_held() -> None:
    chat = at_item(3)
    outcome = chat.text("2")
    assert said(outcome) == ["item:4"]
    kept, held = with_consent_withdrawn(outcome.replies)
    assert (kept, held) == ([], 1)


def said_of(replies: list[Reply]) -> list[str]:
    return [str(reply.template) for reply in replies]
