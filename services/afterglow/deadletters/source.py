"""Where the dead-letter browser reads from: Kafka in production, a list in tests."""

from __future__ import annotations

import asyncio
from typing import Protocol

from afterglow.config import Settings
from afterglow.deadletters.letters import Action, DeadLetter, LetterId
from afterglow.deadletters.reader import find_letter, letter_actions, recent_letters

# Newest per partition: with 4 partitions, the page lists up to 200 dead letters.
PER_PARTITION = 50


class LetterSource(Protocol):
    async def recent(self) -> tuple[list[DeadLetter], dict[LetterId, Action]]: ...

    async def find(self, letter: LetterId) -> tuple[DeadLetter | None, Action | None]: ...


class KafkaLetters:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def recent(self) -> tuple[list[DeadLetter], dict[LetterId, Action]]:
        return await asyncio.to_thread(recent_letters, self._settings, PER_PARTITION)

    async def find(self, letter: LetterId) -> tuple[DeadLetter | None, Action | None]:
        found = await asyncio.to_thread(find_letter, self._settings, letter)
        actions = await asyncio.to_thread(letter_actions, self._settings)
        return found, actions.get(letter)
