"""The demo's part of `afterglow up --demo`: set-up before the stack starts, the demo
child's command, and the live summary while it runs (docs/operators.md, "Demo")."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import RenderableType
from rich.live import Live

from afterglow.config import Settings, get_settings
from afterglow.demo.accounts import DemoLogin, demo_logins
from afterglow.demo.launch import DEMO_DAYS, prepare_demo
from afterglow.demo.state import ClockFile, read_json
from afterglow.demo.summary import render_summary


@dataclass
class Showcase:
    clock: ClockFile
    data_dir: Path
    logins: list[DemoLogin] = field(default_factory=list)

    def create_logins(self, settings: Settings) -> None:
        """The demo's dashboard accounts; a new one's password is printed here, once."""
        self.logins = demo_logins(settings, datetime.now(UTC))
        for login in self.logins:
            if login.password:
                typer.echo(
                    f"demo login ({login.role.value}): {login.email}  password {login.password}"
                )

    @property
    def command(self) -> tuple[str, ...]:
        return (str(Path(sys.executable).parent / "afterglow"), "demo", "run")

    @contextmanager
    def live(self, dashboard: str) -> Iterator[Callable[[], None]]:
        """A live summary, refreshed by the callable it yields."""

        def view() -> RenderableType:
            status = read_json(self.data_dir / "status.json")
            return render_summary(status, DEMO_DAYS, dashboard, self.logins)

        with Live(view(), refresh_per_second=2, transient=False) as shown:
            yield lambda: shown.update(view())


def start_demo(seed: int, speed: float | None) -> Showcase:
    """Prepare the demo; the environment (and `get_settings()`) now points at the demo."""
    base = get_settings()
    clock = prepare_demo(base.data_dir, seed, speed)
    get_settings.cache_clear()
    settings = get_settings()
    typer.echo(
        f"demo: seed {clock.seed}, {clock.speed:g}x (a simulated day every "
        f"{86400 / clock.speed:.1f} s), data in {settings.data_dir}"
    )
    return Showcase(clock, settings.data_dir)
