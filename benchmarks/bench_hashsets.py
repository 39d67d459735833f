"""Hash-set import and exact lookup at scale, against plain-Python baselines in the same run.

    python benchmarks/bench_hashsets.py [--lines 1000000] [--media 300000] [--nsrl-rows 1000000]
                                        [--set-size 10000000]
                                        [--queries 1000000] [--workdir DIR]

1. Import of an md5sum list of ``--lines`` lines; baseline: reading the same file into a
   Python set (the least any importer must do).
2. Import of a VICS 2.0 hash set of ``--media`` media; baseline: ``json.load`` of the file.
   Then the same file in UTF-16, with ``\\u`` escapes, the same media inside one case (a
   case file), in 30 cases with CaseMetadata and Identifiers arrays, and in cases of 5;
   each medium with a SHA-256 and a PDQ; and media of about 1.2 KB with every field an
   examiner's export has (a PhotoDNA, file paths, dates): media/s depends on their size.
   Then an NSRL RDSv3 database with a ``FILE`` table of ``--nsrl-rows`` rows (three
   hashes and a file name each), and an RDS 2.x ``NSRLFile.txt`` of as many lines.
3. Exact lookup of ``--queries`` MD5s (1 % of them present) in a ``--set-size`` set (a bare
   MD5 list written by numpy, imported through the store: a packed set); baseline, up to
   10 M entries: the same lookups in a Python set of the values (beyond that the Python
   set would not fit in memory). ``--set-size 100000000`` needs ~10 GB of free disk.
Each import runs in a child process so that its peak RSS can be reported, and reads its
file from the disk (dropped from the page cache first, ``SETTLE_SECONDS`` after it was
written: as a set arrives on other media); md5sum, PDQ and VICS imports are timed again
with the file in the page cache.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hashmatch.hashsets import HashSetStore

PYTHON_SET_LIMIT = 10_000_000


def write_md5sum(path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w") as out:
        for n in range(lines):
            out.write(f"{rng.getrandbits(128):032x}  file{n}.jpg\n")


def write_half_invalid(path: Path, lines: int, seed: int, shape: str) -> None:
    """An md5sum list or a generic CSV (``md5,sha1,name``) with every other line's MD5
    not hex: what skipping invalid lines costs at its worst."""
    rng = random.Random(seed)
    with path.open("w") as out:
        if shape == "csv":
            out.write("md5,sha1,name\n")
        for n in range(lines):
            md5 = f"{rng.getrandbits(128):032x}" if n % 2 == 0 else f"zz{rng.getrandbits(120):030x}"
            if shape == "csv":
                out.write(f"{md5},{rng.getrandbits(160):040x},file{n}.jpg\n")
            else:
                out.write(f"{md5}  file{n}.jpg\n")


def write_pdq_list(path: Path, lines: int, seed: int) -> None:
    """A PDQ list as Meta's pdq-photo-hasher writes it: ``<hex64>,<quality>,<name>``."""
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        for start in range(0, lines, 100_000):
            values = rng.integers(0, 256, size=(min(100_000, lines - start), 32), dtype=np.uint8)
            qualities = rng.integers(0, 101, size=len(values)).tolist()
            pairs = enumerate(zip(values, qualities, strict=True))
            out.write(
                "".join(f"{v.tobytes().hex()},{q},img{start + i}.jpg\n" for i, (v, q) in pairs)
            )


def write_bare_md5(path: Path, count: int, seed: int, keep: int) -> tuple[list[bytes], set[bytes]]:
    """A bare list of ``count`` random MD5s, written in numpy chunks: (``keep`` of them
    spread over the file, every value when the set is small enough for a Python set)."""
    rng = np.random.default_rng(seed)
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    kept: list[bytes] = []
    table: set[bytes] = set()
    chunk = 1_000_000
    with path.open("wb") as out:
        for start in range(0, count, chunk):
            raw = rng.integers(0, 256, size=(min(chunk, count - start), 16), dtype=np.uint8)
            lines = np.empty((len(raw), 33), np.uint8)
            lines[:, 0:32:2] = digits[raw >> 4]
            lines[:, 1:32:2] = digits[raw & 15]
            lines[:, 32] = ord("\n")
            out.write(lines.tobytes())
            share = keep * len(raw) // count
            kept.extend(bytes(r) for r in raw[rng.choice(len(raw), share, replace=False)])
            if count <= PYTHON_SET_LIMIT:
                table.update(bytes(r) for r in raw)
    return kept, table


def write_vics(
    path: Path,
    media: int,
    seed: int,
    case: bool = False,
    alternatives: bool = False,
    cases: int = 1,
    accented: bool = False,
    full: bool = False,
    half_invalid: bool = False,
) -> None:
    """A flat VICS 2.0 hash set, or (``case``) the same media inside ``cases`` cases
    (more than one: each with CaseMetadata and Identifiers arrays, as the schema has
    them); with ``alternatives``, each medium also has a SHA-256 and a PDQ in
    AlternativeHashes; with ``accented``, each file name has an accent (written as a
    ``\\u`` escape, as json.dumps and .NET's System.Text.Json write it by default); with
    ``full``, each medium has the fields an examiner's export has (a PhotoDNA, flags, a
    MIME type, dates, each file's path, times and evidence item, a SHA-256): about
    1.2 KB a medium, where the plain ones are 230 bytes; with ``half_invalid``, every
    other medium's MD5 is not hex."""
    rng = random.Random(seed)
    shape = "Cases" if case else "Media"
    context = f"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#{shape}"
    per_case = -(-media // cases)
    accent = "é" if accented else ""
    close = "]" + (', "Identifiers": [{"Value": "BENCH"}]' if cases > 1 else "") + "}"
    with path.open("w") as out:
        out.write(json.dumps({"@odata.context": context})[:-1] + ', "value": [\n')
        for n in range(media):
            if case and n % per_case == 0:
                head: dict[str, object] = {"CaseNumber": f"BENCH-{n // per_case + 1}"}
                if cases > 1:
                    head["CaseMetadata"] = [{"PropertyName": "Agency", "PropertyValue": "X"}]
                out.write((close + "," if n else "") + json.dumps(head)[:-1] + ', "Media": [\n')
            medium = {"MediaID": n + 1, "Category": rng.choice([0, 1, 2, 3, 4]),
                      "MD5": f"{rng.getrandbits(128):032X}", "SHA1": f"{rng.getrandbits(160):040x}",
                      "MediaSize": str(rng.randrange(10**6)), "IsPrecategorized": "true",
                      "MediaFiles": [{"FileName": f"IMG_{n}{accent}.JPG"}]}  # fmt: skip
            if full:
                _fill(medium, rng, n)
            if half_invalid and n % 2:
                medium["MD5"] = "zz" + str(medium["MD5"])[2:]
            if alternatives:  # each with the medium's MD5, as the schema has it
                medium["AlternativeHashes"] = [
                    {"MD5": medium["MD5"], "HashName": name,
                     "HashValue": f"{rng.getrandbits(256):064x}"}
                    for name in ("SHA256", "PDQ")
                ]  # fmt: skip
            first = n % per_case == 0 if case else n == 0
            out.write(("" if first else ",") + json.dumps(medium) + "\n")
        out.write((close if case else "") + "]}\n")


def write_vics_odata(path: Path, media: int, seed: int, cases: int) -> None:
    """A VICS 1.3 case file as OData's full metadata writes it: ``odata.id`` starts every
    case, medium and file, a ``*@odata.navigationLinkUrl`` before each array (about
    600 bytes a medium)."""
    rng = random.Random(seed)
    context = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases"
    per_case = -(-media // cases)
    with path.open("w") as out:
        out.write(json.dumps({"odata.metadata": context})[:-1] + ', "value": [\n')
        for n in range(media):
            if n % per_case == 0:
                c = n // per_case + 1
                case = f"http://localhost/Cases({c})"
                head = {"odata.id": case, "CaseID": c, "CaseNumber": f"BENCH-{c}",
                        "Media@odata.navigationLinkUrl": case + "/Media"}  # fmt: skip
                out.write(("]}," if n else "") + json.dumps(head)[:-1] + ', "Media": [\n')
            md5 = f"{rng.getrandbits(128):032X}"
            url = f"http://localhost/Media('{md5}')"
            medium = {"odata.id": url, "MediaID": n + 1, "Category": rng.choice([0, 1, 2, 3, 4]),
                      "MD5": md5, "SHA1": f"{rng.getrandbits(160):040X}",
                      "MediaSize": rng.randrange(10**6), "VictimIdentified": False,
                      "MediaFiles@odata.navigationLinkUrl": url + "/MediaFiles",
                      "MediaFiles": [{"odata.id": f"http://localhost/MediaFiles({n + 1})",
                                      "MD5": md5, "FileName": f"IMG_{n}.JPG"}],
                      "Exifs@odata.navigationLinkUrl": url + "/Exifs", "Exifs": []}  # fmt: skip
            out.write(("" if n % per_case == 0 else ",") + json.dumps(medium) + "\n")
        out.write("]}]}\n")


def _fill(medium: dict[str, object], rng: random.Random, n: int) -> None:
    """The rest of the fields a medium of an examiner's export has."""
    md5 = medium["MD5"]
    medium.update({
        "PhotoDNA": base64.b64encode(rng.randbytes(144)).decode(),
        "IsDistributed": rng.random() < 0.5, "VictimIdentified": False,
        "OffenderIdentified": False, "Series": "", "MimeType": "image/jpeg",
        "DateUpdated": "2021-05-06T07:08:09.123+00:00",
        "MediaFiles": [
            {"MD5": md5, "FileName": f"IMG_{n:06d}.JPG",
             "FilePath": f"\\Users\\Public\\Pictures\\{rng.getrandbits(24):06x}\\IMG_{n:06d}.JPG",
             "Created": "2019-03-04T10:11:12Z", "Written": "2019-03-04T10:11:12Z",
             "Accessed": "2020-01-01T00:00:00Z", "Unallocated": False, "SourceID": "E01-1",
             "PhysicalLocation": rng.getrandbits(36)}
            for _ in range(rng.choice([1, 1, 2]))
        ],
        "AlternativeHashes": [
            {"MD5": md5, "HashName": "SHA256", "HashValue": f"{rng.getrandbits(256):064x}"}
        ],
    })  # fmt: skip


def write_rdsv3(path: Path, rows: int, seed: int) -> None:
    """An NSRL RDSv3-shaped database: a FILE table of ``rows`` rows (upper-case hex, file
    names, as NIST writes them), PKG and VERSION."""
    path.unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR, "
        "file_name VARCHAR, file_size INTEGER, package_id INTEGER);"
        "CREATE TABLE PKG (package_id INTEGER, name VARCHAR);"
        "CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP, "
        "release_date TIMESTAMP, description VARCHAR);"
        "INSERT INTO VERSION VALUES ('2025.06.1', 'modern', '', '', 'benchmark');"
    )
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        raw = rng.integers(0, 256, size=(n, 68), dtype=np.uint8)
        hexed = [bytes(r).hex().upper() for r in raw]
        db.executemany(
            "INSERT INTO FILE VALUES (?, ?, ?, 'C0FFEE00', ?, 4096, ?)",
            ((h[:64], h[64:104], h[104:136], f"file{start + i}.dll", i % 977)
             for i, h in enumerate(hexed)),
        )  # fmt: skip
    db.commit()
    db.close()


def write_rds2(path: Path, lines: int, seed: int, stray_every: int = 0) -> None:
    """An NSRL RDS 2.x ``NSRLFile.txt``: quoted CSV, upper-case hex, CRLF; with
    ``stray_every``, a stray quote in one name in that many (``"fi"le7.dll"``: the
    field runs on as far as ``csv`` reads it)."""
    rng = random.Random(seed)
    header = (
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
    )
    with path.open("w", encoding="latin-1", newline="") as out:
        out.write(header + "\r\n")
        for n in range(lines):
            name = f'"fi"le{n}.dll"' if stray_every and n % stray_every == 5 else f'"file{n}.dll"'
            out.write(f'"{rng.getrandbits(160):040X}","{rng.getrandbits(128):032X}","C0FFEE00",'
                      f'{name},4096,{n % 977},"358",""\r\n')  # fmt: skip


#: How long the disk is left to finish writing a file before it is read from the disk.
SETTLE_SECONDS = 5.0


def evict(path: Path) -> None:
    """Drop the file's pages from the page cache (written back already: ``os.sync``), so
    that an import reads it from the disk, as a file that arrives from other media. (The
    VM keeps well under 1 GB of files cached: whether a file just written was still
    there decided how fast its import was, 1.2 or 1.7 s for the same VICS file.)"""
    if hasattr(os, "posix_fadvise"):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def warm(path: Path) -> None:
    """Read the file into the page cache (a VICS import drops the pages it read: an
    import timed after another would read the file from the disk)."""
    with path.open("rb") as stream:
        while stream.read(16 << 20):
            pass


def child_import(
    store: Path,
    path: Path,
    fmt: str,
    keep: bool = False,
    skip_invalid: bool = False,
    cached: bool = False,
) -> tuple[float, float]:
    """Import in a child process: (seconds, peak RSS in MB of the child plus, when it
    forks workers (VICS, CSV), the largest of them). The file is read from the disk
    (``evict``) unless ``cached``. The store is removed unless ``keep``."""
    code = (
        "import resource, sys, time; from pathlib import Path\n"
        "import hashmatch.cli  # (the command's environment: one OpenBLAS thread)\n"
        "from hashmatch.hashsets import HashSetStore\n"
        "s = HashSetStore(Path(sys.argv[1])); t = time.perf_counter()\n"
        "s.import_file(Path(sys.argv[2]), format_name=sys.argv[3], "
        "skip_invalid=sys.argv[4] == 'skip'); "
        "print(time.perf_counter() - t)\n"
        # VmHWM belongs to the child's own address space (ru_maxrss would count the
        # parent's pages the child had between fork and exec).
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    skip = "skip" if skip_invalid else "stop"
    os.sync()  # (the file was just written: its writeback would be timed with the import)
    if cached:
        warm(path)
    else:
        # The VM's disk goes on writing a file for seconds after sync returns: reading
        # it meanwhile, a 352 MB VICS set took 1.20-1.26 s to import, after 8 s 0.93 s
        # (and the same in runs with fewer files written before, 2026-12-03). A set to
        # import has arrived before: its import is timed once the disk is idle.
        time.sleep(SETTLE_SECONDS)
        evict(path)
    done = subprocess.run([sys.executable, "-c", code, str(store), str(path), fmt, skip],
                          check=True, capture_output=True, text=True)  # fmt: skip
    seconds, peak_kb, worker_kb = done.stdout.split()
    if not keep:
        shutil.rmtree(store)
    return float(seconds), (int(peak_kb) + int(worker_kb)) / 1024


def vics_import(
    work: Path, vics: Path, media: int, what: str, timed_with: str = "", skip: bool = False
) -> None:
    """Import one VICS variant, read from the disk, then again with the file in the page
    cache, and print its line."""
    seconds, rss = child_import(work / f"store-{time.time_ns()}", vics, "vics",
                                skip_invalid=skip)  # fmt: skip
    cached, _ = child_import(work / f"store-{time.time_ns()}", vics, "vics",
                             skip_invalid=skip, cached=True)  # fmt: skip
    print(f"VICS import, {what}: {media / seconds:,.0f} media/s, "
          f"{vics.stat().st_size / seconds / 1e6:.0f} MB/s ({seconds:.2f} s{timed_with}, "
          f"peak RSS {rss:.0f} MB; the file in the page cache: {media / cached:,.0f} media/s, "
          f"{cached:.2f} s)")  # fmt: skip


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--media", type=int, default=300_000)
    parser.add_argument("--nsrl-rows", type=int, default=1_000_000)
    parser.add_argument("--set-size", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-sets")
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)

    listing = work / "list.md5"
    write_md5sum(listing, args.lines, 1)
    baseline = timed(lambda: {line.split()[0] for line in listing.open()})
    seconds, rss = child_import(work / f"store-{time.time_ns()}", listing, "md5sum")
    # (Read from the disk, then from the page cache: both are given, here, for the PDQ
    # list and for VICS.)
    again, _ = child_import(work / f"store-{time.time_ns()}", listing, "md5sum", cached=True)
    print(f"md5sum import: {args.lines / seconds:,.0f} hashes/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB; the file in the page cache: {args.lines / again:,.0f}/s, "
          f"{again:.2f} s); "
          f"reading into a Python set: {args.lines / baseline:,.0f}/s; "
          f"ratio {baseline / seconds:.2f}")  # fmt: skip

    write_half_invalid(listing, args.lines, 8, "md5sum")
    seconds, rss = child_import(work / f"store-{time.time_ns()}", listing, "md5sum",
                                skip_invalid=True)  # fmt: skip
    print(f"md5sum import, every other line invalid (skipped): {args.lines / seconds:,.0f} "
          f"lines/s ({seconds:.2f} s, peak RSS {rss:.0f} MB)")  # fmt: skip
    write_half_invalid(listing, args.lines, 8, "csv")
    seconds, rss = child_import(work / f"store-{time.time_ns()}", listing, "csv",
                                skip_invalid=True)  # fmt: skip
    print(f"generic CSV import, every other line invalid (skipped): {args.lines / seconds:,.0f} "
          f"lines/s ({seconds:.2f} s, peak RSS {rss:.0f} MB with a worker's)")  # fmt: skip

    pdq = work / "list.pdq"
    write_pdq_list(pdq, args.lines, 7)
    seconds, rss = child_import(work / f"store-{time.time_ns()}", pdq, "pdq")
    again, _ = child_import(work / f"store-{time.time_ns()}", pdq, "pdq", cached=True)
    print(f"PDQ list import, {args.lines:,} lines with a quality and a name: "
          f"{args.lines / seconds:,.0f} hashes/s ({seconds:.2f} s, peak RSS {rss:.0f} MB, "
          "with the near index of the values of quality 50 or more; the file in the page cache: "
          f"{args.lines / again:,.0f}/s, {again:.2f} s)")  # fmt: skip
    pdq.unlink()

    vics = work / "set.json"
    write_vics(vics, args.media, 2)
    baseline = timed(lambda: json.loads(vics.read_bytes()))
    seconds, rss = child_import(work / f"store-{time.time_ns()}", vics, "vics")
    print(f"VICS import: {args.media / seconds:,.0f} media/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB, file {vics.stat().st_size / 1e6:.0f} MB); json.load of the whole "
          f"file: {baseline:.2f} s")  # fmt: skip
    vics.write_bytes(vics.read_bytes().decode("utf-8").encode("utf-16"))
    vics_import(work, vics, args.media, "the same file in UTF-16 (as older exporters write it)")
    write_vics(vics, args.media, 2, accented=True)
    vics_import(work, vics, args.media, "file names with an accent written as \\u escapes")
    write_vics(vics, args.media, 2, case=True)
    vics_import(work, vics, args.media, "the same media in one case")
    write_vics(vics, args.media, 2, case=True, cases=30)
    vics_import(
        work, vics, args.media, "the same media in 30 cases with CaseMetadata and Identifiers"
    )
    write_vics(vics, args.media, 2, case=True, cases=args.media // 5)
    vics_import(work, vics, args.media, "the same media in cases of 5, each with the arrays")
    write_vics(vics, args.media, 2, alternatives=True)
    vics_import(
        work, vics, args.media, "each medium with a SHA-256 and a PDQ", " with the PDQ near index"
    )
    write_vics(vics, args.media, 2, full=True)
    vics_import(work, vics, args.media, "media of about 1.2 KB, with every field of an export")
    write_vics(vics, args.media, 2, half_invalid=True)
    vics_import(work, vics, args.media, "every other medium invalid (skipped)", skip=True)
    write_vics_odata(vics, args.media, 2, 30)
    vics_import(work, vics, args.media, "VICS 1.3 in 30 cases, OData annotations everywhere")
    vics.unlink()

    rds = work / "rds.db"
    write_rdsv3(rds, args.nsrl_rows, 5)
    seconds, rss = child_import(work / f"store-{time.time_ns()}", rds, "nsrl-rdsv3")
    print(f"NSRL RDSv3 import, FILE of {args.nsrl_rows:,} rows: "
          f"{3 * args.nsrl_rows / seconds:,.0f} hashes/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB, file {rds.stat().st_size / 1e6:.0f} MB)")  # fmt: skip
    rds.unlink()
    rds2 = work / "NSRLFile.txt"
    write_rds2(rds2, args.nsrl_rows, 6)
    seconds, rss = child_import(work / f"store-{time.time_ns()}", rds2, "nsrl-rds2")
    print(f"NSRL RDS 2.x import, {args.nsrl_rows:,} lines: "
          f"{2 * args.nsrl_rows / seconds:,.0f} hashes/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB)")  # fmt: skip
    write_rds2(rds2, args.nsrl_rows, 6, stray_every=100)
    seconds, rss = child_import(work / f"store-{time.time_ns()}", rds2, "nsrl-rds2",
                                skip_invalid=True)  # fmt: skip
    print(f"NSRL RDS 2.x import, a stray quote in one name in a hundred: "
          f"{args.nsrl_rows / seconds:,.0f} lines/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB)")  # fmt: skip
    rds2.unlink()

    big = work / f"big-{args.set_size}.txt"
    present, table = write_bare_md5(big, args.set_size, 3, args.queries // 100)
    store_dir = work / f"store-big-{time.time_ns()}"
    seconds, rss = child_import(store_dir, big, "md5", keep=True)
    big.unlink()
    print(f"{args.set_size:,}-entry set imported in {seconds:.1f} s "
          f"({args.set_size / seconds:,.0f} hashes/s, peak RSS {rss:.0f} MB)")  # fmt: skip
    rng = random.Random(4)
    queries = present + [rng.getrandbits(128).to_bytes(16, "big") for _ in
                         range(args.queries - len(present))]  # fmt: skip
    rng.shuffle(queries)
    with HashSetStore(store_dir) as store:
        info = store.list_sets()[0]
        found: dict[bytes, object] = {}
        ours = timed(lambda: found.update(store.lookup(info, "md5", queries)))
    line = (f"lookup of {args.queries:,} MD5s in {args.set_size:,}: {ours:.2f} s through the "
            f"store ({len(found):,} found, {len(present):,} expected)")  # fmt: skip
    if table:
        baseline = timed(lambda: [q for q in queries if q in table])
        line += f"; Python set (all in RAM): {baseline:.2f} s"
    print(line)
    shutil.rmtree(store_dir)


if __name__ == "__main__":
    main()
