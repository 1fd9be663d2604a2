"""`afterglow backtest FILE`: which alerts would the rules have raised on this history?"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, TextIO

import orjson
import typer

from afterglow.backtest.history import HistoryError, HistoryReader
from afterglow.backtest.runner import Backtest

EXIT_INVALID_INPUT = 2


def backtest(
    file: Annotated[str, typer.Argument(help="JSON Lines history; '-' reads standard input.")],
    summary: Annotated[
        bool, typer.Option("--summary", help="After the alerts, print counts and alert burden.")
    ] = False,
    summary_only: Annotated[
        bool, typer.Option("--summary-only", help="Print only the summary, not each alert.")
    ] = False,
) -> None:
    """Replay a recorded event history through the clinical rules and print the raised alerts."""
    if file == "-":
        code = run_backtest(
            sys.stdin, sys.stdout, sys.stderr, summary or summary_only, summary_only
        )
    else:
        path = Path(file)
        if not path.is_file():
            typer.echo(f"afterglow backtest: no such file: {file}", err=True)
            raise typer.Exit(EXIT_INVALID_INPUT)
        with path.open(encoding="utf-8") as source:
            code = run_backtest(
                source, sys.stdout, sys.stderr, summary or summary_only, summary_only
            )
    raise typer.Exit(code)


def run_backtest(
    source: TextIO, out: TextIO, err: TextIO, with_summary: bool, summary_only: bool
) -> int:
    backtest = Backtest()
    parse = HistoryReader().parse_event
    replay = backtest.replay_event
    write = out.write
    try:
        # One flat loop rather than chained generators: this is the hot path (50k lines/s).
        for number, text in enumerate(source, start=1):
            if not text.strip():
                continue
            at_text, event = parse(number, text)
            for alert in replay(number, at_text, event):
                if not summary_only:
                    write(orjson.dumps(alert.to_json()).decode() + "\n")
    except HistoryError as error:
        out.flush()
        err.write(f"{error}\n")
        return EXIT_INVALID_INPUT
    except UnicodeDecodeError as error:
        err.write(f"input is not UTF-8 text: {error.reason}\n")
        return EXIT_INVALID_INPUT
    if with_summary:
        write(orjson.dumps({"summary": backtest.summary()}).decode() + "\n")
    return 0
