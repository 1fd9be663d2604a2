"""Property tests: random interleavings of check-in starts, reminders, expiries and patient
texts (answers, labels, nonsense, keywords, crisis phrases, all nine at once).

The invariants are the ones a patient or clinician would notice if broken."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from afterglow.core.conversation import (
    CheckinIncomplete,
    ConversationState,
    Outcome,
    ReplyCategory,
    TemplateName,
)
from afterglow.core.conversation.parsing import mentions_crisis, parse_keyword
from afterglow.core.conversation.replies import TEMPLATE_PARAMS
from afterglow.core.events import AssessmentCompleted, CrisisTextReceived, SelfHarmItemAnswered
from tests.core.conversation.chat import Chat

TEXTS = [
    "0",
    "1",
    "2",
    "3",
    "not at all",
    "casi todos los dias",
    "several days",
    "somewhat",
    "muy dificil",
    "4",
    "maybe",
    "",
    "1 2 0 1 0 0 1 0 0",
    "3 3 3 3 3 3 3 3 3",
    "0,0,0,0,0,0,0,0,1",
    "STOP",
    "cancel",
    "START",
    "HELP",
    "I want to kill myself",
    "no quiero vivir",
]
CHECKINS = ["c1", "c2", "c3"]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.sampled_from(TEXTS)),
        st.tuples(st.just("start"), st.sampled_from(CHECKINS), st.sampled_from(["en", "es"])),
        st.tuples(st.just("remind"), st.sampled_from(CHECKINS), st.integers(1, 2)),
        st.tuples(st.just("expire"), st.sampled_from(CHECKINS)),
    ),
    max_size=60,
)


def _apply(chat: Chat, action: tuple) -> Outcome:
    kind = action[0]
    if kind == "text":
        return chat.text(action[1])
    if kind == "start":
        return chat.start(occurrence_id=action[1], language=action[2])
    if kind == "remind":
        return chat.remind(action[2], occurrence_id=action[1])
    return chat.expire(occurrence_id=action[1])


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(actions)
def test_conversation_invariants(script: list[tuple]) -> None:
    chat = Chat()
    finished: Counter[str] = Counter()
    self_harm: Counter[str] = Counter()
    for action in script:
        opted_out = chat.state.opted_out
        out = _apply(chat, action)
        safety = [e for e in out.events if isinstance(e, SelfHarmItemAnswered | CrisisTextReceived)]
        crisis = [r for r in out.replies if r.template is TemplateName.CRISIS]
        # A crisis reply exactly when a safety event is raised, and both come first.
        assert len(crisis) == len(safety) <= 1
        if safety:
            assert out.events[0] is safety[0]
            assert out.replies[0] is crisis[0]
            assert crisis[0].category is ReplyCategory.CRISIS
        for event in out.events:
            if isinstance(event, AssessmentCompleted):
                assert len(event.items) == 9
                assert all(0 <= v <= 3 for v in event.items)
                assert event.occurrence_id is not None
                finished[event.occurrence_id] += 1
            if isinstance(event, CheckinIncomplete):
                assert any(v is None for v in event.answers)
                finished[event.occurrence_id] += 1
            if isinstance(event, SelfHarmItemAnswered):
                assert event.value >= 1
                self_harm[event.occurrence_id] += 1
        for reply in out.replies:
            assert set(reply.params) == TEMPLATE_PARAMS[reply.template]
            assert reply.language == chat.state.language
        # An opted-out patient hears nothing but keyword answers and crisis resources.
        if opted_out and action[0] != "text":
            assert out.replies == []
        if opted_out and action[0] == "text":
            text = action[1]
            if parse_keyword(text) is None and not mentions_crisis(text):
                assert out.replies == []
        # The stored form is faithful at every step.
        stored = json.loads(json.dumps(chat.state.to_dict()))
        assert ConversationState.from_dict(stored) == chat.state
    # One result per check-in, and item 9 alerts at most once per check-in (item 9 is asked
    # once; restarting a check-in id is a replay and is ignored).
    assert all(n == 1 for n in finished.values())
    assert all(n == 1 for n in self_harm.values())
