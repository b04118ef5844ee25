"""The emulator's change log that watch streams read from; stateful (in memory), no I/O."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
from typing import Any

from kmock import resource


@dataclasses.dataclass(frozen=True)
class Change:
    """One committed write: the stored object before (None if created) and after."""

    revision: int
    storage: resource
    type: str  # ADDED, MODIFIED, DELETED
    new: dict[str, Any]
    old: dict[str, Any] | None


class Journal:
    """The most recent changes, in commit order, and a way to wait for the next one.

    Writers call `record()` from the event loop's thread; readers wait with `wait_for_change()`
    and then read everything after the last revision they saw with `since()`.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._changes: collections.deque[Change] = collections.deque(maxlen=capacity)
        self._pulse = asyncio.Event()

    def record(self, change: Change) -> None:
        self._changes.append(change)
        self.wake()

    def wake(self) -> None:
        """Wake every waiting reader (on a change, or so that they notice a shutdown)."""
        pulse, self._pulse = self._pulse, asyncio.Event()
        pulse.set()

    def oldest_revision(self) -> int | None:
        """The revision of the oldest change still remembered (None if nothing happened yet)."""
        return self._changes[0].revision if self._changes else None

    def remembers(self, revision: int) -> bool:
        """Whether every change after `revision` is still in the journal."""
        oldest = self.oldest_revision()
        return oldest is None or revision >= oldest - 1

    def since(self, revision: int) -> list[Change]:
        """The changes after `revision`, oldest first."""
        newer: list[Change] = []
        for change in reversed(self._changes):
            if change.revision <= revision:
                break
            newer.append(change)
        newer.reverse()
        return newer

    async def wait_for_change(self, timeout: float) -> None:
        """Return on the next recorded change, or after `timeout` seconds."""
        pulse = self._pulse
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pulse.wait(), timeout)
