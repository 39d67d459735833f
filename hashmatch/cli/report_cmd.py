"""``hashmatch report CASE_DIR --format ...``: render a report again from the case database."""

from __future__ import annotations

from pathlib import Path

import click

from hashmatch.casedb import CaseDatabase, read_report
from hashmatch.cli import cli, record_case
from hashmatch.report.custody import MANIFEST, write_manifest
from hashmatch.report.outputs import RENDERERS, render, write_text
from hashmatch.report.targets import check_target


@cli.command("report")
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(list(RENDERERS)), required=True,
              help="Output format.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write (default, or -: standard output; ./- is a file).")  # fmt: skip
def report_command(case_dir: Path, fmt: str, output: str | None) -> None:
    """Render the report of the case in CASE_DIR from its case database.

    Writing one of the case's own outputs in its format (e.g. -o CASE_DIR/report.html)
    updates the case's manifest, so that `hashmatch verify` still passes. The case's
    database, manifest and audit log are never written over, nor is anything written
    into the evidence.
    """
    record_case(case_dir)
    with CaseDatabase.read(case_dir) as case:
        report = read_report(case)
        ran_in = case.meta().get("working_folder")
    if output is None or output == "-":  # (as written: a Path makes "./-" of "-" too)
        click.echo(render(report, fmt), nl=False)
        return
    folder = Path(ran_in) if isinstance(ran_in, str) else None
    own = check_target(case_dir, Path(output), fmt, report, folder)
    write_text(Path(output), render(report, fmt))
    if own and (case_dir / MANIFEST).is_file():
        write_manifest(case_dir)
