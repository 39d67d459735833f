"""Hashing on an existing Dask cluster (``scan --dask-scheduler tcp://HOST:PORT``).

Only the hashing of items goes to the cluster: the client walks the sources, matches,
and writes the case database, exactly as with local workers, so the report is the
same. Each task carries a picklable ``SourceSpec`` with an absolute path and a few
items; a Dask worker opens the evidence itself, so every worker must see the evidence
at the same path (shared storage) and have hashmatch installed (``hashmatch[dask]``).

A task whose worker dies is retried by Dask; when Dask gives up (``KilledWorker``),
its files are retried one at a time and a file that kills a worker again is recorded,
as with local workers.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from typing import Any

from hashmatch import __version__
from hashmatch.errors import ClusterError, UsageError
from hashmatch.hashing import FileHashes
from hashmatch.pipeline import HashTask, ResultFuture, crash_result, run_task
from hashmatch.report.provenance import library_versions

CONNECT_TIMEOUT = "20s"


def _versions() -> dict[str, str]:
    """Run on every worker: the versions that decide its hashes."""
    from hashmatch import __version__ as version
    from hashmatch.report.provenance import library_versions as libraries

    return {"hashmatch": version, **libraries()}


class DaskBackend:
    """Submit hash tasks to a Dask scheduler; one task per slot of every worker thread."""

    generation = 0  # Dask replaces dead workers itself

    def __init__(self, address: str) -> None:
        try:
            # Imported as a module object: the optional dependency is used untyped here.
            dask: Any = importlib.import_module("distributed")
        except ImportError as exc:
            raise UsageError(
                "--dask-scheduler needs the optional Dask support: pip install 'hashmatch[dask]'"
            ) from exc
        self._killed: type[BaseException] = dask.KilledWorker
        try:
            self._client: Any = dask.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        threads = sum(self._client.nthreads().values())
        if threads == 0:
            self._client.close()
            raise ClusterError(f"the Dask scheduler at {address} has no workers")
        self.jobs = threads
        self.address = address
        self.workers = len(self._client.nthreads())
        self._check_versions()

    def _check_versions(self) -> None:
        """Refuse workers whose hashmatch or imaging libraries differ from this machine's:
        the report states which versions computed the hashes, and perceptual hashes move
        between versions of the decoders."""
        here = {"hashmatch": __version__, **library_versions()}
        try:
            remote = self._client.run(_versions)
        except Exception as exc:
            self._client.close()
            raise self.failure(exc) from exc
        for worker, versions in sorted(remote.items()):
            different = sorted(k for k in here.keys() | versions.keys()
                               if here.get(k) != versions.get(k))  # fmt: skip
            if different:
                self._client.close()
                details = ", ".join(
                    f"{k} {versions.get(k, 'missing')} (here {here.get(k, 'missing')})"
                    for k in different
                )
                raise ClusterError(f"Dask worker {worker} runs other versions: {details}")

    def submit(self, task: HashTask) -> ResultFuture:
        spec = dataclasses.replace(task.spec, path=os.path.abspath(task.spec.path))
        remote = dataclasses.replace(task, spec=spec)
        future: ResultFuture = self._client.submit(run_task, remote, pure=False)
        return future

    def crashed(self, error: BaseException) -> bool:
        return isinstance(error, self._killed)

    def failure(self, error: Exception) -> BaseException:
        return ClusterError(
            f"a Dask worker at {self.address} could not hash files "
            f"({type(error).__name__}: {error}); is hashmatch installed on every worker, "
            "and is the evidence visible at the same path?"
        )

    def restart(self) -> None:
        """Nothing to do: the cluster's nannies restart dead workers."""

    def isolate(self, task: HashTask) -> list[FileHashes]:
        results: list[FileHashes] = []
        for item in task.items:
            single = dataclasses.replace(task, items=(item,))
            try:
                results.extend(self.submit(single).result())
            except Exception as exc:
                if not self.crashed(exc):
                    raise self.failure(exc) from exc
                results.append(crash_result())
        return results

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
