"""How far hashmatch's reduced-scale decode moves the perceptual hashes.

    python benchmarks/decode_fidelity.py [--files 20] [--workdir DIR]

For 12-megapixel JPEGs, compares hashmatch's values (draft decode, 512x512 square)
with (a) the same pipeline on a full decode, and (b) what other tools compute on the
full image: python-threatexchange style ``pdqhash.compute`` and plain ``imagehash``.
Prints mean / max Hamming distance per algorithm (docs/hashing.md records them).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from common import make_photos

from hashmatch.hashing import get_algorithm
from hashmatch.hashing.decode import prepare_image
from hashmatch.hashing.perceptual import bits_to_hex

ALGORITHMS = ("pdq", "phash", "dhash", "ahash", "whash")
PLAIN = {
    "pdq": lambda im: bits_to_hex(pdqhash.compute(np.asarray(im))[0]),
    "phash": lambda im: str(imagehash.phash(im)),
    "dhash": lambda im: str(imagehash.dhash(im)),
    "ahash": lambda im: str(imagehash.average_hash(im)),
    "whash": lambda im: str(imagehash.whash(im)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "hm-bench")
    args = parser.parse_args()
    photos = make_photos(args.workdir / "photos", args.files)
    vs_full: dict[str, list[int]] = {a: [] for a in ALGORITHMS}
    vs_plain: dict[str, list[int]] = {a: [] for a in ALGORITHMS}
    for path in photos:
        data = path.read_bytes()
        drafted = prepare_image(data)
        full_image = Image.open(io.BytesIO(data)).convert("RGB")
        png = io.BytesIO()
        full_image.save(png, "PNG", compress_level=0)
        undrafted = prepare_image(png.getvalue(), max_pixels=10**9)
        for name in ALGORITHMS:
            algorithm = get_algorithm(name)
            ours = algorithm.compute(drafted).hex  # type: ignore[attr-defined]
            full = algorithm.compute(undrafted).hex  # type: ignore[attr-defined]
            vs_full[name].append(algorithm.distance(ours, full))
            vs_plain[name].append(algorithm.distance(ours, PLAIN[name](full_image)))
    print(f"{len(photos)} JPEGs of 4000x3000 (draft decode at 1/4 scale: 1000x750)")
    header = f"{'algorithm':<8} {'bits':>4}  {'vs full decode':>16}"
    print(f"{header}  {'vs plain tool on full image':>28}")
    for name in ALGORITHMS:
        bits = get_algorithm(name).bits
        f, p = np.array(vs_full[name]), np.array(vs_plain[name])
        full_col = f"{f.mean():.1f} / {f.max()}"
        plain_col = f"{p.mean():.1f} / {p.max()}"
        print(f"{name:<8} {bits:>4}  {full_col:>16}  {plain_col:>28}")
    print("(mean / max Hamming distance)")


if __name__ == "__main__":
    main()
