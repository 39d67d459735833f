"""Material shared by the benchmark scripts: 12-megapixel photo-like JPEGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from hashmatch.bench.scenes import scene


def photo_12mp(seed: int) -> Image.Image:
    """A 4000x3000 picture with camera-like grain (so JPEG sizes look like a camera's)."""
    base = scene(seed, 1000, 750).resize((4000, 3000), Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    grain = rng.normal(0, 4, (3000, 4000, 1)).astype(np.float32)
    pixels = np.clip(np.asarray(base, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def make_photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(count):
        path = folder / f"IMG_{seed:04d}.JPG"
        if not path.exists():
            photo_12mp(seed).save(path, quality=92)
        paths.append(path)
    return paths
