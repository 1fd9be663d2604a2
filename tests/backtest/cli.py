"""Running the real `afterglow` console command on history files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AFTERGLOW = Path(sys.executable).parent / "afterglow"
ALERT_KEYS = ("patient_id", "kind", "priority", "at")


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def alerts(self) -> list[dict[str, Any]]:
        return [line for line in self.json_lines() if "summary" not in line]

    def summary(self) -> dict[str, Any]:
        (summary,) = [line["summary"] for line in self.json_lines() if "summary" in line]
        return summary


def run_afterglow(
    args: Sequence[str],
    stdin: str | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> Result:
    completed = subprocess.run(
        [str(AFTERGLOW), *args],
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def history_text(lines: Iterable[dict[str, Any] | str]) -> str:
    """JSON Lines text; a `str` entry is written verbatim (blank or deliberately broken)."""
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def write_history(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    path.write_text(history_text(lines), encoding="utf-8")
    return path


def event(type_: str, patient_id: str, at: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "patient_id": patient_id, "at": at, **fields}


def assessment(patient_id: str, at: str, total: int, item9: int = 0) -> dict[str, Any]:
    rest = total - item9
    items = []
    for _ in range(8):
        items.append(min(3, rest))
        rest -= items[-1]
    assert rest == 0
    return event("assessment_completed", patient_id, at, items=[*items, item9])


def alert_tuples(alerts: Iterable[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [tuple(alert[key] for key in ALERT_KEYS) for alert in alerts]  # type: ignore[misc]
