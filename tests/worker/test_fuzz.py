"""Seeded fuzzing of every topic the clinic's systems and the web process write, through the
worker's real handlers (in memory): 2,000 random and mutated records per topic, mixed
with valid traffic. No handler ever raises, every record is either handled or
dead-lettered at its offset, no table entry outgrows its limit, and every valid patient
still gets the day-7 check-in text."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import orjson

from afterglow.sms.simulator import simulated_inbox
from afterglow.worker.unit_of_work import MAX_TABLE_VALUE_BYTES
from tests.support.fuzz import (
    DAY7,
    REGISTERED,
    SAMPLES,
    VALID_PHONES,
    fuzz_key,
    mutants,
    valid_patient,
)
from tests.support.shell import Delays, build_shell

RECORDS_PER_TOPIC = 2_000


def test_thousands_of_hostile_records_never_stop_the_worker_or_a_check_in(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261202)
    shell = build_shell(tmp_path)
    shell.broker.delays = Delays(0, low=0.0, high=0.0)  # ordering is not under test here
    never_valid: set[tuple[str, int]] = set()

    async def valid_traffic(index: int) -> None:
        registration, record = valid_patient(index)
        patient_id = registration["patient_id"]
        await shell.deliver("clinic.patients", registration, patient_id)
        await shell.deliver("clinic.infusions.completed", record, patient_id)

    async def scenario() -> None:
        await shell.tick(REGISTERED)
        for round_ in range(RECORDS_PER_TOPIC):
            if round_ % (RECORDS_PER_TOPIC // len(VALID_PHONES)) == 0:
                await valid_traffic(round_ // (RECORDS_PER_TOPIC // len(VALID_PHONES)))
            for topic, (sample, key_field) in SAMPLES.items():
                mutant, invalid = rng.choice(mutants(rng, sample))
                offset = await shell.deliver(topic, mutant(), fuzz_key(rng, sample, key_field))
                if invalid:
                    never_valid.add((topic, offset))
            if round_ % 50 == 0:
                await shell.pump()
        await shell.pump()
        await shell.tick(DAY7)
        await shell.pump()

    asyncio.run(scenario())

    letters = shell.published("deadletter")
    dead = {(d["source_topic"], d["offset"]) for d in letters}
    assert never_valid <= dead, f"{len(never_valid - dead)} invalid records not dead-lettered"
    assert len(never_valid) > RECORDS_PER_TOPIC * len(SAMPLES) // 3
    assert all(len(orjson.dumps(d)) < 200_000 for d in letters)
    for name, table in shell.runtime.tables.items():
        for key, value in table.store.items():
            size = len(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
            assert size <= MAX_TABLE_VALUE_BYTES, f"{name}[{key!r}] is {size} bytes"
    texted = [phone for phone in VALID_PHONES if simulated_inbox(shell.settings, phone)]
    assert texted == VALID_PHONES, "a valid patient's check-in text did not arrive"
