"""Make the small committed test images in tests/data/golden and their expected hashes.

Run from the repository root:  python tests/data/make_fixtures.py [--update-golden]

Every picture is synthetic (hashmatch.bench.scenes), so nothing here has a licence or
a subject. The images are committed: the golden hashes pin what the algorithms give
on exactly these bytes, and regenerating them would only change them with Pillow.
``--update-golden`` rewrites expected.json from the current code; do it only when a
change in hash values is intended, and say why in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from hashmatch.bench.scenes import scene
from hashmatch.hashing import HashingOptions, algorithm_names, hash_stream

HERE = Path(__file__).parent / "golden"


def make_images() -> None:
    HERE.mkdir(exist_ok=True)
    scene(1, 320, 240).save(HERE / "scene.jpg", quality=90)
    scene(2, 200, 150).save(HERE / "scene.png")
    upright = scene(3, 240, 320)
    upright.save(HERE / "upright.jpg", quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    upright.transpose(Image.Transpose.ROTATE_90).save(
        HERE / "exif_rotate6.jpg", quality=95, exif=exif.tobytes()
    )
    rgba = scene(4, 200, 200).convert("RGBA")
    alpha = np.full((200, 200), 255, dtype=np.uint8)
    alpha[:, :80] = 0  # left part fully transparent
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(HERE / "alpha.png")
    grey = np.asarray(scene(5, 160, 120).convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(HERE / "grey16.png")  # uint16 gives mode I;16
    frames = [scene(6, 120, 90).convert("P"), scene(7, 120, 90).convert("P")]
    frames[0].save(HERE / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    scene(8, 160, 120).convert("CMYK").save(HERE / "cmyk.jpg", quality=92)
    Image.new("RGB", (64, 64), (128, 128, 128)).save(HERE / "flat.png")


def golden() -> dict[str, dict[str, str]]:
    options = HashingOptions(algorithm_names())
    out = {}
    for path in sorted(HERE.iterdir()):
        if path.suffix == ".json":
            continue
        with path.open("rb") as stream:
            result = hash_stream(stream, options, name=path.name)
        out[path.name] = {v.algorithm: v.hex for v in result.hashes}
        pdq = result.get("pdq")
        if pdq is not None:
            out[path.name]["pdq_quality"] = str(pdq.quality)
    return out


if __name__ == "__main__":
    if "--update-golden" in sys.argv:
        (HERE / "expected.json").write_text(json.dumps(golden(), indent=2, sort_keys=True) + "\n")
    else:
        make_images()
