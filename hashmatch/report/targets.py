"""Where ``hashmatch report -o`` may write a case's report: never over the case's own
records (its database, manifest and audit log), never into the evidence, and one of the
case's own outputs only in that output's format, by the hashmatch that made the case.

The case folder's report.json, matches.csv and report.html are what ``verify`` renders
again and compares; written in another format, or by another version (whose rendering
``verify`` cannot repeat), they would fail it or pass unchecked.
"""

from __future__ import annotations

import os
from pathlib import Path

from hashmatch import __version__
from hashmatch.casedb.schema import CASE_DB
from hashmatch.errors import CaseError, UsageError
from hashmatch.report.custody import AUDIT_LOG, MANIFEST, MANIFEST_SUMS
from hashmatch.report.model import CaseReport
from hashmatch.report.outputs import OUTPUT_FILES, RENDERERS

#: The case's own records: written by the scan (and the audit log by every command) only.
RECORDS = (
    CASE_DB,
    f"{CASE_DB}-wal",
    f"{CASE_DB}-shm",
    f"{CASE_DB}-journal",
    MANIFEST,
    MANIFEST_SUMS,
    AUDIT_LOG,
)


def check_target(case_dir: Path, output: Path, fmt: str, report: CaseReport) -> bool:
    """Raise if ``report -o output`` must not write there; True when ``output`` is one
    of the case's own outputs (the manifest is then brought up to date)."""
    target = output.resolve()
    folder = case_dir.resolve()
    for name in RECORDS:
        if target == folder / name or _same_file(output, folder / name):
            raise UsageError(f"{output} is the case's own {name}: a report is never written "
                             "over it; name another file")  # fmt: skip
    for source in report.sources:
        root = Path(source.path).resolve()
        if target == root or (root.is_dir() and root in target.parents):
            raise CaseError(f"{output} lies inside the evidence {source.path}; outputs must "
                            "never be written into evidence")  # fmt: skip
    own = target.parent == folder and target.name in OUTPUT_FILES
    if not own:
        return False
    expected = next(f for f, (name, _) in RENDERERS.items() if name == target.name)
    if fmt != expected:
        raise UsageError(f"{output} is the case's {expected} report; --format {fmt} would "
                         "replace it with another format: name another file")  # fmt: skip
    if report.tool.version != __version__:
        raise UsageError(f"hashmatch {report.tool.version} made this case and its {target.name}; "
                         f"this is {__version__}, whose rendering `verify` could not check "
                         "against it: name another file")  # fmt: skip
    return True


def _same_file(output: Path, record: Path) -> bool:
    """Whether ``output`` is ``record`` under another name (a hard link)."""
    try:
        return os.path.samefile(output, record)
    except OSError:  # (either does not exist)
        return False
