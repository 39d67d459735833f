"""Near-match index: multi-index hashing against numpy brute force, and a scan at scale.

    python benchmarks/bench_index.py [--pdq 1000000] [--queries 10000] [--phash 10000000]
                                     [--scan-photos 24] [--workdir DIR]

1. ``--pdq`` random 256-bit values, half of the ``--queries`` planted within 20 bits of an
   entry: queries per second at radius 31 through the multi-index and by brute force
   (same index, same queries, the answers compared).
2. ``--phash`` random 64-bit values at radius 10: build time, queries per second, peak RSS.
3. A scan of ``--scan-photos`` 12-megapixel photos against a 1,000,000-entry PDQ set and
   against a 10-entry set (the ratio of the two times).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import make_photos

from hashmatch.hashsets import Category, HashSetStore
from hashmatch.matching.near import NearIndex
from hashmatch.scan import ScanOptions, scan


def random_values(count: int, bits: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=(count, bits // 8), dtype=np.uint8)


def planted_queries(values: np.ndarray, count: int, flips: int, rng: np.random.Generator
                    ) -> list[bytes]:  # fmt: skip
    bits = values.shape[1] * 8
    out = []
    for n in range(count):
        if n % 2:
            out.append(bytes(rng.integers(0, 256, size=bits // 8, dtype=np.uint8)))
            continue
        row = np.unpackbits(values[rng.integers(len(values))])
        row[rng.choice(bits, flips, replace=False)] ^= 1
        out.append(bytes(np.packbits(row)))
    return out


def index_of(values: np.ndarray, multi_index: bool) -> tuple[NearIndex, float]:
    bits = values.shape[1] * 8
    words = values.view(">u8").astype(np.uint64)
    start = time.perf_counter()
    index = NearIndex(bits, words, np.arange(len(values)), multi_index=multi_index)
    return index, time.perf_counter() - start


def rate(
    index: NearIndex, queries: list[bytes], radius: int, batched: bool = True,
    threads: int | None = None,
) -> tuple[float, list[object]]:  # fmt: skip
    """Queries per second: all at once through ``query_many`` (how a scan asks a file's
    queries, and how a lab would check a list; ``threads`` as it takes them), or one
    ``query`` call each."""
    start = time.perf_counter()
    if batched:
        answers: list[object] = list(index.query_many(queries, radius, threads=threads))
    else:
        answers = [index.query(q, radius) for q in queries]
    return len(queries) / (time.perf_counter() - start), answers


def scan_time(
    store_dir: Path, photos: Path, pdq_lines: int, workdir: Path, repeat: int
) -> tuple[float, float]:
    """(best scan time of ``repeat``, seconds to open the set's saved near index)."""
    listing = workdir / f"pdq-{pdq_lines}.txt"
    rng = np.random.default_rng(pdq_lines)
    with listing.open("w") as out:
        for row in random_values(pdq_lines, 256, rng):
            out.write(f"{bytes(row).hex()},100\n")
    with HashSetStore(store_dir) as store:
        name = f"pdq{pdq_lines}"
        info = store.import_file(
            listing, name=name, format_name="pdq", category=Category.KNOWN_BAD
        ).info
        start = time.perf_counter()
        store.near_index(info, "pdq")
        opened = time.perf_counter() - start
        runs = []
        for _ in range(repeat):
            case = workdir / f"case-{time.time_ns()}"
            start = time.perf_counter()
            scan(ScanOptions((photos,), case, hashsets=(name,), case_id="bench"), store)
            runs.append(time.perf_counter() - start)
        return min(runs), opened


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdq", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--phash", type=int, default=10_000_000)
    parser.add_argument("--scan-photos", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3, help="scans per set; the best counts")
    parser.add_argument("--scan-only", action="store_true", help="only the scan comparison")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-index")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    if not args.scan_only:
        index_figures(args, rng)
    photos = args.workdir / "photos"
    make_photos(photos, args.scan_photos)
    small, _ = scan_time(args.workdir / f"store-{time.time_ns()}", photos, 10, args.workdir,
                         args.repeat)  # fmt: skip
    large, opened = scan_time(args.workdir / f"store-{time.time_ns()}", photos, args.pdq,
                              args.workdir, args.repeat)  # fmt: skip
    print(f"saved index of {args.pdq:,} PDQ entries opened in {opened:.3f} s")
    print(f"scan of {args.scan_photos} photos (best of {args.repeat}): {small:.2f} s against "
          f"10 PDQ entries, {large:.2f} s against {args.pdq:,}: "
          f"ratio {large / small:.2f}")  # fmt: skip


def index_figures(args: argparse.Namespace, rng: np.random.Generator) -> None:
    values = random_values(args.pdq, 256, rng)
    queries = planted_queries(values, args.queries, 20, rng)
    mih, built = index_of(values, True)
    brute, _ = index_of(values, False)
    ours, answers = rate(mih, queries, 31)
    one_thread, _ = rate(mih, queries, 31, threads=1)
    single, one_by_one = rate(mih, queries[:2000], 31, batched=False)
    assert one_by_one == answers[:2000], "batched and single queries disagree"
    sample = queries[: max(10, args.queries // 50)]
    theirs, expected = rate(brute, sample, 31)
    assert answers[: len(sample)] == expected, "multi-index and brute force disagree"
    found = sum(1 for a in answers if a)
    print(f"PDQ, {args.pdq:,} entries, radius 31: multi-index {ours:,.0f} queries/s "
          f"(built in {built:.1f} s; {found:,} of {args.queries:,} queries found an entry); "
          f"brute force {theirs:,.0f} queries/s; ratio {ours / theirs:.0f}x; "
          f"multi-index on one thread {one_thread:,.0f}/s "
          f"(ratio {one_thread / theirs:.0f}x); one query call at a time: {single:,.0f}/s"
          )  # fmt: skip
    del mih, brute, values

    values = random_values(args.phash, 64, rng)
    queries = planted_queries(values, args.queries, 6, rng)
    index, built = index_of(values, True)
    ours, answers = rate(index, queries, 10)
    assert answers[:50] == [index.query(q, 10) for q in queries[:50]]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pHash, {args.phash:,} entries, radius 10: {ours:,.0f} queries/s, built in "
          f"{built:.1f} s; peak RSS of this process so far {peak:,.0f} MB")  # fmt: skip
    del index, values


if __name__ == "__main__":
    main()
