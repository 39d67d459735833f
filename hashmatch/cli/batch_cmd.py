"""``hashmatch batch MANIFEST.csv``: one case per manifest row, resumable, with a summary."""

from __future__ import annotations

from pathlib import Path

import click

from hashmatch import __version__
from hashmatch.batch import (
    LIST_SEPARATOR,
    BatchRow,
    BatchSummary,
    Outcome,
    run_batch,
    write_summary,
)
from hashmatch.cli import State, cli, invocation
from hashmatch.cli.errors import ExitCode
from hashmatch.cli.options import parse_algorithms
from hashmatch.cli.progress import ScanProgress, wanted
from hashmatch.errors import CaseError, HashmatchError
from hashmatch.hashing import DEFAULT_ALGORITHMS
from hashmatch.matching import parse_thresholds
from hashmatch.report.custody import AuditEntry, append_audit
from hashmatch.report.provenance import host_name, user_name
from hashmatch.report.thumbnails import ThumbnailStyle
from hashmatch.safetext import visible
from hashmatch.scan import ScanOptions, refuse_case_inside_evidence


def _audit_rows(summary: BatchSummary) -> None:
    """Each row's case gets a line in its audit.log: the batch ran a command on it (not a
    case folder that lies inside its evidence: the scan refused it, and nothing is
    written into evidence)."""
    for result in summary.results:
        case_dir = Path(result.output)
        if not case_dir.is_dir():
            continue
        try:
            evidence = [Path(p) for p in result.evidence.split(LIST_SEPARATOR) if p]
            refuse_case_inside_evidence(case_dir, evidence)
        except CaseError:
            continue
        status = ExitCode.BATCH_INCOMPLETE if result.outcome is Outcome.FAILED else ExitCode.OK
        entry = AuditEntry(result.finished, user_name(), host_name(), __version__,
                           (*invocation(), f"(row {result.line}: {result.outcome.value})"),
                           int(status))  # fmt: skip
        try:
            append_audit(case_dir, entry)
        except HashmatchError as exc:
            click.echo(f"hashmatch: warning: {exc}", err=True)


@cli.command("batch")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes per scan (0: one per CPU core).")  # fmt: skip
@click.option("--algorithms", metavar="LIST", help="Comma-separated algorithms (default: "
              + ",".join(DEFAULT_ALGORITHMS) + ").")  # fmt: skip
@click.option("--threshold", "thresholds", multiple=True, metavar="ALG=N",
              help="Near-match threshold for a perceptual algorithm (repeatable).")  # fmt: skip
@click.option("--thumbnails", type=click.Choice(["none", "blurred"]), default="blurred",
              show_default=True, help="Thumbnails of matched images (clear is not offered in "
              "unattended batches).")  # fmt: skip
@click.option("--summary", "summary_prefix", type=click.Path(path_type=Path),
              help="Write the summary to PREFIX.csv and PREFIX.json (default: next to the "
              "manifest, <manifest>-summary).")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def batch_command(
    state: State,
    manifest: Path,
    jobs: int,
    algorithms: str | None,
    thresholds: tuple[str, ...],
    thumbnails: str,
    summary_prefix: Path | None,
    quiet: bool,
) -> None:
    """Scan every row of MANIFEST (CSV: case_id,evidence,examiner,output[,hashsets]).

    Relative paths are taken from the manifest's folder; several evidence paths or hash
    sets in one cell are separated by ';'. A row whose case is complete is skipped, an
    interrupted one is resumed, a failed one is recorded and the batch goes on. Exits 0
    when every row is complete, 7 when some failed (see the summary).
    """
    template = ScanOptions(
        sources=(),
        case_dir=Path(),
        jobs=jobs,
        algorithms=parse_algorithms(algorithms, DEFAULT_ALGORITHMS),
        thresholds=parse_thresholds(thresholds),
        thumbnails=ThumbnailStyle(thumbnails),
        command=invocation(),
    )
    progress = ScanProgress() if wanted(quiet) else None

    def started(row: BatchRow) -> None:
        click.echo(f"line {row.line}: scanning case {visible(row.case_id)}", err=True)

    try:
        summary = run_batch(manifest, state.store(), template, progress=progress,
                            row_started=started)  # fmt: skip
    finally:
        if progress is not None:
            progress.close()
    prefix = summary_prefix or manifest.with_name(f"{manifest.stem}-summary")
    csv_path, json_path = (
        prefix.with_name(prefix.name + ".csv"),
        prefix.with_name(prefix.name + ".json"),
    )
    write_summary(summary, csv_path, json_path)
    _audit_rows(summary)
    for result in summary.results:
        counts = ""
        if result.files is not None:
            counts = (
                f": {result.files} files, {result.matched_files} matched, {result.errors} errors"
            )
        detail = f" ({visible(result.message)})" if result.outcome is Outcome.FAILED else ""
        click.echo(f"{visible(result.case_id)}\t{result.outcome.value}{counts}{detail}")
    click.echo(f"summary: {visible(str(csv_path))} {visible(str(json_path))}")
    if summary.failed:
        raise click.exceptions.Exit(ExitCode.BATCH_INCOMPLETE)
