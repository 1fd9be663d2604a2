"""A fix for faust-streaming 0.15.3's table recovery that lost records after a restart.

`Recovery.on_recovery_completed` resumes the stream partitions, then seeks them to their
committed offsets (a call that takes about half a second), then resumes the flow. But the
flow is already running: changelog recovery resumed it. So the fetcher delivers stream
records during the seek; the seek then resets the consumer's read offsets under them. The
consumer records the jump as a "gap" (committed as if processed) and drops the re-fetched
records as already read. Seen in our SIGKILL tests: hundreds of `clinical-events` records
never reached the monitor, and a partition's commit stuck for good.

The fix stops the flow before that method runs, so nothing is fetched until the seek is
done; the method itself resumes the flow afterwards, in the order faust-streaming PR #217
gave `_resume_streams`.
"""

from __future__ import annotations

from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery


class SeekFirstRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        self.app.consumer.stop_flow()
        await super().on_recovery_completed(generation_id)


class SeekFirstTableManager(TableManager):
    """Faust's table manager with `SeekFirstRecovery` (set as the app's `TableManager`)."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = SeekFirstRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
