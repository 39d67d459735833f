"""The transform suite: the everyday changes a known image goes through before it is found.

Each transform takes a picture and returns the bytes of the changed file, the way it
would sit on seized media. Names are constant (they appear in benchmark tables). The
suite follows the one Thorn's perception benchmark uses, so figures can be compared.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

Transform = Callable[[Image.Image], bytes]


def encode(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" and not options else options))
    return out.getvalue()


def _crop(fraction: float) -> Transform:
    def apply(image: Image.Image) -> bytes:
        w, h = image.size
        dx, dy = round(w * fraction), round(h * fraction)
        return encode(image.crop((dx, dy, w, h)))  # cut from the top and left edges

    return apply


def _pad(fraction: float) -> Transform:
    def apply(image: Image.Image) -> bytes:
        w, h = image.size
        dx, dy = round(w * fraction / 2), round(h * fraction / 2)
        canvas = Image.new("RGB", (w + 2 * dx, h + 2 * dy), (0, 0, 0))
        canvas.paste(image, (dx, dy))
        return encode(canvas)

    return apply


def _watermark(image: Image.Image) -> bytes:
    marked = image.convert("RGB")
    draw = ImageDraw.Draw(marked)
    w, h = marked.size
    draw.text((w // 20, h // 20), "SAMPLE  www.example.com", fill=(255, 255, 255))
    draw.text((w // 2, h - h // 10), "(c) 2024", fill=(255, 255, 0))
    return encode(marked)


def _noise(image: Image.Image) -> bytes:
    rng = np.random.default_rng(12345)
    pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
    noisy = np.clip(pixels + rng.normal(0, 12, pixels.shape), 0, 255).astype(np.uint8)
    return encode(Image.fromarray(noisy, "RGB"))


def _thumbnail(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail((200, 200), Image.Resampling.LANCZOS)
    return encode(small, quality=85)


TRANSFORMS: dict[str, Transform] = {
    "resize-50": lambda im: encode(im.resize((im.width // 2, im.height // 2))),
    "jpeg-q30": lambda im: encode(im, quality=30),
    "greyscale": lambda im: encode(im.convert("L")),
    "brightness": lambda im: encode(ImageEnhance.Brightness(im).enhance(1.25)),
    "watermark": _watermark,
    "thumbnail-200": _thumbnail,
    "format-png": lambda im: encode(im, "PNG"),
    "crop-3": _crop(0.03),
    "crop-5": _crop(0.05),
    "pad-10": _pad(0.10),
    "pad-20": _pad(0.20),
    "rotate-4": lambda im: encode(im.rotate(4, resample=Image.Resampling.BICUBIC, expand=True)),
    "rotate-90": lambda im: encode(im.transpose(Image.Transpose.ROTATE_90)),
    "mirror": lambda im: encode(ImageOps.mirror(im)),
    "flip": lambda im: encode(ImageOps.flip(im)),
    "blur": lambda im: encode(im.filter(ImageFilter.GaussianBlur(2))),
    "noise": _noise,
}

#: The changes every perceptual algorithm is expected to survive (the spine's near hits).
MILD = ("resize-50", "jpeg-q30", "greyscale", "brightness", "watermark", "thumbnail-200",
        "format-png", "blur")  # fmt: skip
