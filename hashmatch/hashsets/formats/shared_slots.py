"""Buffers in memory shared with the worker processes, for the bulk of their results.

A worker's result comes back through the pool's pipe, pickled. For a piece of VICS
media that is mostly its media's records, as many bytes as the piece: 340 MB of them
cost the two sides 0.6-1.0 s of processor time that way (pickled, pushed through a
64 KB pipe buffer, unpickled, written to a file); copied into a shared buffer and
written from there, 0.25-0.3 s (2026-12-03, 2-core VM).

``Slots`` are made before the workers fork (they inherit the mapping, and find it by
its token). The importing process gives each task a free slot; the worker copies its
texts into it (``put``), or keeps them in its result when they do not fit; the
importing process reads them as views (``views``) and gives the slot back once they
are used (``give_back``). That releases the views: reading one afterwards fails, and
one whose buffer is still exported keeps its slot out of use. A numpy array made from
a view does not hold its buffer (it would show what the slot holds next): whoever
reads the views is done with them before the slot is given back.
"""

from __future__ import annotations

import itertools
import mmap
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """One buffer of a ``Slots``: what a task is given (pickled to the worker)."""

    token: int
    index: int


class Slots:
    """``count`` buffers of ``size`` bytes, shared with the processes forked after."""

    def __init__(self, count: int, size: int) -> None:
        self.size = size
        self.token = next(_TOKENS)
        self.memory = mmap.mmap(-1, count * size)  # (anonymous and shared: inherited)
        self._free = deque(Slot(self.token, k) for k in range(count))

    def take(self) -> Slot | None:
        """A free slot (None: all are in use)."""
        return self._free.popleft() if self._free else None

    def views(self, slot: Slot, lengths: Sequence[int]) -> list[memoryview]:
        """The texts put in ``slot``, of these lengths back to back."""
        whole = memoryview(self.memory)[slot.index * self.size : (slot.index + 1) * self.size]
        views = []
        at = 0
        for length in lengths:
            views.append(whole[at : at + length])
            at += length
        whole.release()
        return views

    def give_back(self, slot: Slot, views: Sequence[memoryview]) -> None:
        """Release ``views`` (of ``slot``) and have the slot free again, unless one is
        still in use (``BufferError``): that slot is not used again."""
        try:
            for view in views:
                view.release()
        except BufferError:
            return
        self._free.append(slot)


def put(slot: Slot, texts: Sequence[bytes | memoryview]) -> bool:
    """In a worker: copy ``texts`` into ``slot`` back to back; False (nothing copied)
    where they do not fit."""
    slots = _REGISTERED[slot.token]
    if sum(map(len, texts)) > slots.size:
        return False
    at = slot.index * slots.size
    for text in texts:
        slots.memory[at : at + len(text)] = text
        at += len(text)
    return True


@contextmanager
def shared_slots(count: int, size: int) -> Iterator[Slots | None]:
    """Slots the workers forked from now on can ``put`` into, while the block lasts;
    None where the memory cannot be mapped (results then come through the pipe)."""
    try:
        slots = Slots(count, size)
    except (OSError, ValueError):
        yield None
        return
    _REGISTERED[slots.token] = slots
    try:
        yield slots
    finally:
        del _REGISTERED[slots.token]


_REGISTERED: dict[int, Slots] = {}
_TOKENS = itertools.count()
