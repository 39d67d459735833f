"""``hashmatch hashset export``: write an imported set back out in an interchange format.

- ``md5sum``: ``<md5>  <reference>`` lines (entries without an MD5 are left out);
- ``hashdeep``: a hashdeep file with the md5, sha1 and sha256 columns the set holds
  (entries missing one of them are left out: hashdeep has no empty fields);
- ``vics``: a VICS 2.0 ``#Media`` hash set: MD5 (required), SHA1, the original VICS
  category number when the entry came from VICS, SHA-256 and PDQ as AlternativeHashes,
  the reference as a file name.
Evidence-free: a set only holds hashes and the names its source gave them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from hashmatch.errors import UsageError
from hashmatch.hashsets.formats.vics import vics_number
from hashmatch.hashsets.model import HashSetInfo
from hashmatch.hashsets.store import HashSetStore, StoredEntry

EXPORT_FORMATS = ("md5sum", "hashdeep", "vics")
VICS_MEDIA_CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
)
_CRYPTO = ("md5", "sha1", "sha256")


@dataclass(frozen=True)
class ExportResult:
    written: int
    left_out: int


def export_set(store: HashSetStore, info: HashSetInfo, fmt: str, out: TextIO) -> ExportResult:
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
    entries = store.iter_entries(info)
    if fmt == "md5sum":
        return _md5sum(entries, out)
    if fmt == "hashdeep":
        return _hashdeep(info, entries, out)
    return _vics(entries, out)


def _name(entry: StoredEntry) -> str:
    text = entry.reference or f"entry-{entry.entry}"
    return text.replace("\n", " ").replace("\r", " ")


def _md5sum(entries: Iterator[StoredEntry], out: TextIO) -> ExportResult:
    written = left_out = 0
    for entry in entries:
        if "md5" not in entry.values:
            left_out += 1
            continue
        out.write(f"{entry.values['md5']}  {_name(entry)}\n")
        written += 1
    return ExportResult(written, left_out)


def _hashdeep(info: HashSetInfo, entries: Iterator[StoredEntry], out: TextIO) -> ExportResult:
    columns = [a for a in _CRYPTO if a in info.algorithms]
    if not columns:
        raise UsageError(f"set {info.name!r} holds no md5, sha1 or sha256 values for hashdeep")
    out.write("%%%% HASHDEEP-1.0\n")
    out.write(f"%%%% {','.join(columns)},filename\n")
    out.write(f"## exported by hashmatch from hash set {info.name}\n##\n")
    written = left_out = 0
    for entry in entries:
        if any(c not in entry.values for c in columns):
            left_out += 1
            continue
        out.write(",".join(entry.values[c] for c in columns) + f",{_name(entry)}\n")
        written += 1
    return ExportResult(written, left_out)


def _vics(entries: Iterator[StoredEntry], out: TextIO) -> ExportResult:
    out.write('{"@odata.context": ' + json.dumps(VICS_MEDIA_CONTEXT) + ', "value": [\n')
    written = left_out = 0
    for entry in entries:
        if "md5" not in entry.values:
            left_out += 1
            continue
        written += 1
        separator = "" if written == 1 else ",\n"
        out.write(separator + json.dumps(_medium(entry, written), ensure_ascii=False))
    out.write("\n]}\n")
    return ExportResult(written, left_out)


def _medium(entry: StoredEntry, media_id: int) -> dict[str, Any]:
    medium: dict[str, Any] = {"MediaID": media_id, "MD5": entry.values["md5"]}
    if "sha1" in entry.values:
        medium["SHA1"] = entry.values["sha1"]
    number = vics_number(entry.label)
    if number is not None:
        medium["Category"] = number
    alternatives = [{"MD5": entry.values["md5"], "HashName": name.upper(),
                     "HashValue": entry.values[name]}
                    for name in ("sha256", "pdq") if name in entry.values]  # fmt: skip
    if alternatives:
        medium["AlternativeHashes"] = alternatives
    if entry.reference:
        medium["MediaFiles"] = [{"MD5": entry.values["md5"], "FileName": entry.reference}]
    return medium
