"""Scan orchestration: sources → hashing (workers) → matching → case database → outputs.

``scan`` walks every source in a stable order, hashes items on worker processes,
matches each batch in this process, commits the batch to the case database, and at the
end renders the outputs from that database. Every item the walk yields is written as a
``file`` row (hashed, unreadable or skipped with the reason), so the report accounts
for all of them. Progress is reported through a callback; nothing is printed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from hashmatch import __version__
from hashmatch.casedb.database import CaseDatabase, FileOutcome, Thumbnail
from hashmatch.casedb.schema import CASE_DB
from hashmatch.errors import CaseError, CaseExistsError
from hashmatch.hashing import DEFAULT_ALGORITHMS, HashingOptions, Problem, Stage, resolve_algorithms
from hashmatch.hashing.decode import DEFAULT_MAX_PIXELS, DecodeError
from hashmatch.hashsets import HashSetInfo, HashSetStore
from hashmatch.matching import Matcher, Thresholds, Verdict
from hashmatch.paths import resolved, within, working_folder
from hashmatch.pipeline import Backend, WorkerPool, default_jobs, hash_items
from hashmatch.report.custody import MANIFEST, MANIFEST_SUMS, write_manifest
from hashmatch.report.model import HashSetRecord, SourceRecord
from hashmatch.report.outputs import OUTPUT_FILES, write_outputs
from hashmatch.report.provenance import host_name, tool_info, user_name
from hashmatch.report.thumbnails import ThumbnailStyle, make_thumbnail
from hashmatch.sources import Item, Source, SourceSpec, WalkError, describe_source, open_source
from hashmatch.timeutil import utc_now

BATCH_FILES = 256
BATCH_SECONDS = 2.0
RESUME_CHUNK = 256  # walked items checked against the case database at a time


@dataclass(frozen=True)
class ScanOptions:
    sources: tuple[Path, ...]
    case_dir: Path
    hashsets: tuple[str, ...] = ()
    case_id: str | None = None
    examiner: str | None = None
    jobs: int = 0
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    thresholds: Thresholds = field(default_factory=Thresholds.with_overrides)
    thumbnails: ThumbnailStyle = ThumbnailStyle.BLURRED
    max_pixels: int = DEFAULT_MAX_PIXELS
    resume: bool = False
    force: bool = False
    command: tuple[str, ...] = ()
    dask_scheduler: str | None = None  # tcp://HOST:PORT of an existing Dask cluster
    verify_image: bool = False  # re-hash disk images and compare with their stored hashes
    variants: bool = True  # match flipped, rotated, letterboxed and cropped copies too


@dataclass(frozen=True)
class ProgressEvent:
    phase: str
    done: int
    total: int | None


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class ScanResult:
    case_dir: Path
    outputs: tuple[Path, ...]
    files: int
    matched_files: int
    errors: int
    #: Files with an exact hit whose entry disagrees with them (report's ``mismatches``).
    mismatched_files: int = 0


def scan(options: ScanOptions, store: HashSetStore, progress: Progress | None = None) -> ScanResult:
    notify = progress or (lambda event: None)
    if not options.sources:
        raise CaseError("nothing to scan: name at least one source")
    refuse_case_inside_evidence(options.case_dir, options.sources)
    specs = [describe_source(path, f"S{i}") for i, path in enumerate(options.sources, 1)]
    sets = store.resolve(options.hashsets)
    algorithms = tuple(a.name for a in resolve_algorithms(options.algorithms))
    checks = {info.name: store.checks_hashes(info) for info in sets}
    # Every source is opened before the case folder is touched: a damaged image stops
    # the scan with its reason and leaves no half-made case (nor, with --force, a
    # destroyed one) behind.
    sources = _open_sources(specs)
    try:
        resuming = _prepare_case_dir(options)
        case = (
            CaseDatabase.open(options.case_dir)
            if resuming
            else CaseDatabase.create(options.case_dir)
        )
    except BaseException:
        _close_all(sources)
        raise
    try:
        try:
            meta = case.meta()
            if resuming and "status" in meta:
                _check_unfinished(meta, options.case_dir)
                _check_resumable(case, sources, sets, meta)
                _check_same_settings(meta, options, algorithms, checks)
                case.upgrade()
                resumed = meta.get("resumed")
                earlier = resumed if isinstance(resumed, list) else []
                case.set_meta({"resumed": [*earlier, utc_now()], "status": "running"})
            else:
                # (A new case is up to date already; a resumed one whose start was
                # never recorded is brought up to date: nothing of it is kept.)
                case.upgrade()
                _record_start(case, options, sources, sets, algorithms, checks)
            with _backend(options) as pool:
                # The workers start while the near index loads and the files are counted.
                matcher = Matcher(store, sets, options.thresholds)
                hashing = HashingOptions(algorithms, options.max_pixels, variants=options.variants)
                _run(case, sources, matcher, hashing, options, notify, pool)
        finally:
            _close_all(sources)
        case.set_meta({"finished": utc_now(), "status": "complete"})
        notify(ProgressEvent("report", 0, 1))
        outputs, summary = write_outputs(case, options.case_dir)
        notify(ProgressEvent("report", 1, 1))
    finally:
        case.close()
    manifest = write_manifest(options.case_dir)  # after close: the database file is final
    outputs = (*outputs, manifest)
    return ScanResult(options.case_dir, outputs, summary.files, summary.matched_files,
                      summary.errors, summary.mismatched_files)  # fmt: skip


def _open_sources(specs: Sequence[SourceSpec]) -> list[Source]:
    """Every source opened, or none: one that cannot be opened closes the others."""
    opened: list[Source] = []
    try:
        for spec in specs:
            opened.append(open_source(spec))
            opened[-1].check()
    except BaseException:
        _close_all(opened)
        raise
    return opened


def _close_all(sources: Sequence[Source]) -> None:
    for source in sources:
        source.close()


def _backend(options: ScanOptions) -> AbstractContextManager[Backend | None]:
    """Where the hashing runs: a Dask cluster, local worker processes, or here (--jobs 1)."""
    if options.dask_scheduler:
        from hashmatch.dask_backend import DaskBackend  # optional extra, imported on demand

        return DaskBackend(options.dask_scheduler)
    jobs = options.jobs if options.jobs > 0 else default_jobs()
    if jobs <= 1:
        return nullcontext(None)
    pool = WorkerPool(jobs)
    pool.warm()
    return pool


def _prepare_case_dir(options: ScanOptions) -> bool:
    """Make the case folder ready; True when an earlier scan is to be resumed."""
    case_dir = options.case_dir
    if case_dir.exists() and not case_dir.is_dir():
        raise CaseError(f"{case_dir} exists and is not a folder")
    database = case_dir / CASE_DB
    if options.resume:
        if database.is_file():
            return True
        if case_dir.is_dir() and any(case_dir.iterdir()):
            raise CaseError(f"{case_dir} holds no case database to resume")
    elif case_dir.is_dir() and any(case_dir.iterdir()):
        if not options.force:
            raise CaseExistsError(
                f"{case_dir} already holds files; use --resume to finish an interrupted scan "
                "or --force to replace the case"
            )
        for name in (CASE_DB, f"{CASE_DB}-wal", f"{CASE_DB}-shm", *OUTPUT_FILES, MANIFEST,
                     MANIFEST_SUMS):  # fmt: skip
            (case_dir / name).unlink(missing_ok=True)
    try:
        case_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CaseError(f"cannot create case folder {case_dir}: {exc.strerror or exc}") from exc
    return False


def refuse_case_inside_evidence(case_dir: Path, sources: Sequence[Path]) -> None:
    """Raise if ``case_dir`` is one of ``sources`` or lies inside one. (The command asks
    before it does anything with the case folder: a refused scan writes nothing there,
    not even its audit line.)"""
    target = resolved(case_dir)
    for source in sources:
        root = resolved(source)
        if within(target, root):
            raise CaseError(
                f"the case folder {case_dir} lies inside the evidence {source}; "
                "outputs must never be written into evidence"
            )


def _record_start(
    case: CaseDatabase,
    options: ScanOptions,
    sources: Sequence[Source],
    sets: Sequence[HashSetInfo],
    algorithms: tuple[str, ...],
    checks: dict[str, bool | None],
) -> None:
    tool = tool_info()
    case.set_meta(
        {
            "case_id": options.case_id or options.case_dir.resolve().name,
            "examiner": options.examiner,
            "started": utc_now(),
            "finished": None,
            "command": list(options.command),
            # (where the sources' relative paths start: for --resume and report -o)
            "working_folder": working_folder(),
            "host": host_name(),
            "user": user_name(),
            "algorithms": list(algorithms),
            "thresholds": dict(options.thresholds.values),
            "thumbnails": options.thumbnails.value,
            "dask_scheduler": options.dask_scheduler,
            "variants": options.variants,
            # Per set: are exact hits checked against the entry's other hashes?
            "hash_checks": checks,
            "tool": {
                **dataclasses.asdict(tool),
                "libraries": dict(tool.libraries),
            },
        }
    )
    if options.verify_image:
        for source in sources:
            source.verify()
    case.set_sources(_source_record(s) for s in sources)
    case.set_hashsets(_hashset_record(h) for h in sets)
    # Written last: a case without a status was interrupted before its start was recorded,
    # and a resumed scan records it again instead of checking against it.
    case.set_meta({"status": "running"})


def _source_record(source: Source) -> SourceRecord:
    info = source.info()
    return SourceRecord(info.id, info.path, info.kind.value, info.size, info.details)


def _hashset_record(info: HashSetInfo) -> HashSetRecord:
    return HashSetRecord(
        info.name,
        info.format,
        info.category.value,
        info.source_name,
        info.entries,
        info.sha256,
        info.imported_at,
        info.provenance,
    )


def is_finished(status: object, case_dir: Path) -> bool:
    """Whether a case of this recorded status is finished: its scan completed, outputs
    and manifest written. (One stopped after it was complete, before its manifest, is
    not: resuming it writes its outputs and manifest.)"""
    return status == "complete" and (case_dir / MANIFEST).is_file()


def _check_unfinished(meta: dict[str, object], case_dir: Path) -> None:
    """A finished case has nothing to resume: resuming it would render its outputs again
    and record a resume that never was."""
    if is_finished(meta.get("status"), case_dir):
        raise CaseExistsError(
            f"the scan of {case_dir} is complete: there is nothing to resume; `hashmatch "
            "report` renders its outputs again, --force scans it anew"
        )


def _check_resumable(
    case: CaseDatabase,
    sources: Sequence[Source],
    sets: Sequence[HashSetInfo],
    meta: dict[str, object],
) -> None:
    db = case.connection
    recorded = [(str(i), str(p)) for i, p in db.execute("SELECT id, path FROM source ORDER BY id")]
    given = sorted((s.spec.source_id, s.spec.path) for s in sources)
    first_folder = meta.get("working_folder")
    base = Path(first_folder) if isinstance(first_folder, str) else None
    same = [i for i, _ in recorded] == [i for i, _ in given] and all(
        _same_source(first, now, base) for (_, first), (_, now) in zip(recorded, given, strict=True)
    )
    if not same:
        first = ", ".join(path for _, path in recorded)
        now = ", ".join(path for _, path in given)
        raise CaseError("--resume needs the same sources, in the same order, as the first "
                        f"run (first run: {first}; now: {now})")  # fmt: skip
    recorded_sets = sorted(tuple(r) for r in db.execute("SELECT name, sha256 FROM hashset"))
    if recorded_sets != sorted((h.name, h.sha256) for h in sets):
        raise CaseError("--resume needs the same hash sets as the first run")


def _same_source(first: str, now: str, base: Path | None) -> bool:
    """Whether a source path given now leads where the first run's did: ``ev``, ``./ev``
    and its absolute path are one source, the first run's resolved from the folder it
    ran in (``base``). Where that is not known (a case made before it was recorded), a
    relative path must be given as it was."""
    if base is None and not Path(first).is_absolute():
        return os.path.normpath(first) == os.path.normpath(now)
    return resolved(Path(first), base) == resolved(Path(now))


def _check_same_settings(
    meta: dict[str, object],
    options: ScanOptions,
    algorithms: tuple[str, ...],
    checks: dict[str, bool | None],
) -> None:
    """A resumed scan must hash and match as the first run did, or its report would mix
    two kinds of results without saying so: the same hashmatch (whose report names one
    version, and which checks hits as it does), the same settings, and its sets checked
    as they were (a set imported again may now be checked against other hashes)."""
    tool = meta.get("tool")
    first = {
        "hashmatch": tool.get("version") if isinstance(tool, dict) else None,
        "algorithms": meta.get("algorithms"),
        "thresholds": meta.get("thresholds"),
        "variants": meta.get("variants", True),
        "hash checks": meta.get("hash_checks"),
    }
    now = {
        "hashmatch": __version__,
        "algorithms": list(algorithms),
        "thresholds": dict(options.thresholds.values),
        "variants": options.variants,
        "hash checks": checks,
    }
    # A case id or examiner given again must be the case's (the report names one).
    for key, given in (("case_id", options.case_id), ("examiner", options.examiner)):
        if given is not None:
            first[key.replace("_", " ")], now[key.replace("_", " ")] = meta.get(key), given
    changed = [key for key in first if first[key] != now[key]]
    if changed:
        detail = "; ".join(f"{key}: first run {first[key]}, now {now[key]}" for key in changed)
        raise CaseError(f"--resume needs the settings of the first run ({detail})")


def _run(
    case: CaseDatabase,
    sources: Sequence[Source],
    matcher: Matcher,
    hashing: HashingOptions,
    options: ScanOptions,
    notify: Progress,
    pool: Backend | None,
) -> None:
    notify(ProgressEvent("count", 0, None))
    total = sum(source.count() for source in sources)
    done = case.done_count()
    notify(ProgressEvent("hash", done, total))
    by_id = {s.spec.source_id: s for s in sources}
    walk_errors: list[WalkError] = []
    to_hash: list[Item] = []
    resuming = done > 0

    def unfinished(source: Source, chunk: list[Item]) -> Iterator[Item]:
        skip = case.done_keys(source.spec.source_id, [i.key for i in chunk]) if resuming else ()
        for item in chunk:
            if item.key in skip:
                continue
            if item.skip_reason is not None:
                to_hash.append(item)  # recorded without reading
            else:
                yield item

    def walk() -> Iterator[Item]:
        for source in sources:
            chunk: list[Item] = []
            for entry in source.walk():
                if isinstance(entry, WalkError):
                    walk_errors.append(entry)
                    continue
                chunk.append(entry)
                if len(chunk) >= RESUME_CHUNK:
                    yield from unfinished(source, chunk)
                    chunk = []
            yield from unfinished(source, chunk)

    specs = {s.spec.source_id: s.spec for s in sources}
    pending: list[FileOutcome] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush, done
        records = _match(pending, matcher, by_id, options)
        records.extend(FileOutcome(item, None) for item in to_hash)
        case.write(records, walk_errors)
        done += len(records)
        pending.clear()
        to_hash.clear()
        walk_errors.clear()
        last_flush = time.monotonic()
        notify(ProgressEvent("hash", done, total))

    for item, hashed in hash_items(walk(), specs, hashing, pool, by_id):
        pending.append(FileOutcome(item, hashed))
        if len(pending) >= BATCH_FILES or time.monotonic() - last_flush > BATCH_SECONDS:
            flush()
    flush()


def _match(
    pending: Sequence[FileOutcome],
    matcher: Matcher,
    sources: dict[str, Source],
    options: ScanOptions,
) -> list[FileOutcome]:
    hashed = [o.hashed for o in pending if o.hashed is not None]
    verdicts = iter(matcher.match(hashed))
    out = []
    for outcome in pending:
        verdict = next(verdicts) if outcome.hashed is not None else Verdict()
        thumb: Thumbnail | None = None
        problems: tuple[Problem, ...] = ()
        if verdict.listed and outcome.hashed and outcome.hashed.image is not None:
            thumb, problems = _thumbnail(sources[outcome.item.source_id], outcome.item, options)
        out.append(
            dataclasses.replace(outcome, verdict=verdict, thumbnail=thumb, problems=problems)
        )
    return out


def _thumbnail(
    source: Source, item: Item, options: ScanOptions
) -> tuple[Thumbnail | None, tuple[Problem, ...]]:
    if options.thumbnails is ThumbnailStyle.NONE:
        return None, ()
    try:
        with source.open(item) as stream:
            data = stream.read()
        jpeg = make_thumbnail(data, options.thumbnails, max_pixels=options.max_pixels)
    except (OSError, DecodeError) as exc:
        return None, (Problem(Stage.THUMBNAIL, f"no thumbnail: {exc}"),)
    return (Thumbnail(options.thumbnails.value, jpeg) if jpeg else None), ()
