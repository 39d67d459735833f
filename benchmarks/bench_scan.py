"""hashmatch scan against the plain loop a script would write, on 12-megapixel JPEGs.

    python benchmarks/bench_scan.py [--files 48] [--jobs 0] [--repeat 3] [--workdir DIR]

Baseline (same run, same files): for each file, hashlib MD5+SHA-1+SHA-256 over its bytes,
a full Pillow decode, ``imagehash.phash`` and ``pdqhash.compute`` on the full image.
hashmatch: ``scan`` with its default algorithms (md5, sha1, sha256, pdq, phash) and
``--jobs`` workers, writing a complete case. Also timed: Pillow alone decoding the same
files at the draft scale hashmatch uses (one process), and the same scan with
``--jobs 1``. Every contender but the plain loop runs ``--repeat`` times and the fastest
run counts (as ``timeit`` does: slower runs measure the machine's other tenants, not the
code); the plain loop runs once, which can only make the speed-up look smaller. Prints
seconds and ratios; docs/benchmarks.md records the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from common import make_photos

from hashmatch.hashing import DEFAULT_ALGORITHMS, HashingOptions, hash_stream
from hashmatch.hashing.decode import DRAFT_TARGET
from hashmatch.hashsets import HashSetStore
from hashmatch.pipeline import default_jobs
from hashmatch.scan import ScanOptions, scan


def plain_loop(paths: list[Path]) -> None:
    for path in paths:
        data = path.read_bytes()
        for name in ("md5", "sha1", "sha256"):
            hashlib.new(name, data).hexdigest()
        image = Image.open(io.BytesIO(data)).convert("RGB")
        str(imagehash.phash(image))
        pdqhash.compute(np.asarray(image))


def draft_decode_only(paths: list[Path]) -> None:
    for path in paths:
        image = Image.open(path)
        w, h = image.size
        scale = min(w, h) / DRAFT_TARGET
        image.draft("RGB", (int(w / scale), int(h / scale)))
        image.load()


def _hash_files(paths: list[Path]) -> None:
    options = HashingOptions(DEFAULT_ALGORITHMS)
    for path in paths:
        with path.open("rb") as stream:
            hash_stream(stream, options, name=path.name)


def bare_processes(paths: list[Path], jobs: int) -> None:
    """The same hashing split over ``jobs`` forked processes with no coordination at all:
    what the hardware allows (memory bandwidth and shared caches limit every core)."""
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hash_files, args=(paths[i::jobs],)) for i in range(jobs)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def timed(label: str, work: object, repeat: int = 1) -> float:
    """The fastest of ``repeat`` runs of ``work``, printed with every run's time."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    others = f"  (runs: {', '.join(f'{r:.2f}' for r in runs)})" if repeat > 1 else ""
    print(f"{label:<44} {min(runs):8.2f} s{others}")
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument("--jobs", type=int, default=0, help="0: one worker per core")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender; the best counts")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-bench")
    args = parser.parse_args()
    photos = make_photos(args.workdir / "photos", args.files)
    size = sum(p.stat().st_size for p in photos) / 1e6
    print(f"{len(photos)} JPEGs of 4000x3000, {size:.0f} MB in {args.workdir / 'photos'}")
    for path in photos:  # warm the page cache so every contender reads from memory
        path.read_bytes()
    baseline = timed("plain loop (hashlib + phash + pdq, full decode)", lambda: plain_loop(photos))
    n = max(1, args.repeat)
    decode = timed("Pillow draft decode alone (1 process)", lambda: draft_decode_only(photos), n)
    with HashSetStore(args.workdir / "store") as store:

        def run_scan(jobs: int) -> None:
            case = args.workdir / f"case-{time.time_ns()}"
            options = ScanOptions((args.workdir / "photos",), case, jobs=jobs, case_id="bench")
            scan(options, store)

        ours = timed(
            f"hashmatch scan (--jobs {args.jobs or 'all'})", lambda: run_scan(args.jobs), n
        )
        single = timed("hashmatch scan (--jobs 1)", lambda: run_scan(1), n)
    jobs = args.jobs or default_jobs()
    _hash_files(photos[:1])  # imports done before the fork, as a fair lower bound
    one = timed("hashing loop in 1 process (no scan)", lambda: _hash_files(photos), n)
    bare = timed(f"same loop over {jobs} bare processes", lambda: bare_processes(photos, jobs), n)
    print(f"speed-up over the plain loop: {baseline / ours:.1f}x")
    print(f"hashmatch time / draft decode time: {ours / decode:.2f}")
    print(f"--jobs {args.jobs or 'all'} speed-up over --jobs 1: {single / ours:.2f}x")
    print(f"hardware limit: {jobs} bare processes over 1: {one / bare:.2f}x")


if __name__ == "__main__":
    main()
