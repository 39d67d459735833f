"""Worker processes that read pieces of a hash-set file side by side: how many, the
pool they form, and how each one starts (it ignores Ctrl-C, dies with the importer and
keeps the memory it frees).

The workers are forked: they only compute, inherit what the importing process set up
before them (a fork server's start-up would cost a third of a large import's time),
and read their pieces from the file descriptor they share with it.
"""

from __future__ import annotations

import ctypes
import io
import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import BinaryIO

#: Worker processes at most.
MAX_WORKERS = 2
#: glibc's ``mallopt`` parameters, and what the workers set them to: buffers below 32 MB
#: come from the heap, and the heap keeps up to 128 MB of freed memory.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_WORKER_MALLOC = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 128 << 20))
#: Linux's prctl option that has a signal sent to a process when its parent dies.
_PR_SET_PDEATHSIG = 1


def worker_count(stream: BinaryIO, min_bytes: int) -> int:
    """Worker processes for the file ``stream`` reads: none for one smaller than
    ``min_bytes`` (starting workers costs more), or where fork is missing."""
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return 0
    if size < min_bytes or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return min(MAX_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))  # fmt: skip


def start_pool(workers: int) -> ProcessPoolExecutor | None:
    """Forked workers (forked at the first task: they inherit what is set up by then),
    or None where processes cannot be made (no semaphores in some sandboxes)."""
    try:
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(
            workers, mp_context=context, initializer=_started, initargs=(os.getpid(),)
        )
    except (OSError, ValueError, NotImplementedError):
        return None


def file_descriptor(stream: BinaryIO) -> int | None:
    """The descriptor of the file ``stream`` reads as it is (not transcoded), if any."""
    if not isinstance(stream, io.BufferedReader | io.FileIO):
        return None
    try:
        return stream.fileno()
    except (OSError, ValueError):
        return None


def _started(parent: int) -> None:
    """A worker leaves Ctrl-C to the importing process, which stops the pool; dies with
    it (``die_with``); and keeps the memory it frees (``keep_freed_memory``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(parent)
    keep_freed_memory()


def die_with(parent: int) -> bool:
    """Have the kernel kill this worker when ``parent``, the importing process, dies
    (whether it could: Linux only). Killed with kill -9, the importer left its workers
    running for minutes, holding the hash-set file and the store's files open (a drive
    that could not be unmounted)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return False
    if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return False
    if os.getppid() != parent:  # (it died before the request was made)
        os._exit(1)
    return True


def keep_freed_memory() -> bool:
    """Have glibc keep the large buffers a worker frees for its next piece (whether it
    could: not on other C libraries).

    A worker allocates and frees several buffers of megabytes a piece (the piece, the
    records, the pickled result). glibc gives each back to the system when it is freed
    and the next one is faulted in again, page by page, zeroed: on a 350 MB file of
    media of about 1 KB, 400,000 page faults and a third of the workers' time. With
    the buffers kept, 13,000, and the import is a fifth shorter.
    """
    try:  # (the parameters' numbers are glibc's)
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
        mallopt = ctypes.CDLL(None).mallopt  # (this process's C library)
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(mallopt(parameter, value) == 1 for parameter, value in _WORKER_MALLOC)
