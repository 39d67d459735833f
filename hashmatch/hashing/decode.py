"""Safe image decoding: recognise an image by its content and prepare it once for hashing.

``sniff_image_format`` decides from a file's first bytes whether it is an image at all
(never from its name). ``prepare_image`` decodes it once into the canonical form every
perceptual algorithm reads:

* JPEGs decode at reduced scale with Pillow's ``draft()`` (1/2, 1/4 or 1/8), never below
  ``DRAFT_TARGET`` pixels on a side; docs/hashing.md measures what that costs in distance;
* the pixel count is checked *before* any pixel is decoded (``max_pixels``), so a
  decompression bomb is refused without allocating it;
* HEIC/HEIF (iPhone photos) decode when the optional ``pillow-heif`` is installed
  (``hashmatch[heic]``); without it such a file gets a decode error that says so. AVIF
  is Pillow's own;
* EXIF orientation is applied; multi-frame files (animated GIF, multi-page TIFF) give
  their first frame, with a note;
* transparency is composited onto a fixed white background; palette, 1-bit, 16-bit,
  32-bit, float, CMYK and other modes become 8-bit RGB by explicit rules;
* ``rgb`` keeps the aspect ratio and is shrunk to fit ``WORKING_SIZE`` (for thumbnails
  and crop checks); ``square`` is ``rgb`` resampled to ``SQUARE_SIZE`` x ``SQUARE_SIZE``
  with Lanczos, the one input of every perceptual hash. Every perceptual hash squashes
  the image to a square anyway; doing it once at a fixed resolution makes a resized
  copy hash like its original (docs/hashing.md has the measurements).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Short side the JPEG draft decode keeps at least (PDQ works on about 512 px).
DRAFT_TARGET = 512
#: ``PreparedImage.rgb`` fits in this square (aspect ratio kept).
WORKING_SIZE = 1024
#: Side of ``PreparedImage.square``, the input of every perceptual hash.
SQUARE_SIZE = 512
#: Default ceiling on decoded pixels; larger images are refused before decoding.
DEFAULT_MAX_PIXELS = 150_000_000
#: Background that transparent pixels are composited onto.
BACKGROUND = (255, 255, 255)

IMAGE_EXTENSIONS = frozenset(
    {
        *(".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".tif", ".tiff"),
        *(".webp", ".heic", ".heif", ".avif", ".jp2", ".j2k", ".jpf", ".jpx", ".psd", ".ico"),
        *(".tga", ".pcx", ".ppm", ".pgm", ".pbm"),
    }
)

_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def _register_heif() -> bool:
    """Teach Pillow HEIC/HEIF through pillow-heif, if it is installed."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


#: Whether HEIC/HEIF images can be decoded here (the optional pillow-heif is installed).
HEIF_SUPPORTED = _register_heif()


class DecodeError(Exception):
    """An image that cannot be decoded; the message says why, for the report."""


@dataclass(frozen=True, eq=False)
class PreparedImage:
    """One decoded image: ``rgb`` (aspect kept) and ``square`` (what the hashes read)."""

    rgb: Image.Image
    square: Image.Image
    format: str
    width: int
    height: int
    frames: int = 1
    notes: tuple[str, ...] = field(default=())


def sniff_image_format(head: bytes) -> str | None:
    """Name the image format that ``head`` (the first bytes of a file) starts with."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "JPEG2000"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "HEIF"
    if head[4:8] == b"ftyp" and head[8:12] in (b"avif", b"avis"):
        return "AVIF"
    if head.startswith(b"8BPS"):
        return "PSD"
    return None


def has_image_extension(name: str) -> bool:
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in IMAGE_EXTENSIONS


@contextmanager
def _own_pixel_limit() -> Iterator[None]:
    """Replace Pillow's global bomb check by ours for the duration of one decode."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def prepare_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> PreparedImage:
    """Decode ``data`` once and return the canonical image, or raise ``DecodeError``."""
    if not data:
        raise DecodeError("empty file")
    try:
        with _own_pixel_limit():
            return _prepare(data, max_pixels)
    except DecodeError:
        raise
    except UnidentifiedImageError as exc:
        if sniff_image_format(data[:16]) == "HEIF" and not HEIF_SUPPORTED:
            raise DecodeError(
                "HEIC/HEIF image: decoding it needs the optional pillow-heif package "
                "(pip install 'hashmatch[heic]')"
            ) from exc
        raise DecodeError("not a decodable image (Pillow cannot identify it)") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Pillow reports damaged data with all of these; none of them is our bug.
        raise DecodeError(f"damaged image data: {exc}") from exc
    except (MemoryError, Image.DecompressionBombError) as exc:
        raise DecodeError(f"image too large to decode safely: {exc}") from exc


def _prepare(data: bytes, max_pixels: int) -> PreparedImage:
    image: Image.Image = Image.open(io.BytesIO(data))
    fmt = image.format or "unknown"
    width, height = image.size
    notes: list[str] = []
    frames = int(getattr(image, "n_frames", 1) or 1)
    if frames > 1:
        notes.append(f"{frames} frames: perceptual hashes are of the first frame only")
    if width <= 0 or height <= 0:
        raise DecodeError(f"image has no pixels ({width}x{height})")
    if fmt == "JPEG" and min(width, height) > 2 * DRAFT_TARGET:
        scale = min(width, height) / DRAFT_TARGET
        image.draft("RGB", (max(1, int(width / scale)), max(1, int(height / scale))))
    decoded_w, decoded_h = image.size
    if decoded_w * decoded_h > max_pixels:
        raise DecodeError(
            f"image of {width}x{height} pixels exceeds the decode limit of {max_pixels} pixels"
        )
    image.load()
    image = _apply_orientation(image)
    rgb = _to_rgb(image)
    if max(rgb.size) > WORKING_SIZE:
        rgb.thumbnail((WORKING_SIZE, WORKING_SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    square = rgb.resize((SQUARE_SIZE, SQUARE_SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return PreparedImage(rgb, square, fmt, width, height, frames, tuple(notes))


def _apply_orientation(image: Image.Image) -> Image.Image:
    try:
        transposed = ImageOps.exif_transpose(image)
    except (OSError, ValueError, TypeError, KeyError, SyntaxError):
        return image  # a damaged EXIF block must not cost us the picture
    return transposed if transposed is not None else image


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode == "P":
        image = image.convert("RGBA") if "transparency" in image.info else image.convert("RGB")
        mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return Image.fromarray(_scale_to_8bit(np.asarray(image), mode), "L").convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")  # L, 1, CMYK, YCbCr, LAB, HSV


def _scale_to_8bit(pixels: np.ndarray, mode: str) -> np.ndarray:
    values = pixels.astype(np.float64)
    if mode.startswith("I;16"):
        top = 65535.0
    else:  # 32-bit integer or float: stretch the range that is actually used
        low = float(values.min()) if values.size else 0.0
        values = values - low
        top = float(values.max()) if values.size else 0.0
    if top <= 0:
        return np.zeros(pixels.shape, dtype=np.uint8)
    return np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
