"""Write a case's outputs into its folder, all rendered from the case database."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from hashmatch.casedb.database import CaseDatabase
from hashmatch.casedb.reader import read_report
from hashmatch.errors import CaseError, UsageError
from hashmatch.report.csv_report import render_csv
from hashmatch.report.html_report import render_html
from hashmatch.report.json_report import render_json
from hashmatch.report.model import CaseReport, Summary
from hashmatch.report.vics_report import render_vics

RENDERERS: dict[str, tuple[str, Callable[[CaseReport], str]]] = {
    "json": ("report.json", render_json),
    "csv": ("matches.csv", render_csv),
    "html": ("report.html", render_html),
    "vics": ("report.vics.json", render_vics),
}
#: What every scan writes into its case folder (the VICS export is on request).
OUTPUT_FILES = ("report.json", "matches.csv", "report.html")


def render(report: CaseReport, fmt: str) -> str:
    try:
        return RENDERERS[fmt][1](report)
    except KeyError:
        known = ", ".join(RENDERERS)
        raise UsageError(f"unknown report format {fmt!r} (known: {known})") from None


def write_text(path: Path, text: str) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            out.write(text)
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # (no half-written file left in the case)
            partial.unlink(missing_ok=True)
        raise CaseError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_outputs(case: CaseDatabase, case_dir: Path) -> tuple[tuple[Path, ...], Summary]:
    report = read_report(case)
    written = []
    for fmt, (name, _) in RENDERERS.items():
        if name not in OUTPUT_FILES:
            continue
        path = case_dir / name
        write_text(path, render(report, fmt))
        written.append(path)
    return tuple(written), report.summary
