"""Hash items on every core: process workers, bounded work in flight, results in order.

Items travel to workers in small tasks (a few files from one source); each worker
opens the source itself from its picklable ``SourceSpec`` and keeps it open for later
tasks. Results come back in the order the items were walked, so a scan with N workers
writes exactly what a scan with one writes. At most a few tasks per worker are in
flight, so memory stays bounded whatever the number of files.

A file that crashes a worker process (a decoder fault on crafted data) costs that file,
not the scan: the pool is restarted, the tasks that were in flight are retried one file
at a time, and the file that kills a worker again is recorded with the reason.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol

from hashmatch.hashing import FileHashes, HashingOptions, Problem, Stage, hash_stream
from hashmatch.sources import Item, Source, SourceSpec, open_source

# Imported once in the fork server, so every worker starts with them loaded: imagehash
# imports scipy's FFT and PyWavelets lazily, on a worker's first pHash or wHash, which
# costs each worker about 0.3 s.
PRELOAD = ("hashmatch.pipeline", "scipy.fftpack", "pywt")

TASK_FILES = 8
TASK_BYTES = 4 << 20
TASKS_PER_WORKER = 4

_CRASH = (
    "the worker process died while hashing this file "
    "(a decoder crashed on its content); its hashes could not be computed"
)


@dataclass(frozen=True)
class HashTask:
    spec: SourceSpec
    items: tuple[Item, ...]
    options: HashingOptions


def hash_item(source: Source, item: Item, options: HashingOptions) -> FileHashes:
    """Hash one item; every failure becomes a ``Problem`` in the result."""
    try:
        with source.open(item) as stream:
            return hash_stream(stream, options, name=item.name)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return FileHashes(0, problems=(Problem(Stage.READ, f"cannot read: {reason}"),))
    except Exception as exc:  # a fault on one file must not end the scan
        message = f"internal error: {type(exc).__name__}: {exc}"
        return FileHashes(0, problems=(Problem(Stage.HASH, message),))


# One cache per thread: a Dask worker may run several tasks at once on threads, and a
# disk-image reader is not safe to share between threads.
_WORKER = threading.local()


def run_task(task: HashTask) -> list[FileHashes]:
    """Worker entry point: open (once per worker) the task's source and hash its items."""
    sources: dict[SourceSpec, Source] | None = getattr(_WORKER, "sources", None)
    if sources is None:
        sources = _WORKER.sources = {}
    source = sources.get(task.spec)
    if source is None:
        source = sources[task.spec] = open_source(task.spec)
    return [hash_item(source, item, task.options) for item in task.items]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _tasks(
    items: Iterable[Item], specs: Mapping[str, SourceSpec], options: HashingOptions
) -> Iterator[HashTask]:
    batch: list[Item] = []
    size = 0
    for item in items:
        if batch and (
            item.source_id != batch[0].source_id
            or len(batch) >= TASK_FILES
            or size + item.size > TASK_BYTES
        ):
            yield HashTask(specs[batch[0].source_id], tuple(batch), options)
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield HashTask(specs[batch[0].source_id], tuple(batch), options)


class Backend(Protocol):
    """Where hash tasks run: local worker processes, or a Dask cluster."""

    jobs: int  # how many tasks run at once (a few per worker are kept in flight)
    generation: int  # bumped when the backend replaces its workers after a crash

    def submit(self, task: HashTask) -> ResultFuture: ...

    def crashed(self, error: BaseException) -> bool:
        """True when ``error`` means a worker died running the task (not a bug)."""
        ...

    def failure(self, error: Exception) -> BaseException:
        """What to raise for any other error a task ended with."""
        ...

    def restart(self) -> None: ...

    def isolate(self, task: HashTask) -> list[FileHashes]: ...

    def close(self) -> None: ...


class ResultFuture(Protocol):
    def result(self) -> list[FileHashes]: ...


def crash_result() -> FileHashes:
    """The record of a file whose worker died on it twice."""
    return FileHashes(0, problems=(Problem(Stage.HASH, _CRASH),))


def _ready() -> int:
    return os.getpid()


class WorkerPool:
    """A process pool that can be replaced when a worker dies.

    Create it early and call ``warm`` so the workers start (and import their libraries)
    while the caller does other work, such as counting the files to hash.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.generation = 0
        self._executor = self._new()
        self._starter: threading.Thread | None = None

    def _new(self) -> ProcessPoolExecutor:
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(list(PRELOAD))
        return ProcessPoolExecutor(self.jobs, mp_context=context)

    def submit(self, task: HashTask) -> Future[list[FileHashes]]:
        self._join_starter()
        return self._executor.submit(run_task, task)

    def crashed(self, error: BaseException) -> bool:
        return isinstance(error, (BrokenProcessPool, CancelledError))

    def failure(self, error: Exception) -> BaseException:
        return error  # hash_item turns every file problem into data: this is a bug

    def restart(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = self._new()
        self.generation += 1

    def warm(self) -> None:
        """Start every worker in the background.

        Starting the fork server and its imports takes a few tenths of a second, during
        which the caller can count the files and load the near index.
        """

        def start() -> None:
            for _ in range(self.jobs):
                self._executor.submit(_ready)

        self._starter = threading.Thread(target=start, name="hashmatch-pool-start", daemon=True)
        self._starter.start()

    def _join_starter(self) -> None:
        if self._starter is not None:
            self._starter.join()

    def close(self) -> None:
        self._join_starter()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def isolate(self, task: HashTask) -> list[FileHashes]:
        """Retry a task one file at a time after a crash; a file that crashes again is lost."""
        results = []
        for item in task.items:
            try:
                results.extend(self.submit(HashTask(task.spec, (item,), task.options)).result())
            except BrokenProcessPool:
                self.restart()
                results.append(crash_result())
        return results


def hash_items(
    items: Iterable[Item],
    specs: Mapping[str, SourceSpec],
    options: HashingOptions,
    pool: Backend | None,
    local_sources: Mapping[str, Source] | None = None,
) -> Iterator[tuple[Item, FileHashes]]:
    """Hash every item, yielding ``(item, hashes)`` in the order the items came.

    Without a pool, items are hashed in this process (``--jobs 1``).
    """
    opened = dict(local_sources or {})

    def here(item: Item) -> tuple[Item, FileHashes]:
        source = opened.get(item.source_id)
        if source is None:
            source = opened[item.source_id] = open_source(specs[item.source_id])
        return item, hash_item(source, item, options)

    if pool is None:
        yield from map(here, items)
        return
    # Never hash here when there is a pool, not even while it starts: a file that crashes
    # its decoder would take the scan down, and again on every --resume.
    pending: deque[_Pending] = deque()
    for task in _tasks(items, specs, options):
        pending.append(_Pending(task, pool.submit(task), pool.generation))
        if len(pending) >= pool.jobs * TASKS_PER_WORKER:
            yield from _collect(pool, pending.popleft())
    while pending:
        yield from _collect(pool, pending.popleft())


@dataclass(frozen=True)
class _Pending:
    task: HashTask
    future: ResultFuture
    generation: int


def _collect(pool: Backend, pending: _Pending) -> Iterator[tuple[Item, FileHashes]]:
    try:
        results = pending.future.result()
    except Exception as exc:
        if not pool.crashed(exc):
            failure = pool.failure(exc)
            if failure is exc:
                raise
            raise failure from exc
        if pending.generation == pool.generation:
            pool.restart()  # the first casualty of this pool replaces it
        results = pool.isolate(pending.task)
    yield from zip(pending.task.items, results, strict=True)
