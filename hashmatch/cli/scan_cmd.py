"""``hashmatch scan SOURCE... -o CASE_DIR``: hash, match and report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hashmatch.cli import State, cli, invocation, record_case
from hashmatch.cli.options import parse_algorithms
from hashmatch.cli.progress import ScanProgress, wanted
from hashmatch.hashing import DEFAULT_ALGORITHMS
from hashmatch.hashing.decode import DEFAULT_MAX_PIXELS
from hashmatch.matching import parse_thresholds
from hashmatch.report.thumbnails import ThumbnailStyle
from hashmatch.safetext import visible
from hashmatch.scan import ScanOptions, refuse_case_inside_evidence, scan


@cli.command("scan")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", "case_dir", required=True, type=click.Path(path_type=Path),
    help="Case folder to write (must be new or empty unless --resume or --force).",
)  # fmt: skip
@click.option("--hashset", "hashsets", multiple=True, metavar="NAME",
              help="Match against this set (repeatable; default: every imported set).")  # fmt: skip
@click.option("--case-id", help="Case identifier (default: the case folder's name).")
@click.option("--examiner", help="Name of the examiner, recorded in the report.")
@click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Worker processes (0: one per CPU core).")  # fmt: skip
@click.option(
    "--algorithms",
    metavar="LIST",
    help="Comma-separated algorithms (default: " + ",".join(DEFAULT_ALGORITHMS) + ").",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="ALG=N",
    help="Near-match threshold for a perceptual algorithm, e.g. pdq=31 (repeatable).",
)
@click.option(
    "--thumbnails", type=click.Choice([s.value for s in ThumbnailStyle]), default="blurred",
    show_default=True, help="Thumbnails of matched images in the report.",
)  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask before embedding clear thumbnails.")
@click.option("--max-pixels", type=click.IntRange(min=1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Largest image (in pixels) that is decoded.")  # fmt: skip
@click.option("--resume", is_flag=True, help="Finish an interrupted scan of this case folder.")
@click.option("--force", is_flag=True, help="Replace an earlier case in the case folder.")
@click.option("--no-variants", is_flag=True,
              help="Match only the pictures as they are: not their mirrored, rotated, "
              "letterboxed or cropped forms (docs/perceptual.md).")  # fmt: skip
@click.option("--verify-image", is_flag=True,
              help="Re-hash each disk image and compare with the hashes stored at acquisition "
              "(E01); the result goes into the report.")  # fmt: skip
@click.option("--dask-scheduler", metavar="tcp://HOST:PORT",
              help="Hash on this Dask cluster (needs hashmatch[dask]; workers must see the "
              "evidence at the same path). Matching and the report stay here.")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def scan_command(
    state: State,
    sources: tuple[Path, ...],
    case_dir: Path,
    hashsets: tuple[str, ...],
    case_id: str | None,
    examiner: str | None,
    jobs: int,
    algorithms: str | None,
    thresholds: tuple[str, ...],
    thumbnails: str,
    yes: bool,
    max_pixels: int,
    resume: bool,
    force: bool,
    no_variants: bool,
    verify_image: bool,
    dask_scheduler: str | None,
    quiet: bool,
) -> None:
    """Scan SOURCE folders, files or disk images and write the case to CASE_DIR.

    Exits 0 when the scan completes, whether or not anything matched.
    """
    refuse_case_inside_evidence(case_dir, sources)  # (before its audit line goes there)
    record_case(case_dir)
    style = ThumbnailStyle(thumbnails)
    if style is ThumbnailStyle.CLEAR and not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("--thumbnails clear needs --yes when not run on a terminal")
        click.confirm(
            "Clear thumbnails will show matched images unblurred in the report. Continue?",
            abort=True,
            err=True,
        )
    store = state.store()
    if not store.list_sets():
        click.echo("hashmatch: warning: no hash sets imported; files are hashed, nothing can "
                   "match", err=True)  # fmt: skip
    options = ScanOptions(
        sources=sources,
        case_dir=case_dir,
        hashsets=hashsets,
        case_id=case_id,
        examiner=examiner,
        jobs=jobs,
        algorithms=parse_algorithms(algorithms, DEFAULT_ALGORITHMS),
        thresholds=parse_thresholds(thresholds),
        thumbnails=style,
        max_pixels=max_pixels,
        resume=resume,
        force=force,
        command=invocation(),
        dask_scheduler=dask_scheduler,
        verify_image=verify_image,
        variants=not no_variants,
    )
    progress = ScanProgress() if wanted(quiet) else None
    try:
        result = scan(options, store, progress)
    finally:
        if progress is not None:
            progress.close()
    click.echo(f"case:     {visible(str(result.case_dir))}")
    click.echo(f"files:    {result.files}")
    click.echo(f"matched:  {result.matched_files}")
    click.echo(f"errors:   {result.errors}")
    if result.mismatched_files:
        # (A known-good one is in no match list: the examiner hears of it here too.)
        click.echo(f"same hash, another file: {result.mismatched_files} (the report's "
                   "mismatches: a set entry records another size or hash)")  # fmt: skip
    for path in result.outputs:
        click.echo(f"output:   {visible(str(path))}")
