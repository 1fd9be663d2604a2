"""`afterglow demo run|reset`: the demo clinic's process, and starting over."""

from __future__ import annotations

import logging
import shutil
from typing import Annotated

import typer

from afterglow.config import get_settings

app = typer.Typer(help="The living demo clinic (`afterglow up --demo`).")


@app.command("run")
def run() -> None:
    """The fictional patients and clinicians; `afterglow up --demo` starts and restarts it."""
    from afterglow.clock import AnchoredClock
    from afterglow.demo.runner import DemoRunner
    from afterglow.demo.state import load_clock, load_progress

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    clock_file = load_clock(settings.data_dir / "clock.json")
    if clock_file is None:
        typer.echo(
            "afterglow demo run: no demo here; start it with `afterglow up --demo`", err=True
        )
        raise typer.Exit(2)
    clock = AnchoredClock(clock_file.speed, clock_file.origin, clock_file.anchor)
    progress = load_progress(settings.data_dir / "progress.json")
    runner = DemoRunner(settings, clock_file, clock, progress)
    try:
        runner.run()
    finally:
        runner.io.close()


@app.command("reset")
def reset(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the demo: its data directory, with its broker's topics, accounts and phones."""
    from afterglow.broker.launcher import LocalBroker
    from afterglow.demo.state import demo_data_dir

    base = get_settings()
    data_dir = demo_data_dir(base.data_dir)
    if not data_dir.exists():
        typer.echo(f"no demo in {data_dir}")
        return
    demo_settings = base.model_copy(update={"data_dir": data_dir})
    if LocalBroker(demo_settings).status().pid is not None:
        typer.echo("afterglow demo reset: the demo is running; stop it first (Ctrl-C)", err=True)
        raise typer.Exit(1)
    if not yes and not typer.confirm(f"Delete the demo in {data_dir}?"):
        raise typer.Exit(1)
    shutil.rmtree(data_dir)
    typer.echo(f"deleted {data_dir}; `afterglow up --demo` starts a new demo")
