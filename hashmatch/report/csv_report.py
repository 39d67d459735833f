"""matches.csv: one row per hit, safe to open in a spreadsheet.

Evidence file names and hash-set names are attacker-controlled:

- a cell that a spreadsheet would read as a formula (starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return) is prefixed with an apostrophe, the
  OWASP-recommended neutralisation;
- every cell of a row is quoted (the header's are names of ours), so that a
  spreadsheet splitting rows at ``;`` (the list separator of many European locales)
  does not start a cell inside a name (``x;=HYPERLINK(...)``);
- control characters and bidirectional overrides are written as ``\\uXXXX``
  (``safetext.visible``), as in the HTML report: U+202E would show ``gpj.exe`` as
  ``exe.jpg`` in a spreadsheet, and escape sequences reach a terminal.

report.json keeps every value exactly.
"""

from __future__ import annotations

import csv
import io

from hashmatch.report.model import CaseReport
from hashmatch.safetext import visible

HEADER = (
    "source", "partition", "path", "size", "deleted", "md5", "sha1", "sha256", "pdq", "phash",
    "hit_type", "algorithm", "distance", "threshold", "hashset", "category", "label",
    "reference", "matched_value", "transform", "known_size", "size_mismatch",
    "hash_mismatch",
)  # fmt: skip

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell(value: object) -> str:
    return neutralise(visible(str(value)) if isinstance(value, str) else value)


def render_csv(report: CaseReport) -> str:
    out = io.StringIO()
    out.write(",".join(HEADER) + "\r\n")  # (names of ours: as before, unquoted)
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for record in report.matches:
        hashes = {v.algorithm: v.hex for v in record.hashes}
        partition = record.partition.index if record.partition else ""
        for hit in record.hits:
            row = (
                record.source, partition, record.path, record.size,
                "yes" if record.deleted else "no",
                hashes.get("md5"), hashes.get("sha1"), hashes.get("sha256"),
                hashes.get("pdq"), hashes.get("phash"),
                hit.type.value, hit.algorithm, hit.distance, hit.threshold, hit.hashset,
                hit.category.value, hit.label, hit.reference, hit.matched_value, hit.transform,
                hit.known_size, "yes" if hit.size_mismatch else "no",
                " ".join(hit.hash_mismatch),
            )  # fmt: skip
            writer.writerow([_cell(cell) for cell in row])
    return out.getvalue()
