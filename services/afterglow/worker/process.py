"""The `afterglow worker` process: Faust's worker with counted Kafka errors and a bounded
stop (docs/operators.md, "Stopping" and "Repeated errors")."""

from __future__ import annotations

import logging

import faust

from afterglow import stop_deadline
from afterglow.logging_setup import quiet_repeats


class AfterglowWorker(faust.Worker):
    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        # Faust replaces the root handlers when it starts: the filter goes on its own.
        quiet_repeats(logger)

    async def on_stop(self) -> None:
        # Called as the stop begins (signal or crash), before Faust waits for its streams,
        # which with Kafka unreachable never finishes.
        stop_deadline.arm("afterglow worker")
        await super().on_stop()
