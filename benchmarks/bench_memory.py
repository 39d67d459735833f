"""Peak memory of a scan as the number of files grows: it must stay bounded.

    python benchmarks/bench_memory.py [--files 1000000] [--baseline 10000] [--workdir DIR]

Builds a tree of small text files (1000 per folder), then runs ``hashmatch scan`` in a
child process on a tree of ``--baseline`` files and on the full tree, sampling the RSS
of the scan process and of its workers every 0.2 s. Prints the peak RSS of each run
and their ratio: with bounded memory the large run needs about what the small one
needs. Needs psutil (installed with the test extra). docs/benchmarks.md has figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

PER_FOLDER = 1000


def build_tree(root: Path, files: int) -> Path:
    marker = root / f".complete-{files}"
    if marker.exists():
        return root
    for n in range(files):
        folder = root / f"d{n // PER_FOLDER:05d}"
        if n % PER_FOLDER == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n:07d}.txt").write_bytes(b"small file %d\n" % n)
    marker.touch()
    return root


def peak_rss(command: list[str]) -> tuple[float, float, float]:
    """Run ``command``; return (seconds, peak RSS of the main process, peak of the tree) in MB."""
    start = time.perf_counter()
    process = psutil.Popen(command, stdout=subprocess.DEVNULL)
    main_peak = tree_peak = 0
    while process.poll() is None:
        try:
            main = process.memory_info().rss
            tree = main + sum(c.memory_info().rss for c in process.children(recursive=True))
        except psutil.Error:
            continue
        main_peak, tree_peak = max(main_peak, main), max(tree_peak, tree)
        time.sleep(0.2)
    if process.returncode != 0:
        raise SystemExit(f"scan failed with exit status {process.returncode}")
    return time.perf_counter() - start, main_peak / 1e6, tree_peak / 1e6


def scan(tree: Path, workdir: Path) -> tuple[float, float, float]:
    case = workdir / f"case-{time.time_ns()}"
    store = workdir / "store"
    return peak_rss([sys.executable, "-m", "hashmatch", "--store", str(store), "scan",
                     str(tree), "-o", str(case), "-q"])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-mem")
    args = parser.parse_args()
    small = build_tree(args.workdir / f"tree-{args.baseline}", args.baseline)
    print(f"building {args.files} files under {args.workdir} (once)...", flush=True)
    large = build_tree(args.workdir / f"tree-{args.files}", args.files)
    rows = []
    for label, tree, count in (("baseline", small, args.baseline), ("large", large, args.files)):
        seconds, main_mb, tree_mb = scan(tree, args.workdir)
        rows.append((main_mb, tree_mb))
        rate = count / seconds
        print(f"{label:<9} {count:>9} files {seconds:8.1f} s {rate:7.0f} files/s  peak RSS: "
              f"scan process {main_mb:5.0f} MB, with workers {tree_mb:5.0f} MB")  # fmt: skip
    print(f"peak RSS large / baseline: scan process {rows[1][0] / rows[0][0]:.2f}, "
          f"with workers {rows[1][1] / rows[0][1]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
