"""report.json, schema version 1 (the contract in design.md; docs/report-schema.md).

Field names are fixed; fields may be added. Keys keep the documented order, lists are
sorted, and nothing depends on the order files were hashed in, so two scans of the same
evidence differ only in their times.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from hashmatch.report.model import CaseReport, FileRecord

SCHEMA_VERSION = 1


def _match(record: FileRecord) -> dict[str, Any]:
    hashes = record.hashes  # already in registry order (md5, sha1, sha256, pdq, ...)
    return {
        "source": record.source,
        "path": record.path,
        "size": record.size,
        "deleted": record.deleted,
        "partition": asdict(record.partition) if record.partition else None,
        "inode": record.inode,
        "times": asdict(record.times),
        "image": asdict(record.image) if record.image else None,
        "hashes": {v.algorithm: v.hex for v in hashes},
        "quality": {v.algorithm: v.quality for v in hashes if v.quality is not None},
        "hits": [
            {
                "type": hit.type.value,
                "algorithm": hit.algorithm,
                "distance": hit.distance,
                "threshold": hit.threshold,
                "hashset": hit.hashset,
                "category": hit.category.value,
                "label": hit.label,
                "reference": hit.reference,
                "matched_value": hit.matched_value,
                "transform": hit.transform,
                "known_size": hit.known_size,
                "size_mismatch": hit.size_mismatch,
                "hash_mismatch": list(hit.hash_mismatch),
            }
            for hit in record.hits
        ],
        "notes": list(record.notes),
        "thumbnail": record.thumbnail is not None,
    }


def report_dict(report: CaseReport) -> dict[str, Any]:
    tool, case, summary = report.tool, report.case, report.summary
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {
            "name": tool.name,
            "version": tool.version,
            "libraries": dict(tool.libraries),
            "python": tool.python,
            "platform": tool.platform,
        },
        "case": {
            "id": case.id,
            "examiner": case.examiner,
            "started": case.started,
            "finished": case.finished,
            "command": list(case.command),
            "host": case.host,
            "user": case.user,
            "algorithms": list(case.algorithms),
            "thresholds": dict(case.thresholds),
            "thumbnails": case.thumbnails,
            "resumed": list(case.resumed),
        },
        "sources": [
            {"id": s.id, "path": s.path, "kind": s.kind, "size": s.size, "details": dict(s.details)}
            for s in report.sources
        ],
        "hashsets": [
            {
                "name": h.name,
                "format": h.format,
                "category": h.category,
                "entries": h.entries,
                "sha256": h.sha256,
                "source_name": h.source_name,
                "imported_at": h.imported_at,
                "provenance": dict(h.provenance),
                "hash_checks": h.hash_checks,
            }
            for h in report.hashsets
        ],
        "summary": {
            "files": summary.files,
            "hashed": summary.hashed,
            "errors": summary.errors,
            "matched_files": summary.matched_files,
            "known_good": summary.known_good,
            "skipped": summary.skipped,
            "unreadable": summary.unreadable,
            "images": summary.images,
            "no_perceptual_verdict": summary.no_perceptual_verdict,
            "matched_by_category": dict(summary.matched_by_category),
            "files_by_source": dict(summary.files_by_source),
            "mismatched_files": summary.mismatched_files,
        },
        "matches": [_match(m) for m in report.matches],
        "errors": [asdict(e) for e in report.errors],
        "skipped": [asdict(s) for s in report.skipped],
        "no_perceptual_verdict": [asdict(n) for n in report.no_perceptual_verdict],
        "mismatches": [asdict(m) for m in report.mismatches],
    }


def render_json(report: CaseReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
