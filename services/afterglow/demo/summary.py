"""The terminal's live summary of the demo (rich), from the demo process's status.json."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from afterglow.demo.accounts import DemoLogin

DAY_SECONDS = 86400


def render_summary(
    status: dict[str, Any] | None, days: int, dashboard: str, logins: Sequence[DemoLogin]
) -> RenderableType:
    """Simulated time as a bar over `days`, what happened, and where to look."""
    lines: list[RenderableType] = []
    if status is None:
        lines.append(Text("demo: waiting for the demo process ..."))
    else:
        now = datetime.fromisoformat(status["now"])
        began = datetime.fromisoformat(status["began"])
        day = (now - began).total_seconds() / DAY_SECONDS
        header = Table.grid(padding=(0, 1))
        header.add_row(
            Text(f"week {int(day // 7) + 1:>2} day {day:5.1f}", style="bold"),
            ProgressBar(total=days, completed=min(day, days), width=40),
            Text(f"{now:%Y-%m-%d %H:%M} UTC (simulated)"),
        )
        lines.append(header)
        lines.append(_figures(status))
    lines.append(Text(f"dashboard {dashboard}"))
    # Passwords are printed once, above the summary (or at the demo's first start).
    for login in logins:
        lines.append(Text(f"  {login.role.value:<10} {login.email}"))
    return Group(*lines)


def _figures(status: dict[str, Any]) -> Table:
    table = Table.grid(padding=(0, 2))
    alerts = status.get("alerts") or {}
    kinds = ", ".join(f"{kind} {count}" for kind, count in alerts.items()) or "none yet"
    table.add_row("patients", str(status["patients"]))
    table.add_row(
        "check-ins",
        f"{status['checkins_sent']} sent, {status['checkins_answered']} answered",
    )
    table.add_row("alerts", kinds)
    table.add_row(
        "pages", f"{status['pages']} ({status['escalated_pages']} escalated to a backup/director)"
    )
    table.add_row(
        "clinic",
        f"{status['boosters']} boosters given, {status['opted_out']} patient(s) texted STOP",
    )
    return table
