"""Seeded fuzzing of every topic the clinic's systems and the web process write, through the
worker's real handlers (in memory): 2,000 random and mutated records per topic, mixed
with valid traffic. No handler ever raises, every record is either handled or
dead-lettered at its offset, no table entry outgrows its limit, and every valid patient
still gets the day-7 check-in text."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from afterglow.sms.simulator import simulated_inbox
from afterglow.worker.unit_of_work import MAX_TABLE_VALUE_BYTES
from tests.support.records import clinician, infusion, patient
from tests.support.shell import Delays, build_shell

RECORDS_PER_TOPIC = 2_000
REGISTERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
INFUSED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY7 = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
VALID_PHONES = [f"+155555501{n}" for n in range(60, 80)]

# One valid record per input topic, and the field its key must equal.
SAMPLES: dict[str, tuple[dict[str, Any], str | None]] = {
    "clinic.patients": (patient("fz-1", phone="+15555550181"), "patient_id"),
    "clinic.clinicians": (clinician("fz-clin", "+15555550182"), "clinician_id"),
    "clinic.infusions.completed": (infusion("fz-e", "fz-1", INFUSED.isoformat()), "patient_id"),
    "afterglow.sms.inbound": (
        {
            "message_sid": "SM" + "f" * 32,
            "from": "+15555550181",
            "to": "+15005550006",
            "body": "2",
            "received_at": DAY7.isoformat(),
        },
        "from",
    ),
    "afterglow.sms.status": (
        {"message_sid": "SM" + "e" * 32, "status": "delivered", "received_at": DAY7.isoformat()},
        None,
    ),
    "afterglow.alert-actions": (
        {
            "action_id": "web:fz",
            "type": "acknowledge",
            "alert_id": "0123456789abcdef",
            "patient_id": "fz-1",
            "actor": "clin-1",
            "via": "dashboard",
            "at": DAY7.isoformat(),
        },
        "patient_id",
    ),
    # A valid tick must not move time on: the valid traffic expects the day-7 tick last.
    "afterglow.ticks": ({"now": REGISTERED.isoformat()}, None),
}

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**70,
    1e308,
    "",
    "\u0000\u001b[31m\u202e",
    "x" * 70_000,
    "é" * 40_000,
    [],
    [[[[[]]]]],
    {},
    {"nested": {"deeper": [1, "2", None]}},
]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()  # the standard library writes any integer


def _mutants(rng: random.Random, sample: dict[str, Any]) -> list[tuple[Callable[[], bytes], bool]]:
    """Mutations, each with whether it can never be a valid record."""
    field = rng.choice(sorted(sample))

    def swapped() -> bytes:
        return _json({**sample, field: rng.choice(ODD_VALUES)})

    def dropped() -> bytes:
        return _json({k: v for k, v in sample.items() if k != field})

    def extra() -> bytes:
        return _json({**sample, "x" * rng.randint(1, 300): rng.choice(ODD_VALUES)})

    def random_bytes() -> bytes:
        size = rng.choice([0, 1, 7, 300, 5_000, 70_000, 2_000_000])
        return rng.randbytes(size)

    def nested() -> bytes:
        depth = rng.choice([100, 5_000, 20_000])
        return b'{"a":' + b"[" * depth + b"]" * depth + b"}"

    def truncated() -> bytes:
        text = _json(sample)
        return text[: rng.randint(0, len(text) - 1)]

    def not_an_object() -> bytes:
        return _json(rng.choice([[sample], 7, "text", None, True]))

    def bad_utf8() -> bytes:
        return _json(sample).replace(b'"', b'"\xff', 1)

    def bad_escape() -> bytes:
        return _json(sample)[:-1] + b',"s":"\\ud800\\udc00\\ud800"}'

    return [
        (swapped, False),
        (dropped, False),
        (extra, False),
        (random_bytes, True),
        (nested, False),
        (truncated, True),
        (not_an_object, True),
        (bad_utf8, True),
        (bad_escape, False),
    ]


def _key(rng: random.Random, sample: dict[str, Any], key_field: str | None) -> bytes | None:
    own = None if key_field is None else str(sample[key_field]).encode()
    return rng.choice([own, own, None, b"", rng.randbytes(rng.choice([8, 5_000]))])


def test_thousands_of_hostile_records_never_stop_the_worker_or_a_check_in(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261202)
    shell = build_shell(tmp_path)
    shell.broker.delays = Delays(0, low=0.0, high=0.0)  # ordering is not under test here
    never_valid: set[tuple[str, int]] = set()

    async def valid_traffic(index: int) -> None:
        phone = VALID_PHONES[index]
        patient_id = f"valid-{index}"
        await shell.deliver("clinic.patients", patient(patient_id, phone=phone), patient_id)
        record = infusion(f"inf-{index}", patient_id, INFUSED.isoformat())
        await shell.deliver("clinic.infusions.completed", record, patient_id)

    async def scenario() -> None:
        await shell.tick(REGISTERED)
        for round_ in range(RECORDS_PER_TOPIC):
            if round_ % (RECORDS_PER_TOPIC // len(VALID_PHONES)) == 0:
                await valid_traffic(round_ // (RECORDS_PER_TOPIC // len(VALID_PHONES)))
            for topic, (sample, key_field) in SAMPLES.items():
                mutant, invalid = rng.choice(_mutants(rng, sample))
                offset = await shell.deliver(topic, mutant(), _key(rng, sample, key_field))
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
