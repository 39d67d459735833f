"""Where ``hashmatch report -o`` may write a case's report: never over a case's own
records (its database, manifest and audit log) nor another case's outputs, never into
the evidence, and one of this case's own outputs only in that output's format, by the
hashmatch that made the case.

The case folder's report.json, matches.csv and report.html are what ``verify`` renders
again and compares; written in another format, or by another version (whose rendering
``verify`` cannot repeat), they would fail it or pass unchecked. Names are compared
without regard to case (on a case-insensitive file system ``Report.JSON`` is
report.json).
"""

from __future__ import annotations

from pathlib import Path

from hashmatch import __version__
from hashmatch.casedb.schema import CASE_DB
from hashmatch.errors import CaseError, UsageError
from hashmatch.paths import resolved, within
from hashmatch.report.custody import AUDIT_LOG, MANIFEST, MANIFEST_SUMS
from hashmatch.report.model import CaseReport
from hashmatch.report.outputs import OUTPUT_FILES, RENDERERS

#: A case's own records: written by the scan (and the audit log by every command) only.
RECORDS = (
    CASE_DB,
    f"{CASE_DB}-wal",
    f"{CASE_DB}-shm",
    f"{CASE_DB}-journal",
    MANIFEST,
    MANIFEST_SUMS,
    AUDIT_LOG,
)


def check_target(
    case_dir: Path, output: Path, fmt: str, report: CaseReport, sources_folder: Path | None
) -> bool:
    """Raise if ``report -o output`` must not write there; True when ``output`` is one
    of the case's own outputs (the manifest is then brought up to date).
    ``sources_folder``: where the scan ran, which its relative source paths start from
    (None: not known, and such a source is not checked)."""
    target = resolved(output)
    name = target.name.casefold()
    folder = resolved(case_dir)
    if name in (r.casefold() for r in RECORDS) and (
        target.parent == folder or (target.parent / CASE_DB).is_file()
    ):
        raise UsageError(f"{output} is a case's own {name}: a report is never written over "
                         "it; name another file")  # fmt: skip
    for source in report.sources:
        path = Path(source.path)
        if not path.is_absolute() and sources_folder is None:
            continue
        root = resolved(path, sources_folder)
        if within(target, root):
            raise CaseError(f"{output} lies inside the evidence {source.path}; outputs must "
                            "never be written into evidence")  # fmt: skip
    own = name in (o.casefold() for o in OUTPUT_FILES)
    if not own:
        return False
    if target.parent != folder:
        if (target.parent / CASE_DB).is_file():
            raise UsageError(f"{output} is another case's {name}: name another file")
        return False
    expected = next(f for f, (n, _) in RENDERERS.items() if n.casefold() == name)
    if fmt != expected:
        raise UsageError(f"{output} is the case's {expected} report; --format {fmt} would "
                         "replace it with another format: name another file")  # fmt: skip
    if report.tool.version != __version__:
        raise UsageError(f"hashmatch {report.tool.version} made this case and its {name}; "
                         f"this is {__version__}, whose rendering `verify` could not check "
                         "against it: name another file")  # fmt: skip
    return True
