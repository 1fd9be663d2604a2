"""The demo's files in its data directory (`<data_dir>/demo/`, docs/operators.md "Demo").

* `clock.json`, written by `afterglow up --demo` at each start: the seed, the speed, when
  the demo began (simulated) and the shared clock's origin and anchor (clock.py,
  `AnchoredClock`).
* `progress.json`, written by the demo process: the latest simulated time it saw (a
  restart continues from there, so time never jumps back), whether the clinic is seeded,
  the boosters given, and what each fictional phone has read and still means to answer.
* `status.json`, written by the demo process for the terminal summary.

Each file is replaced whole (write, then rename): a reader never sees half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

DEMO_DIR = "demo"


def demo_data_dir(data_dir: Path) -> Path:
    """Everything of the demo, broker included, lives apart from real data."""
    return data_dir / DEMO_DIR


@dataclass(frozen=True, slots=True)
class ClockFile:
    seed: int
    speed: float
    began: datetime  # the demo's simulated day 0
    origin: datetime  # simulated now at `anchor`
    anchor: float  # Unix time; the clock stands still before it


@dataclass
class Pending:
    """A text a fictional phone will send once simulated time reaches `due`."""

    phone: str
    body: str
    due: str  # ISO-8601


@dataclass
class Progress:
    checkpoint: str | None = None  # the latest simulated now, ISO-8601
    seeded: bool = False
    boosters: dict[str, list[str]] = field(default_factory=dict)  # patient -> times
    read: dict[str, int] = field(default_factory=dict)  # phone -> texts already read
    checkins: dict[str, int] = field(default_factory=dict)  # patient -> check-ins started
    started_at: dict[str, str] = field(default_factory=dict)  # patient -> latest start
    answered: dict[str, int] = field(default_factory=dict)  # patient -> last item answered
    pending: list[Pending] = field(default_factory=list)


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def save_clock(path: Path, clock: ClockFile) -> None:
    data = asdict(clock)
    data["began"] = clock.began.isoformat()
    data["origin"] = clock.origin.isoformat()
    write_json(path, data)


def load_clock(path: Path) -> ClockFile | None:
    data = read_json(path)
    if data is None:
        return None
    return ClockFile(
        seed=int(data["seed"]),
        speed=float(data["speed"]),
        began=datetime.fromisoformat(data["began"]),
        origin=datetime.fromisoformat(data["origin"]),
        anchor=float(data["anchor"]),
    )


def save_progress(path: Path, progress: Progress) -> None:
    write_json(path, asdict(progress))


def load_progress(path: Path) -> Progress:
    data = read_json(path)
    if data is None:
        return Progress()
    pending = [Pending(**item) for item in data.pop("pending", [])]
    return Progress(**data, pending=pending)
