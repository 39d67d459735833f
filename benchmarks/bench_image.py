"""Scanning files inside a disk image against scanning the same files in a folder.

    python benchmarks/bench_image.py [--photos 160] [--copies 2] [--workdir DIR]

Builds a folder of 12-megapixel JPEGs (``--photos`` distinct photos, each stored
``--copies`` times under different names: about 1 GB by default), an ext4 image of that
folder (``mkfs.ext4 -d``, no root needed) and an E01 of the image (``ewfacquire -u``),
then times ``hashmatch scan`` (default algorithms, all cores) on each. Prints the
folder's time over each image's time: issue 4 wants at least 0.70. Needs e2fsprogs and
ewf-tools. docs/benchmarks-images.md records the figures.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import make_photos

from hashmatch.hashsets import HashSetStore
from hashmatch.scan import ScanOptions, scan


def build(workdir: Path, photos: int, copies: int) -> tuple[Path, Path, Path]:
    originals = make_photos(workdir / "photos", photos)
    folder = workdir / f"folder-{photos}x{copies}"
    if not folder.exists():
        for copy in range(copies):
            target = folder / f"DCIM/{100 + copy}CANON"
            target.mkdir(parents=True)
            for path in originals:
                shutil.copyfile(path, target / path.name)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    image = workdir / f"disk-{photos}x{copies}.ext4"
    if not image.exists():
        megabytes = int(size * 1.1 / 2**20) + 64
        subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(folder), str(image), f"{megabytes}M"],
                       check=True)  # fmt: skip
    ewf = image.with_suffix(".E01")
    if not ewf.exists():
        subprocess.run(["ewfacquire", "-u", "-q", "-c", "none", "-t", str(image.with_suffix("")),
                        str(image)], check=True, capture_output=True)  # fmt: skip
    return folder, image, ewf


def timed_scan(source: Path, workdir: Path, store: HashSetStore) -> float:
    case = workdir / f"case-{time.time_ns()}"
    start = time.perf_counter()
    scan(ScanOptions((source,), case, case_id="bench"), store)
    elapsed = time.perf_counter() - start
    shutil.rmtree(case)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=160)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-bench-img"
    )
    args = parser.parse_args()
    folder, image, ewf = build(args.workdir, args.photos, args.copies)
    files = args.photos * args.copies
    print(f"{files} JPEGs, image {image.stat().st_size / 1e9:.2f} GB ({image.name}, {ewf.name})")
    for path in (*folder.rglob("*.JPG"), image, ewf):  # warm the page cache for everyone
        path.read_bytes()
    with HashSetStore(args.workdir / "store") as store:
        sources = (("folder", folder), ("raw image", image), ("E01", ewf))
        times = {name: timed_scan(path, args.workdir, store) for name, path in sources}
    for name, seconds in times.items():
        print(f"{name:<10} {seconds:7.2f} s  {files / seconds:6.1f} files/s")
    for name in ("raw image", "E01"):
        print(f"{name} speed relative to the folder: {times['folder'] / times[name]:.2f}")


if __name__ == "__main__":
    main()
