"""Synthetic, photo-like test scenes: deterministic, varied, and free of any real content.

Used for the bundled demo evidence, the tests and the default reference set of
``hashmatch bench``. Each seed gives a different picture: a multi-octave colour field
(like sky, ground, foliage), a lighting gradient, a few dozen shapes with soft edges,
and fine grain. Unrelated seeds are as far apart under the perceptual hashes as
unrelated photographs are, which is what threshold calibration needs.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def _value_noise(rng: np.random.Generator, height: int, width: int, octaves: int) -> np.ndarray:
    field = np.zeros((height, width), dtype=np.float64)
    amplitude = 1.0
    for octave in range(octaves):
        cells = 2 ** (octave + 1)
        grid = rng.random((cells + 1, cells + 1))
        layer = Image.fromarray((grid * 255).astype(np.uint8)).resize(
            (width, height), Image.Resampling.BICUBIC
        )
        field += amplitude * (np.asarray(layer, dtype=np.float64) / 255.0)
        amplitude *= 0.55
    field -= field.min()
    top = field.max()
    return field / top if top > 0 else field


def scene(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """One synthetic RGB picture for ``seed``."""
    rng = np.random.default_rng(seed)
    base = _value_noise(rng, height, width, octaves=int(rng.integers(3, 6)))
    palette = rng.random((2, 3)) * 255
    pixels = base[..., None] * palette[0] + (1 - base[..., None]) * palette[1]
    angle = rng.random() * 2 * np.pi
    ys, xs = np.mgrid[0:height, 0:width]
    light = (np.cos(angle) * xs / width + np.sin(angle) * ys / height) * rng.uniform(40, 120)
    pixels = np.clip(pixels + light[..., None] - light.mean(), 0, 255)
    image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(8, 30))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, y0 = rng.integers(-width // 4, width), rng.integers(-height // 4, height)
        w, h = rng.integers(width // 20, width // 2), rng.integers(height // 20, height // 2)
        box = (int(x0), int(y0), int(x0 + w), int(y0 + h))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse(box, fill=colour)
        elif shape == 1:
            draw.rectangle(box, fill=colour)
        else:
            points = [
                (int(rng.integers(box[0], box[2])), int(rng.integers(box[1], box[3])))
                for _ in range(int(rng.integers(3, 7)))
            ]
            draw.polygon(points, fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.5, 2.0))))
    grain = rng.normal(0, rng.uniform(2, 8), (height, width, 1))
    noisy = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255)
    return Image.fromarray(noisy.astype(np.uint8), "RGB")
