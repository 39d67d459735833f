"""Hash-set import and exact lookup at scale, against plain-Python baselines in the same run.

    python benchmarks/bench_hashsets.py [--lines 1000000] [--media 300000] [--set-size 10000000]
                                        [--queries 1000000] [--workdir DIR]

1. Import of an md5sum list of ``--lines`` lines; baseline: reading the same file into a
   Python set (the least any importer must do).
2. Import of a VICS 2.0 hash set of ``--media`` media; baseline: ``json.load`` of the file.
3. Exact lookup of ``--queries`` MD5s (1 % of them present) in a ``--set-size`` set through
   the store's index; baseline: the same lookups in a Python set of the values.
Each import runs in a child process so that its peak RSS can be reported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hashmatch.hashsets import HashSetStore


def write_md5sum(path: Path, lines: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    values = [rng.getrandbits(128).to_bytes(16, "big") for _ in range(lines)]
    with path.open("w") as out:
        for n, value in enumerate(values):
            out.write(f"{value.hex()}  file{n}.jpg\n")
    return values


def write_vics(path: Path, media: int, seed: int) -> None:
    rng = random.Random(seed)
    context = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
    with path.open("w") as out:
        out.write(json.dumps({"@odata.context": context})[:-1] + ', "value": [\n')
        for n in range(media):
            medium = {"MediaID": n + 1, "Category": rng.choice([0, 1, 2, 3, 4]),
                      "MD5": f"{rng.getrandbits(128):032X}", "SHA1": f"{rng.getrandbits(160):040x}",
                      "MediaSize": str(rng.randrange(10**6)), "IsPrecategorized": "true",
                      "MediaFiles": [{"FileName": f"IMG_{n}.JPG"}]}  # fmt: skip
            out.write(("," if n else "") + json.dumps(medium) + "\n")
        out.write("]}\n")


def child_import(store: Path, path: Path, fmt: str) -> tuple[float, float]:
    """Import in a child process: (seconds, peak RSS of the child in MB)."""
    code = (
        "import sys, time; from pathlib import Path; from hashmatch.hashsets import HashSetStore\n"
        "s = HashSetStore(Path(sys.argv[1])); t = time.perf_counter()\n"
        "s.import_file(Path(sys.argv[2]), format_name=sys.argv[3]); "
        "print(time.perf_counter() - t)\n"
        # VmHWM belongs to the child's own address space (ru_maxrss would count the
        # parent's pages the child had between fork and exec).
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(store), str(path), fmt],
                          check=True, capture_output=True, text=True)  # fmt: skip
    seconds, peak_kb = done.stdout.split()
    return float(seconds), int(peak_kb) / 1024


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--media", type=int, default=300_000)
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
    print(f"md5sum import: {args.lines / seconds:,.0f} hashes/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB); reading into a Python set: {args.lines / baseline:,.0f}/s; "
          f"ratio {baseline / seconds:.2f}")  # fmt: skip

    vics = work / "set.json"
    write_vics(vics, args.media, 2)
    baseline = timed(lambda: json.loads(vics.read_bytes()))
    seconds, rss = child_import(work / f"store-{time.time_ns()}", vics, "vics")
    print(f"VICS import: {args.media / seconds:,.0f} media/s ({seconds:.2f} s, peak RSS "
          f"{rss:.0f} MB, file {vics.stat().st_size / 1e6:.0f} MB); json.load of the whole "
          f"file: {baseline:.2f} s")  # fmt: skip

    big = work / f"big-{args.set_size}.md5"
    values = write_md5sum(big, args.set_size, 3)
    store_dir = work / f"store-big-{time.time_ns()}"
    seconds, rss = child_import(store_dir, big, "md5sum")
    print(f"{args.set_size:,}-entry set imported in {seconds:.1f} s (peak RSS {rss:.0f} MB)")
    rng = random.Random(4)
    present = rng.sample(values, args.queries // 100)
    queries = present + [rng.getrandbits(128).to_bytes(16, "big") for _ in
                         range(args.queries - len(present))]  # fmt: skip
    rng.shuffle(queries)
    with HashSetStore(store_dir) as store:
        info = store.list_sets()[0]
        found: dict[bytes, object] = {}
        ours = timed(lambda: found.update(store.lookup(info, "md5", queries)))
    table = set(values)
    baseline = timed(lambda: [q for q in queries if q in table])
    print(f"lookup of {args.queries:,} MD5s in {args.set_size:,}: {ours:.2f} s through the "
          f"store ({len(found):,} found); Python set (all in RAM): {baseline:.2f} s")  # fmt: skip
    os.remove(big)


if __name__ == "__main__":
    main()
