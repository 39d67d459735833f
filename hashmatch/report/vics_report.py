"""``hashmatch report CASE --format vics``: the scan's matched media as a VICS 2.0 case file.

What Griffeye-style tools (and hashmatch itself) import: one ``Media`` per unique MD5 of a
matched file, with SHA-1, the VICS category of its exact hits on VICS sets (in current
US numbers; otherwise no category: uncategorized; a file matched only perceptually, or
only by hits whose entry disagrees with it, gets none, and a comment saying so; a
comment also names the sets whose entry disagrees where another set's agrees),
``MediaFiles`` with the file name, path inside its source, deleted flag and source id,
and SHA-256 and PDQ as ``AlternativeHashes``. A matched file without an MD5 (scanned
with ``--algorithms`` leaving md5 out) cannot be a VICS medium and is left out; the case
notes how many.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hashmatch.hashsets import Category
from hashmatch.hashsets.formats.vics import SCHEMES, CategoryScheme, vics_number
from hashmatch.matching.matcher import Hit, HitType
from hashmatch.report.model import CaseReport, FileRecord

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
#: Namespace for the stable CaseID derived from a case id (uuid5).
_CASE_NAMESPACE = uuid.UUID("6a3c4f0e-8d1b-5d7a-9c7e-2b6f1a0d4e90")


def vics_category(record: FileRecord, vics_sets: frozenset[str]) -> int | None:
    """The VICS category (current US numbers) a matched file is exported with: the most
    severe (1 before 2 ...) among its exact hits on VICS sets (``vics_sets``: their
    names; another set's label can read like one) that list it. Never a near hit's (the
    file is not that medium), a known-good one's (a file listed because another set
    hit it would come back as non-pertinent), nor one whose entry disagrees with the
    file (another size or SHA-1: not that medium for certain)."""
    numbers = [
        number
        for hit in _exact(record)
        if hit.category.listed and hit.hashset in vics_sets
        if (number := vics_number(hit.label)) is not None and number not in _NOT_LISTED
    ]
    return min(numbers) if numbers else None


def _exact(record: FileRecord) -> list[Hit]:
    """The file's exact hits whose entry agrees with it."""
    return [hit for hit in record.hits if hit.type is HitType.EXACT and not hit.disagrees]


#: US numbers whose media are known-good.
_NOT_LISTED = frozenset(
    n for n, (_, c) in SCHEMES[CategoryScheme.VICS_US].items() if c is Category.KNOWN_GOOD
)
#: What a medium matched only perceptually says of itself.
NEAR_ONLY = (
    "hashmatch: a perceptual (near) match only, to be confirmed by eye; not a known medium, "
    "so not categorised"
)
#: What a medium whose exact hits all disagree with their entries says of itself.
DISAGREEING_ONLY = (
    "hashmatch: the same hash as a known medium, but the set's entry records another size "
    "or hash (a collision or a wrong entry); not that medium for certain, so not categorised"
)
#: What a medium says of the entries that disagree with it when others agree.
DISAGREEING_SOME = (
    "hashmatch: the same hash as an entry of {sets} that records another size or hash (a "
    "collision or a wrong entry); no category is taken from such an entry"
)


def _media(
    md5: str, records: list[FileRecord], media_id: int, vics_sets: frozenset[str]
) -> dict[str, Any]:
    first = records[0]
    hashes = {v.algorithm: v.hex for v in first.hashes}
    media: dict[str, Any] = {"MediaID": media_id, "MD5": md5}
    if "sha1" in hashes:
        media["SHA1"] = hashes["sha1"]
    categories = [c for c in (vics_category(r, vics_sets) for r in records) if c is not None]
    if categories:
        media["Category"] = min(categories)
    disagreeing = sorted({hit.hashset for r in records for hit in r.hits
                          if hit.type is HitType.EXACT and hit.disagrees})  # fmt: skip
    if not any(_exact(r) for r in records):
        media["Comments"] = DISAGREEING_ONLY if disagreeing else NEAR_ONLY
    elif disagreeing:  # (another set's agreeing hit must not hide it: md5-only lists agree)
        media["Comments"] = DISAGREEING_SOME.format(sets=", ".join(disagreeing))
    media["MediaSize"] = first.size
    if first.image is not None:
        media["MimeType"] = f"image/{first.image.format.lower()}"
    media["MediaFiles"] = [
        {
            "MD5": md5,
            "FileName": r.path.rsplit("/", 1)[-1],
            "FilePath": r.path,
            "Deleted": r.deleted,
            "SourceID": r.source,
            **({"Written": r.times.modified} if r.times.modified else {}),
        }
        for r in records
    ]
    alternatives = [
        {"MD5": md5, "HashName": name.upper(), "HashValue": hashes[name]}
        for name in ("sha256", "pdq")
        if name in hashes
    ]
    if alternatives:
        media["AlternativeHashes"] = alternatives
    return media


def vics_document(report: CaseReport) -> dict[str, Any]:
    by_md5: dict[str, list[FileRecord]] = {}
    without_md5 = 0
    for record in report.matches:
        md5 = next((v.hex for v in record.hashes if v.algorithm == "md5"), None)
        if md5 is None:
            without_md5 += 1
            continue
        by_md5.setdefault(md5, []).append(record)
    vics_sets = frozenset(s.name for s in report.hashsets if s.format == "vics")
    media = [_media(md5, records, n, vics_sets)
             for n, (md5, records) in enumerate(sorted(by_md5.items()), 1)]  # fmt: skip
    case: dict[str, Any] = {
        "CaseID": str(uuid.uuid5(_CASE_NAMESPACE, report.case.id)),
        "CaseNumber": report.case.id,
        "SourceApplicationName": report.tool.name,
        "SourceApplicationVersion": report.tool.version,
        "TotalMediaFiles": sum(len(m["MediaFiles"]) for m in media),
        "Media": media,
    }
    if report.case.examiner:
        case["ContactName"] = report.case.examiner
    if without_md5:
        case["Comments"] = f"{without_md5} matched file(s) without an MD5 are not included"
    return {"@odata.context": CONTEXT, "value": [case]}


def render_vics(report: CaseReport) -> str:
    return json.dumps(vics_document(report), indent=2, ensure_ascii=False) + "\n"
