"""Seeded hostile records for every topic the clinic's systems, the web process and the
leader's timer write, and the valid traffic the fuzz tests run alongside them: one valid
sample per topic, and mutations of it (a field swapped for a value of another type, a
field dropped, an extra field, random bytes, deep nesting, truncated JSON, not an object,
bad UTF-8, a lone surrogate)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from tests.support.records import clinician, infusion, patient

REGISTERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
INFUSED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DAY7 = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 10:00 in Chicago on D+7
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
        "message_sid",
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

# Sizes of the random-bytes mutation.
RANDOM_SIZES: tuple[int, ...] = (0, 1, 7, 300, 5_000, 70_000, 2_000_000)

# A mutation, and whether what it makes can never be a valid record.
Mutant = tuple[Callable[[], bytes], bool]


def json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()  # the standard library writes any integer


def valid_patient(index: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The registration and the infusion of the index-th valid patient (own phone each)."""
    patient_id = f"valid-{index}"
    return (
        patient(patient_id, phone=VALID_PHONES[index]),
        infusion(f"inf-{index}", patient_id, INFUSED.isoformat()),
    )


def mutants(
    rng: random.Random, sample: dict[str, Any], random_sizes: Sequence[int] = RANDOM_SIZES
) -> list[Mutant]:
    """Mutations of `sample`, each with whether it can never be a valid record."""
    field = rng.choice(sorted(sample))

    def swapped() -> bytes:
        return json_bytes({**sample, field: rng.choice(ODD_VALUES)})

    def dropped() -> bytes:
        return json_bytes({k: v for k, v in sample.items() if k != field})

    def extra() -> bytes:
        return json_bytes({**sample, "x" * rng.randint(1, 300): rng.choice(ODD_VALUES)})

    def random_bytes() -> bytes:
        return rng.randbytes(rng.choice(random_sizes))

    def nested() -> bytes:
        depth = rng.choice([100, 5_000, 20_000])
        return b'{"a":' + b"[" * depth + b"]" * depth + b"}"

    def truncated() -> bytes:
        text = json_bytes(sample)
        return text[: rng.randint(0, len(text) - 1)]

    def not_an_object() -> bytes:
        return json_bytes(rng.choice([[sample], 7, "text", None, True]))

    def bad_utf8() -> bytes:
        return json_bytes(sample).replace(b'"', b'"\xff', 1)

    def bad_escape() -> bytes:
        return json_bytes(sample)[:-1] + b',"s":"\\ud800\\udc00\\ud800"}'

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


def oversized(rng: random.Random, sample: dict[str, Any], size: int) -> bytes:
    """A record of exactly `size` bytes: random bytes, or the sample with one field's value
    padded to make it that long (well-formed JSON, as a looping producer would write)."""
    if rng.random() < 0.5:
        return rng.randbytes(size)
    field = rng.choice(sorted(sample))
    shell = json_bytes({**sample, field: ""})
    return shell.replace(b'""', b'"' + b"A" * (size - len(shell)) + b'"', 1)


def fuzz_key(rng: random.Random, sample: dict[str, Any], key_field: str | None) -> bytes | None:
    own = None if key_field is None else str(sample[key_field]).encode()
    return rng.choice([own, own, None, b"", rng.randbytes(rng.choice([8, 5_000]))])
