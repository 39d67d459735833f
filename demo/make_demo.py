"""Make the bundled demo: a small "seized" folder and the hash sets that find things in it.

Run from the repository root:  python demo/make_demo.py

Everything is synthetic (hashmatch.bench.scenes): the four "known" pictures are scenes
1-4; demo/evidence holds an exact copy of one, changed copies of the others, unrelated
pictures, a known-good wallpaper and two broken files. hashsets/ gets the reference
lists in three real formats (md5sum, hashdeep, PDQ tool output) plus a known-good list.
The outputs are committed, so a fresh checkout can run demo/run-demo.sh at once.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

from hashmatch.bench.scenes import scene
from hashmatch.bench.transforms import TRANSFORMS, encode
from hashmatch.hashing import HashingOptions, hash_stream

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "demo" / "evidence"
HASHSETS = ROOT / "hashsets"
SIZE = (480, 360)


def main() -> None:
    shutil.rmtree(EVIDENCE, ignore_errors=True)
    EVIDENCE.mkdir(parents=True)
    HASHSETS.mkdir(exist_ok=True)
    references = {seed: encode(scene(seed, *SIZE), quality=88) for seed in (1, 2, 3, 4)}
    files = {
        "DCIM/100CANON/IMG_0001.JPG": references[1],
        "Downloads/small.jpg": TRANSFORMS["thumbnail-200"](scene(2, *SIZE)),
        "Downloads/edited.jpg": TRANSFORMS["watermark"](scene(3, *SIZE)),
        "Documents/scan.png": TRANSFORMS["greyscale"](scene(4, *SIZE)),
        "Documents/report.jpg": b"Quarterly report (a text file with a picture's name)\n",
        "Pictures/truncated.jpg": encode(scene(50, *SIZE))[:5000],
        "Pictures/wallpaper.jpg": encode(scene(90, *SIZE)),
    }
    for n, seed in enumerate(range(60, 66)):
        files[f"Pictures/holiday-{n + 1:02d}.jpg"] = encode(scene(seed, *SIZE), quality=85)
    for rel, data in files.items():
        path = EVIDENCE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    md5sum, hashdeep, pdq = [], [], []
    for seed, data in references.items():
        name = f"known-{seed:04d}.jpg"
        md5, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
        md5sum.append(f"{md5}  {name}\n")
        hashdeep.append(f"{len(data)},{md5},{sha256},/reference/{name}\n")
        value = hash_stream(io.BytesIO(data), HashingOptions(("pdq",))).get("pdq")
        assert value is not None
        pdq.append(f"{value.hex},{value.quality},{name}\n")
    (HASHSETS / "demo-known-bad.md5").write_text("".join(md5sum))
    (HASHSETS / "demo-known-bad.hashdeep").write_text(
        "%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n"
        "## Invoked from: /reference\n## $ hashdeep -c md5,sha256 -r /reference\n##\n"
        + "".join(hashdeep)
    )
    (HASHSETS / "demo-known-bad.pdq.txt").write_text("".join(pdq))
    wallpaper = hashlib.md5(files["Pictures/wallpaper.jpg"]).hexdigest()
    (HASHSETS / "demo-known-good.md5").write_text(f"{wallpaper}  wallpaper.jpg\n")


if __name__ == "__main__":
    main()
