"""Import speed of the hash-set formats forensic suites write, against a plain-Python
baseline measured in the same run.

    python benchmarks/bench_suite_formats.py [--rows 1000000] [--workdir DIR]

For each format a file of ``--rows`` entries is written the way its tool writes it and
imported through the store in a child process (its peak RSS is reported):

- HashKeeper ``.hsh``: the 12-column quoted CSV, upper-case hex, CRLF;
- TSK ``.idx``: ``md5|offset`` lines, sorted, after hfind's two header lines;
- EnCase ``.hash``: the binary header, then 18-byte records;
- TSK/Autopsy ``.kdb``: the SQLite schema TSK creates, a file name per hash;
- hashdeep: ``size,md5,sha256,filename`` lines (two hashes a line);
- generic CSV: a header ``md5,sha1,name`` (two hashes a row).

Baseline, for the text formats: splitting every line and putting the MD5 into a Python
set (the least any importer must do); the ratio is baseline time over import time.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_hashsets import child_import

HASHKEEPER_HEADER = (
    '"file_id","hashset_id","file_name","directory","hash","file_size","date_modified",'
    '"time_modified","time_zone","comments","date_accessed","time_accessed"'
)
PIECE = 100_000


def _hexes(rng: np.random.Generator, count: int, width: int, upper: bool = False) -> list[str]:
    raw = rng.integers(0, 256, size=(count, width), dtype=np.uint8)
    return [bytes(r).hex().upper() if upper else bytes(r).hex() for r in raw]


def write_hashkeeper(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as out:
        out.write(HASHKEEPER_HEADER + "\r\n")
        for start in range(0, rows, PIECE):
            hexes = _hexes(rng, min(PIECE, rows - start), 16, upper=True)
            out.write("".join(
                f'{start + i},5,"IMG{start + i}.JPG","C:\\PICS\\{(start + i) % 97}","{h}",'
                f'20480,7/1/03 0:00:00,7/1/03 0:00:00,"EST",,,\r\n' for i, h in enumerate(hexes)
            ))  # fmt: skip


def write_idx(path: Path, rows: int, seed: int) -> None:
    hexes = sorted(_hexes(np.random.default_rng(seed), rows, 16))
    with path.open("w") as out:
        out.write(f"{'0' * 41}|nsrl\n{'0' * 40}1|NSRL benchmark\n")
        for start in range(0, rows, PIECE):
            out.write("".join(f"{h}|{(start + i) * 160:016d}\n"
                              for i, h in enumerate(hexes[start : start + PIECE])))  # fmt: skip


def write_encase(path: Path, rows: int, seed: int) -> None:
    head = bytearray(0x480)
    head[:8] = b"HASH\r\n\xff\x00"
    head[8:20] = (2).to_bytes(4, "little") + (1).to_bytes(4, "little") + rows.to_bytes(4, "little")
    for at, text in ((0x408, "Benchmark"), (0x458, "Notable")):
        head[at : at + 2 * len(text)] = text.encode("utf-16-le")
    records = np.zeros((rows, 18), np.uint8)
    records[:, :16] = np.random.default_rng(seed).integers(0, 256, (rows, 16), dtype=np.uint8)
    path.write_bytes(bytes(head) + records.tobytes())


def write_kdb(path: Path, rows: int, seed: int) -> None:
    path.unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE db_properties (name TEXT NOT NULL, value TEXT);"
            "CREATE TABLE hashes (id INTEGER PRIMARY KEY AUTOINCREMENT, md5 BINARY(16) UNIQUE,"
            " sha1 BINARY(20), sha2_256 BINARY(32));"
            "CREATE TABLE file_names (name TEXT NOT NULL, hash_id INTEGER NOT NULL,"
            " PRIMARY KEY(name, hash_id));"
            "CREATE TABLE comments (comment TEXT NOT NULL, hash_id INTEGER NOT NULL,"
            " PRIMARY KEY(comment, hash_id));"
            "CREATE INDEX md5_index ON hashes(md5);"
            "INSERT INTO db_properties VALUES ('Schema Version', '1');"
        )
        for start in range(0, rows, PIECE):
            raw = rng.integers(0, 256, size=(min(PIECE, rows - start), 16), dtype=np.uint8)
            db.executemany("INSERT INTO hashes (id, md5) VALUES (?, ?)",
                           ((start + i + 1, bytes(r)) for i, r in enumerate(raw)))  # fmt: skip
            names = ((f"file{start + i}.dll", start + i + 1) for i in range(len(raw)))
            db.executemany("INSERT INTO file_names VALUES (?, ?)", names)
    db.close()


def write_hashdeep(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        out.write("%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n"
                  "## Invoked from: /cases/42\n## $ hashdeep -r evidence\n##\n")  # fmt: skip
        for start in range(0, rows, PIECE):
            count = min(PIECE, rows - start)
            pairs = zip(_hexes(rng, count, 16), _hexes(rng, count, 32), strict=True)
            out.write("".join(f"{4096 + i},{m},{s},/cases/42/evidence/img{start + i}.jpg\n"
                              for i, (m, s) in enumerate(pairs)))  # fmt: skip


def write_csv(path: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        out.write("md5,sha1,name\n")
        for start in range(0, rows, PIECE):
            count = min(PIECE, rows - start)
            pairs = zip(_hexes(rng, count, 16), _hexes(rng, count, 20), strict=True)
            out.write("".join(f"{m},{s},img{start + i}.jpg\n" for i, (m, s) in enumerate(pairs)))


Writer = Callable[[Path, int, int], None]
Split = Callable[[str], str]


def field(separator: str, index: int) -> Split:
    """A line's ``index``-th field (empty when it has fewer: headers, comments)."""
    return lambda line: (line.split(separator) + [""] * (index + 1))[index]


def baseline(path: Path, split: Split) -> float:
    """Seconds to split every line and keep its MD5 in a Python set."""
    start = time.perf_counter()
    with path.open(encoding="utf-8", errors="replace") as lines:
        {split(line) for line in lines}
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-suites")
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    rows = args.rows
    cases: list[tuple[str, str, Writer, int, Split | None]] = [
        ("HashKeeper .hsh", "hashkeeper", write_hashkeeper, 1, field(",", 4)),
        ("TSK .idx", "tsk-idx", write_idx, 1, field("|", 0)),
        ("EnCase .hash", "encase", write_encase, 1, None),
        ("TSK .kdb", "tsk-kdb", write_kdb, 1, None),
        ("hashdeep, size,md5,sha256,filename", "hashdeep", write_hashdeep, 2, field(",", 1)),
        ("generic CSV, md5,sha1,name", "csv", write_csv, 2, field(",", 0)),
    ]
    for what, fmt, write, hashes, split in cases:
        path = work / f"set.{fmt}"
        write(path, rows, 11)
        seconds, rss = child_import(work / f"store-{time.time_ns()}", path, fmt)
        size = path.stat().st_size / 1e6
        line = (f"{what}: {rows:,} entries, {hashes * rows / seconds:,.0f} hashes/s "
                f"({seconds:.2f} s, peak RSS {rss:.0f} MB, file {size:.0f} MB)")  # fmt: skip
        if split is not None:
            base = baseline(path, split)
            line += f"; splitting into a Python set: {base:.2f} s, ratio {base / seconds:.2f}"
        print(line, flush=True)
        path.unlink()


if __name__ == "__main__":
    main()
