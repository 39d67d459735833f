"""Progress bars: tqdm on stderr, only when stderr is a terminal and -q was not given."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from hashmatch.scan import ProgressEvent

_LABELS = {"count": "counting files", "hash": "hashing", "report": "writing report"}


def wanted(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


class ScanProgress:
    """A ``scan`` progress callback drawing one bar per phase."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._phase = ""

    def __call__(self, event: ProgressEvent) -> None:
        if event.phase != self._phase:
            self.close()
            self._phase = event.phase
            self._bar = tqdm(
                total=event.total, desc=_LABELS.get(event.phase, event.phase), unit="file",
                file=sys.stderr, dynamic_ncols=True, leave=False,
            )  # fmt: skip
        if self._bar is not None:
            if event.total is not None and self._bar.total != event.total:
                self._bar.total = event.total
            self._bar.n = event.done
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class ByteProgress:
    """An import progress callback: bytes read of a file of known size."""

    def __init__(self, total: int, label: str) -> None:
        self._bar = tqdm(total=total, desc=label, unit="B", unit_scale=True, file=sys.stderr,
                         leave=False)  # fmt: skip

    def __call__(self, position: int) -> None:
        self._bar.n = position
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
