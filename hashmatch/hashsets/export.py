"""``hashmatch hashset export``: write an imported set back out in an interchange format.

- ``md5sum``: ``<md5>  <name>`` lines, one for each MD5 of an entry (a VICS
  medium's alternative MD5 too; entries without an MD5 are left out); a name holding a
  line break is escaped as GNU md5sum escapes it (``\\`` before the line);
- ``hashdeep``: a hashdeep file (``%%%% size,md5,sha1,sha256,filename``, the hash
  columns the set holds) that hashdeep's own matching and audit modes read: each entry
  with its file's size (kept from hashdeep, NSRL, HashKeeper and CSV sets; a VICS
  medium's MediaSize) and one value of each column (entries without a size or missing a value
  are left out and counted: hashdeep has no empty fields, and takes a size that differs
  from a file's for a hash collision). A set that keeps no sizes at all (a hash list) is
  refused with a message naming the formats that can hold it. A line break in a name,
  which hashdeep cannot escape, is written as a space, and counted (as is a NUL,
  written as ``?`` in both formats: no file name holds one); a name is cut so that its
  line fits what hashdeep reads as one (``HASHDEEP_LINE_BYTES``), and counted;
- ``vics``: a VICS 2.0 ``#Media`` hash set. An entry that came from VICS is its medium
  as written (MediaID, files, alternative hashes, every field), its category in current
  US numbers (``vics_number``: a set imported with the DHS scheme is translated); any
  other entry gets MD5 (required), SHA1, its size as MediaSize, SHA-256 and PDQ as
  AlternativeHashes, and its reference as a file name. A medium whose record Python
  cannot read back (an integer of 4,300 digits or more) is written as it is where its
  category needs no translation, else left out.
The name of an entry from VICS, in md5sum and hashdeep lines, is its medium's first
file name (its reference reads ``MediaID 7; IMG_1.JPG; series S``), one without files
by its reference; any other entry without a name gets ``entry-<number>``.
Evidence-free: a set only holds hashes and the names its source gave them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from hashmatch.errors import UsageError
from hashmatch.hashing import AlgorithmKind, get_algorithm
from hashmatch.hashing.perceptual import PDQ_MIN_QUALITY
from hashmatch.hashsets.formats import known_format
from hashmatch.hashsets.formats.file_sizes import size_of
from hashmatch.hashsets.formats.vics import numbered, vics_number
from hashmatch.hashsets.formats.vics_media import file_names, read_record, reference_of_record
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
    left_out: int  # entries the format cannot hold at all
    #: Perceptual values of written entries the format cannot hold, by what they are.
    dropped: dict[str, int] = field(default_factory=dict)
    #: Written entries whose name the format cannot hold as it is: a line break in a
    #: hashdeep name (written as a space), a NUL in any (written as ``?``).
    renamed: int = 0
    #: Entries left out because they have no file size (hashdeep needs one); not in
    #: ``left_out``.
    no_size: int = 0
    #: Written entries whose name was cut to fit hashdeep's longest line.
    shortened: int = 0


def _perceptual(entry: StoredEntry, dropped: Counter[str], kept: tuple[str, ...] = ()) -> None:
    """Count the entry's perceptual values that are not in ``kept``."""
    for name in [*entry.values, *(name for name, _ in entry.more)]:
        if name not in kept and get_algorithm(name).kind is AlgorithmKind.PERCEPTUAL:
            dropped[name] += 1


def export_set(store: HashSetStore, info: HashSetInfo, fmt: str, out: TextIO) -> ExportResult:
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
    # (A VICS entry's name for md5sum and hashdeep is read from its record here: its
    # reference, read from the record too, would double the time, 6.8 to 11 s for
    # 300,000 media.)
    named_here = info.format == "vics" and fmt in ("md5sum", "hashdeep")
    entries = store.iter_entries(info, references=not named_here)
    if fmt == "md5sum":
        return _md5sum(store, info, entries, out)
    if fmt == "hashdeep":
        return _hashdeep(store, info, entries, out)
    return _vics(store, info, entries, out)


def _name(store: HashSetStore, info: HashSetInfo, entry: StoredEntry) -> str:
    """The entry's file name: a VICS medium's first (its reference is a description),
    else its reference; ``entry-<number>`` for an entry without one."""
    return _described(store, info, entry)[0]


def _described(
    store: HashSetStore, info: HashSetInfo, entry: StoredEntry
) -> tuple[str, int | None]:
    """The entry's file name (``_name``) and file size: its own, or a VICS medium's
    MediaSize (its record read once for both)."""
    reference, size = entry.reference, entry.size
    if info.format == "vics":
        record = store.record(info, entry.entry)
        medium = read_record(record) if record is not None else None
        if size is None and medium is not None:
            size = size_of(medium.get("MediaSize"))
        names = file_names(medium) if medium is not None else []
        if names:
            return names[0], size
        reference = reference_of_record(record) if record is not None else None
    return reference or f"entry-{entry.entry}", size


def md5sum_line(value: str, name: str) -> str:
    """A GNU md5sum line; a name holding a line break escaped as GNU md5sum escapes it
    (``\\n``, ``\\r``, a backslash doubled, the line marked with a backslash before it:
    what ``md5sum -c`` and hashmatch's import read back). Any other name is written as
    it is, backslashes too (a Windows path reads back as written)."""
    if "\n" not in name and "\r" not in name:
        return f"{value}  {name}\n"
    escaped = name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\{value}  {escaped}\n"


def _md5sum(
    store: HashSetStore, info: HashSetInfo, entries: Iterator[StoredEntry], out: TextIO
) -> ExportResult:
    written = left_out = renamed = 0
    dropped: Counter[str] = Counter()
    for entry in entries:
        if "md5" not in entry.values:
            left_out += 1
            continue
        name = _name(store, info, entry)
        if "\x00" in name:  # (no file name holds one; md5sum -c stops the name there)
            name = name.replace("\x00", "?")
            renamed += 1
        for md5 in [entry.values["md5"], *(v for kind, v in entry.more if kind == "md5")]:
            out.write(md5sum_line(md5, name))
        written += 1
        _perceptual(entry, dropped)
    return ExportResult(written, left_out, dict(dropped), renamed)


def _hashdeep(
    store: HashSetStore, info: HashSetInfo, entries: Iterator[StoredEntry], out: TextIO
) -> ExportResult:
    columns = [a for a in _CRYPTO if a in info.algorithms]
    if not columns:
        raise UsageError(f"set {info.name!r} holds no md5, sha1 or sha256 values for hashdeep")
    if store.sized_entries(info) == 0:  # (a VICS set's are known once its media are read)
        raise UsageError(_no_sizes(info))
    # (The set's name quoted and escaped: one with a line break, from a file's name,
    # wrote a line of its own, read back as a hash; cut short, as a long line would be
    # read in two, its rest as a line of hashes.)
    shown = json.dumps(info.name)  # (ASCII: a byte a character)
    shown = shown if len(shown) <= 1000 else shown[:1000] + "..."
    header = (f"%%%% HASHDEEP-1.0\n%%%% size,{','.join(columns)},filename\n"
              f"## exported by hashmatch from hash set {shown}\n##\n")  # fmt: skip
    written = left_out = renamed = no_size = shortened = 0
    dropped: Counter[str] = Counter()
    for entry in entries:
        if any(c not in entry.values for c in columns):
            left_out += 1
            continue
        name, size = _described(store, info, entry)
        if size is None:
            no_size += 1
            continue
        # A line for each value it is found by: its own, then each further one (a VICS
        # medium's alternative MD5) in its column, as the md5sum export writes them.
        further = [(a, value) for a, value in entry.more if a in columns]
        rows = [entry.values] + [entry.values | {a: value} for a, value in further]
        if any(c in name for c in "\n\r\x00"):
            name = name.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
            name = name.replace("\x00", "?")
            renamed += 1
        lines = [f"{size}," + ",".join(values[c] for c in columns) + "," for values in rows]
        room = HASHDEEP_LINE_BYTES - 1 - max(map(len, lines))  # (the line's end: 1 byte)
        encoded = name.encode("utf-8")
        if len(encoded) > room:  # (a part cut off a character is left out with it)
            name = encoded[:room].decode("utf-8", "ignore")
            shortened += 1
        if not written:  # (the header once an entry is written: a refusal writes nothing)
            out.write(header)
        for line in lines:
            out.write(f"{line}{name}\n")
        written += 1
        _perceptual(entry, dropped)
    if written == 0 and no_size:
        raise UsageError(_no_sizes(info))
    if not written:
        out.write(header)
    return ExportResult(written, left_out, dict(dropped), renamed, no_size, shortened)


#: The longest line hashdeep reads whole, its end included (``fgets`` into 2,048 bytes):
#: the rest of a longer one is read as a line of its own, and from a hostile set's name
#: could be a size and hashes hashdeep would take for the set's.
HASHDEEP_LINE_BYTES = 2047


def _no_sizes(info: HashSetInfo) -> str:
    """Why a set cannot be exported for hashdeep, and what to do instead."""
    found = known_format(info.format)
    gives = found is not None and found.gives_sizes
    if info.format == "vics":  # (read from its records: there whatever the import's date)
        why = "none of its media has a MediaSize"
    elif gives:
        why = (f"its {info.format} file gave none, or it was imported before hashmatch "
               "kept them: remove the set and import the file again")  # fmt: skip
    else:
        why = f"{info.format} gives none"
    return (f"set {info.name!r} keeps no file sizes ({why}), and hashdeep reads a file "
            "only with each entry's size: export it as md5sum (which md5deep -m and "
            "md5sum -c read) or vics")  # fmt: skip


def _vics(store: HashSetStore, info: HashSetInfo, entries: Iterator[StoredEntry],
          out: TextIO) -> ExportResult:  # fmt: skip
    out.write('{"@odata.context": ' + json.dumps(VICS_MEDIA_CONTEXT) + ', "value": [\n')
    written = left_out = 0
    dropped: Counter[str] = Counter()
    for entry in entries:
        record = store.record(info, entry.entry)
        medium = _recorded(record, entry)
        if medium is None and "md5" not in entry.values:
            left_out += 1
            continue
        written += 1
        separator = "" if written == 1 else ",\n"
        if medium is None:
            medium = _medium(entry, written, dropped)
        as_written = isinstance(medium, str)  # (a record Python cannot read back)
        if isinstance(medium, dict):
            try:  # (a number beyond a float, 1e999999, read back as infinity: JSON has none)
                medium = _json(medium)
            except ValueError:
                medium, as_written = str(record), True
        if as_written and not _category_as_written(str(record), entry):
            written -= 1  # (its category as written would be read back as another)
            left_out += 1
            continue
        out.write(separator + medium)
    out.write("\n]}\n")
    return ExportResult(written, left_out, dict(dropped))


def _json(medium: dict[str, Any]) -> str:
    """The medium as JSON, in UTF-8 where it can be: a text holding half of a surrogate
    pair alone (a Windows file name's, written as a ``\\u`` escape) cannot be, and such a
    medium is written in ASCII, the half as its escape."""
    text = json.dumps(medium, ensure_ascii=False, allow_nan=False)
    if _SURROGATE.search(text) is None:
        return text
    return json.dumps(medium, allow_nan=False)


#: A character UTF-8 cannot hold: half of a surrogate pair.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _recorded(record: str | None, entry: StoredEntry) -> dict[str, Any] | str | None:
    """The medium as its VICS source wrote it (its own MD5 and MediaID, its files,
    alternative hashes and every other field), with its category in current US numbers;
    the record's text as it is where Python cannot read it back (an integer of 4,300
    digits or more, which the bulk reader keeps as written); None for an entry that did
    not come from VICS."""
    try:
        medium = json.loads(record) if record is not None else None
    except ValueError:
        return record if record is not None and record.lstrip().startswith("{") else None
    if not isinstance(medium, dict) or not isinstance(medium.get("MD5"), str):
        return None
    number = vics_number(entry.label)
    if number is not None:
        medium["Category"] = number
    elif numbered(entry.label):  # a number that means uncategorized (DHS 0)
        medium.pop("Category", None)
    return medium


def _category_as_written(record: str, entry: StoredEntry) -> bool:
    """Whether a record written as it is (Python cannot read it back: ``_recorded``) says
    its entry's category in current US numbers, as an import reads it back (not where
    the set was imported with another scheme: DHS 0 would come back non-pertinent)."""
    medium = read_record(record)
    if medium is None:
        return False
    number = vics_number(entry.label)
    if number is not None:
        try:  # (as a number: 1.0 and "01" are read back as 1)
            return Decimal(str(medium.get("Category")).strip()) == number
        except ArithmeticError:  # (no number at all)
            return False
    return not numbered(entry.label)  # (a number meaning uncategorized: none is written)


def _medium(entry: StoredEntry, media_id: int, dropped: Counter[str]) -> dict[str, Any]:
    """A medium made of an entry that did not come from VICS. VICS gives an alternative
    hash no quality: a PDQ under the quality near matching needs is left out (it would
    come back as one without quality, and be used); other perceptual values are too."""
    # (No Category: hashmatch gives none the source did not, whatever a label reads like.)
    medium: dict[str, Any] = {"MediaID": media_id, "MD5": entry.values["md5"]}
    if "sha1" in entry.values:
        medium["SHA1"] = entry.values["sha1"]
    if entry.size is not None:  # (a VICS import keeps it: a hashdeep export writes it)
        medium["MediaSize"] = entry.size
    alternatives = []
    if "sha256" in entry.values:
        sha256 = entry.values["sha256"]
        alternatives.append({"MD5": entry.values["md5"], "HashName": "SHA256", "HashValue": sha256})
    if "pdq" in entry.values:
        quality = entry.quality.get("pdq")
        if quality is not None and quality < PDQ_MIN_QUALITY:
            dropped["pdq (quality under 50)"] += 1
        else:
            alternatives.append(
                {"MD5": entry.values["md5"], "HashName": "PDQ", "HashValue": entry.values["pdq"]}
            )
    _perceptual(entry, dropped, kept=("pdq",))
    if alternatives:
        medium["AlternativeHashes"] = alternatives
    if entry.reference:
        medium["MediaFiles"] = [{"MD5": entry.values["md5"], "FileName": entry.reference}]
    return medium
