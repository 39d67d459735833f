"""report.html: one self-contained page for the case file.

Inline CSS, no script, no external resource; a Content-Security-Policy forbids scripts
and any load but inline styles and ``data:`` images. Every value from evidence goes
through ``markup.escape``. Thumbnails are the stored, pre-blurred JPEGs; nothing in the
page can reveal more than they hold.
"""

from __future__ import annotations

import base64

from hashmatch.hashsets import Category
from hashmatch.matching import Hit, HitType
from hashmatch.report.chart import bar_chart
from hashmatch.report.markup import Markup, element, escape, join, table
from hashmatch.report.model import CaseReport, FileRecord
from hashmatch.sources import Partition

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'"

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#111}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}td{overflow-wrap:anywhere}
.mono{font-family:ui-monospace,monospace;font-size:.9em}
.exact{background:#fde2e2}.near{background:#fff4d6}
.badge{display:inline-block;padding:0 .4em;border-radius:3px;font-weight:bold}
.b-exact{background:#b00020;color:#fff}.b-near{background:#c77700;color:#fff}
.notice{border:2px solid #c77700;padding:.6em;background:#fff8e6}
.warn{color:#b00020}
img.thumb{width:96px;height:auto;display:block}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 1em}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0}
@media print{body{margin:0;font-size:10pt}tr,img{page-break-inside:avoid}
thead{display:table-header-group}h2{page-break-after:avoid}}
"""

NEAR_NOTICE = (
    "A perceptual (near) hit means the picture looks like a known image. It is a lead for "
    "human confirmation, not proof that the files are the same. Exact hits (MD5, SHA-1, "
    'SHA-256) mean the bytes are identical to the known file, unless the hit says "Not '
    'the known file" (see "Same hash, another file").'
)

MISMATCH_NOTICE = (
    "Exact hits whose set entry disagrees with the file: the entry records another file "
    "size (sets that record sizes: hashdeep, NSRL, HashKeeper, VICS MediaSize, a CSV size "
    "column), or another value of one of the file's other hashes (the MD5 is the entry's, "
    "the SHA-1 is not). The bytes cannot be the known file's: the entry is wrong, or the "
    "hit's hash collides. hashdeep does not count such a match. They are listed here "
    "whatever the set's category: a known-good hit of this kind still counts the file as "
    "known-good."
)


def _facts(pairs: list[tuple[str, object]]) -> Markup:
    items = [Markup(element("dt", k) + element("dd", v)) for k, v in pairs]
    return element("dl", *items, class_="facts")


def _header(report: CaseReport) -> Markup:
    case, tool = report.case, report.tool
    libraries = ", ".join(f"{name} {version}" for name, version in tool.libraries)
    return _facts(
        [
            ("Case", case.id),
            ("Examiner", case.examiner or "(not given)"),
            ("Started (UTC)", case.started),
            ("Finished (UTC)", case.finished or "(not finished)"),
            ("Tool", f"{tool.name} {tool.version} (Python {tool.python})"),
            ("Libraries", libraries),
            ("Host / user", f"{case.host} / {case.user}"),
            ("Platform", tool.platform),
            ("Command", element("span", " ".join(case.command), class_="mono")),
            ("Algorithms", ", ".join(case.algorithms)),
            ("Near thresholds", ", ".join(f"{a} ≤ {n}" for a, n in case.thresholds)),
            ("Thumbnails", case.thumbnails),
            ("Resumed (UTC)", ", ".join(case.resumed) or "no: one uninterrupted run"),
        ]
    )


def _summary(report: CaseReport) -> Markup:
    s = report.summary
    rows: list[list[object]] = [
        ["Files found", s.files],
        ["Hashed", s.hashed],
        ["Images decoded", s.images],
        ["Matched (listed below)", s.matched_files],
        ["Known-good only (not listed)", s.known_good],
        ["Not read (links, special files)", s.skipped],
        ["Unreadable", s.unreadable],
        ["Errors recorded", s.errors],
        ["No perceptual verdict (too little detail)", s.no_perceptual_verdict],
        [
            "Files with an exact hit whose entry disagrees (another size or hash)",
            s.mismatched_files,
        ],
    ]
    # (a file hit in two categories counts in both: the rows need not add up)
    rows += [[f"Matched files with a {c} hit", n] for c, n in s.matched_by_category]
    rows += [[f"Files in source {source}", n] for source, n in s.files_by_source]
    chart = bar_chart(
        [
            ("hashed", s.hashed, "#4a6fa5"),
            ("matched", s.matched_files, "#b00020"),
            ("known-good", s.known_good, "#2e7d32"),
            ("with errors", s.errors, "#c77700"),
            ("not read", s.skipped + s.unreadable, "#777777"),
        ]
    )
    return join([table(("", "count"), rows), chart])


def _thumb(record: FileRecord) -> Markup:
    if record.thumbnail is None:
        return Markup("")
    uri = "data:image/jpeg;base64," + base64.b64encode(record.thumbnail).decode("ascii")
    return Markup(f'<img class="thumb" alt="thumbnail" src="{escape(uri)}">')


def _hit(hit: Hit, size: int) -> Markup:
    kind = hit.type.value
    disagrees = hit.disagrees
    measure = (
        ("same hash" if disagrees else "identical bytes")
        if hit.type is HitType.EXACT
        else (f"distance {hit.distance} (threshold {hit.threshold})")
    )
    label = f" [{hit.label}]" if hit.label else ""
    text = f" {hit.algorithm}: {measure}; set {hit.hashset}, {hit.category.value}{label}"
    reference = f"; reference {hit.reference}" if hit.reference else ""
    badge = element("span", kind, class_=f"badge b-{kind}")
    if not disagrees:
        return element("div", badge, text + reference, class_=kind)
    return element("div", badge, text + reference, _disagreement(hit, size), class_=kind)


#: What the hash-set table says of ``HashSetRecord.hash_checks``.
_CHECKED = {True: "yes", False: "no", None: "one hash an entry"}


def _disagreement(hit: Hit, size: int) -> Markup:
    """Why an exact hit's entry is not this file."""
    why = []
    if hit.size_mismatch and hit.known_size != size:
        why.append(f"the set records {hit.known_size} bytes, this file has {size}")
    elif hit.size_mismatch:  # (the file changed between its listing and its reading)
        why.append(f"the set records {hit.known_size} bytes, and another number was hashed")
    if hit.hash_mismatch:
        why.append(f"the set records another {' and '.join(hit.hash_mismatch)} for it")
    text = f" Not the known file: {'; '.join(why)}. A hash collision or a wrong entry."
    return element("strong", text, class_="warn")


def _severity(record: FileRecord) -> int:
    categories = {hit.category for hit in record.hits}
    return 0 if Category.KNOWN_BAD in categories else 1


def _matches(report: CaseReport) -> Markup:
    if not report.matches:
        return element("p", "No file matched a listed hash set.")
    rows: list[list[object]] = []
    for record in sorted(report.matches, key=lambda r: (_severity(r), r.source, r.path)):
        hashes = element(
            "div", *(element("div", f"{v.algorithm} {v.hex}") for v in record.hashes), class_="mono"
        )
        where = _where(record.source, record.partition, record.inode)
        rows.append(
            [
                _thumb(record),
                element("div", element("div", record.path, class_="mono"), element("div", where)),
                record.size,
                "yes" if record.deleted else "no",
                record.times.modified or "",
                Markup("".join(_hit(h, record.size) for h in record.hits)),
                hashes,
            ]
        )
    headers = ("", "path", "size", "deleted", "modified (UTC)", "hits", "hashes")
    return table(headers, rows)


def _where(source: str, partition: Partition | None, inode: int | None) -> str:
    """The source, and inside a disk image the partition and inode."""
    if partition is None:
        return source
    inside = f"{source} / partition {partition.index} ({partition.fs_type})"
    return inside + (f" / inode {inode}" if inode is not None else "")


def _details(pairs: tuple[tuple[str, str], ...]) -> Markup:
    """A source's details (from the evidence container: hostile text, escaped)."""
    return join([element("div", f"{key}: {value}") for key, value in pairs])


def render_html(report: CaseReport) -> str:
    title = f"hashmatch report: case {report.case.id}"
    sources = table(
        ("id", "path", "kind", "size", "acquisition, partitions and verification"),
        [[s.id, s.path, s.kind, s.size, _details(s.details)] for s in report.sources],
    )
    hashsets = table(
        ("name", "format", "category", "entries", "file", "SHA-256 of file", "imported",
         "hits checked against other hashes"),
        [
            [h.name, h.format, h.category, h.entries, h.source_name,
             element("span", h.sha256, class_="mono"), h.imported_at, _CHECKED[h.hash_checks]]
            for h in report.hashsets
        ],
    )  # fmt: skip
    errors = table(
        ("source", "path", "stage", "message"),
        [[e.source, element("span", e.path, class_="mono"), e.stage, e.message]
         for e in report.errors],
    )  # fmt: skip
    skipped = table(
        ("source", "path", "reason"),
        [[s.source, element("span", s.path, class_="mono"), s.reason] for s in report.skipped],
    )
    no_verdict = table(
        ("source", "path", "reason"),
        [[n.source, element("span", n.path, class_="mono"), n.reason]
         for n in report.no_perceptual_verdict],
    )  # fmt: skip
    mismatches = table(
        ("source", "path", "size", "deleted", "hit", "set", "category", "reference",
         "size the set records", "other hashes the set records otherwise"),
        [[_where(m.source, m.partition, m.inode), element("span", m.path, class_="mono"),
          m.size, "yes" if m.deleted else "no", m.algorithm, m.hashset, m.category,
          m.reference or "", "" if m.known_size is None else m.known_size,
          " ".join(m.hash_mismatch)] for m in report.mismatches],
    )  # fmt: skip
    body = [
        element("h1", title),
        _header(report),
        element("p", NEAR_NOTICE, class_="notice"),
        element("h2", "Summary"),
        _summary(report),
        element("h2", "Evidence sources"),
        sources,
        element("h2", "Hash sets used"),
        hashsets,
        element("h2", f"Matches ({len(report.matches)})"),
        _matches(report),
        element("h2", f"Errors ({len(report.errors)})"),
        errors,
        element("h2", f"Not read ({len(report.skipped)})"),
        skipped,
        element("h2", f"No perceptual verdict ({len(report.no_perceptual_verdict)})"),
        no_verdict,
        element("h2", f"Same hash, another file ({len(report.mismatches)})"),
        element("p", MISMATCH_NOTICE, class_="notice"),
        mismatches,
    ]
    head = Markup(
        '<meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        f"{element('title', title)}<style>{_STYLE}</style>"
    )
    return "<!DOCTYPE html>\n" + element("html", element("head", head), element("body", *body),
                                         lang="en") + "\n"  # fmt: skip
