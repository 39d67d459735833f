"""``hashmatch verify CASE_DIR``: re-check the case's manifest and its database."""

from __future__ import annotations

from pathlib import Path

import click

from hashmatch.cli import cli, record_case
from hashmatch.errors import VerificationError
from hashmatch.report.custody import Check, verify_case


def _show(checks: tuple[object, ...]) -> None:
    for check in checks:
        if isinstance(check, Check):
            click.echo(f"{'ok' if check.ok else 'FAILED':<7}{check.subject}: {check.detail}")


@cli.command("verify")
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_command(case_dir: Path) -> None:
    """Check every output of CASE_DIR against its manifest, and the case database.

    Exits 0 when everything matches, 6 naming each file that does not.
    """
    record_case(case_dir)
    try:
        checks = verify_case(case_dir)
    except VerificationError as exc:
        _show(exc.checks)
        raise
    _show(checks)
    click.echo("verified: every output matches the manifest")
