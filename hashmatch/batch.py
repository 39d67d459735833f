"""Batch scans: one case per row of a CSV manifest, resumable, with a summary of outcomes.

A lab queues evidence items in a manifest (``case_id,evidence,examiner,output`` and an
optional ``hashsets`` column). ``run_batch`` scans them one after the other: a row whose
case is already complete is skipped, a row whose case was interrupted is resumed (as is
one stopped once complete, before its manifest was written), and a
row that fails is recorded with the reason while the batch goes on. The summary (CSV and
JSON) lists every row's outcome; re-running the same manifest finishes what is left.
"""

from __future__ import annotations

import csv
import enum
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from hashmatch.casedb.schema import CASE_DB
from hashmatch.dbutil import connect_read_only
from hashmatch.errors import HashmatchError, ManifestError
from hashmatch.hashsets import HashSetStore
from hashmatch.report.csv_report import neutralise
from hashmatch.scan import Progress, ScanOptions, is_finished, scan
from hashmatch.timeutil import utc_now

REQUIRED = ("case_id", "evidence", "examiner", "output")
OPTIONAL = ("hashsets",)
LIST_SEPARATOR = ";"  # several evidence paths or hash sets in one cell


@dataclass(frozen=True)
class BatchRow:
    line: int
    case_id: str
    evidence: tuple[Path, ...]
    examiner: str
    output: Path
    hashsets: tuple[str, ...] = ()


class Outcome(enum.Enum):
    COMPLETED = "completed"
    RESUMED = "resumed"
    ALREADY_COMPLETE = "already-complete"
    FAILED = "failed"


@dataclass(frozen=True)
class RowResult:
    line: int
    case_id: str
    evidence: str
    output: str
    outcome: Outcome
    files: int | None = None
    matched_files: int | None = None
    errors: int | None = None
    message: str = ""
    started: str = ""
    finished: str = ""


@dataclass(frozen=True)
class BatchSummary:
    manifest: str
    results: tuple[RowResult, ...]

    @property
    def failed(self) -> int:
        return sum(r.outcome is Outcome.FAILED for r in self.results)


def read_manifest(path: Path) -> list[BatchRow]:
    """Read and check the whole manifest before anything runs."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            reader = csv.DictReader(stream)
            header = [h.strip().lower() for h in reader.fieldnames or []]
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}; "
                                    f"expected {','.join(REQUIRED + OPTIONAL)}")  # fmt: skip
            reader.fieldnames = header
            rows = [_row(path, reader.line_num, raw) for raw in reader]
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: not a readable CSV file: {exc}") from exc
    if not rows:
        raise ManifestError(f"{path}: the manifest lists no evidence")
    _refuse_shared_outputs(path, rows)
    return rows


def _row(path: Path, line: int, raw: dict[str | None, str | list[str] | None]) -> BatchRow:
    def cell(name: str) -> str:
        value = raw.get(name)
        return value.strip() if isinstance(value, str) else ""

    if raw.get(None):
        raise ManifestError(f"{path}, line {line}: more cells than columns")
    for name in REQUIRED:
        if name != "examiner" and not cell(name):
            raise ManifestError(f"{path}, line {line}: empty {name}")
    base = path.parent
    return BatchRow(
        line=line,
        case_id=cell("case_id"),
        evidence=tuple(base / p.strip() for p in _split(cell("evidence"))),
        examiner=cell("examiner"),
        output=base / cell("output"),
        hashsets=tuple(_split(cell("hashsets"))),
    )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _refuse_shared_outputs(path: Path, rows: Sequence[BatchRow]) -> None:
    seen: dict[Path, int] = {}
    for row in rows:
        key = row.output.resolve()
        if key in seen:
            raise ManifestError(f"{path}, lines {seen[key]} and {row.line}: two rows write to "
                                f"the same output folder {row.output}")  # fmt: skip
        seen[key] = row.line


def case_status(case_dir: Path) -> str | None:
    """The recorded status of the case in ``case_dir`` (``complete``, ``running``), if any."""
    database = case_dir / CASE_DB
    if not database.is_file():
        return None
    try:
        with closing(connect_read_only(database, immutable=False)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'status'").fetchone()
    except sqlite3.Error:
        return "unknown"
    return str(json.loads(row[0])) if row else "running"


RowStarted = Callable[[BatchRow], None]


def run_batch(
    manifest: Path,
    store: HashSetStore,
    template: ScanOptions,
    *,
    progress: Progress | None = None,
    row_started: RowStarted | None = None,
) -> BatchSummary:
    """Scan every row of ``manifest``; ``template`` holds the options shared by all rows."""
    rows = read_manifest(manifest)
    results = [_run_row(row, store, template, progress, row_started) for row in rows]
    return BatchSummary(str(manifest), tuple(results))


def _run_row(
    row: BatchRow,
    store: HashSetStore,
    template: ScanOptions,
    progress: Progress | None,
    row_started: RowStarted | None,
) -> RowResult:
    base = RowResult(
        row.line,
        row.case_id,
        LIST_SEPARATOR.join(str(p) for p in row.evidence),
        str(row.output),
        Outcome.FAILED,
        started=utc_now(),
    )
    status = case_status(row.output)
    if is_finished(status, row.output):  # (else resumed, as ``scan --resume`` does)
        return replace(base, outcome=Outcome.ALREADY_COMPLETE, finished=utc_now(),
                       message="the case was completed by an earlier run")  # fmt: skip
    if row_started is not None:
        row_started(row)
    options = replace(
        template,
        sources=row.evidence,
        case_dir=row.output,
        case_id=row.case_id,
        examiner=row.examiner or None,
        hashsets=row.hashsets or template.hashsets,
        resume=status is not None,
    )
    try:
        result = scan(options, store, progress)
    except HashmatchError as exc:
        return replace(base, message=str(exc), finished=utc_now())
    except Exception as exc:  # one item's bug must not stop the lab's queue
        message = f"internal error: {type(exc).__name__}: {exc}"
        return replace(base, message=message, finished=utc_now())
    return replace(
        base,
        outcome=Outcome.RESUMED if options.resume else Outcome.COMPLETED,
        files=result.files,
        matched_files=result.matched_files,
        errors=result.errors,
        finished=utc_now(),
    )


SUMMARY_FIELDS = tuple(RowResult.__dataclass_fields__)


def summary_rows(summary: BatchSummary) -> Iterator[dict[str, object]]:
    for result in summary.results:
        row = asdict(result)
        row["outcome"] = result.outcome.value
        yield row


def write_summary(summary: BatchSummary, csv_path: Path, json_path: Path) -> None:
    """Write the outcome of every row as CSV (spreadsheet-safe) and JSON."""
    rows = list(summary_rows(summary))
    with csv_path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise("" if v is None else str(v)) for k, v in row.items()})
    document = {
        "manifest": summary.manifest,
        "written": utc_now(),
        "rows": len(rows),
        "failed": summary.failed,
        "results": rows,
    }
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
